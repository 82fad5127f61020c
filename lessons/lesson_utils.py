"""Helpers for the lessons: a fast mode for CI, and self-checks for the exercises.

``STYLELIB_FAST=1`` (set by pytest) shrinks image sizes and step counts; it
never skips a cell.

``check("03.3", answer)`` is every exercise's self-check. The answers are not
in the notebooks and not in this file: ``answer_key.json`` holds a hash of
each number and, for a function, its outputs on a few fixed inputs, so a
student can test an answer without being shown it. A wrong answer gets a
hint that points at the idea, and a known mistake gets its own message.
Teachers: the answers, written out, are in ``solutions/`` (``answers.py``
makes the key; ``README.md`` has worked solutions to every exercise).
tests/test_lessons.py checks that each self-check accepts the right answer
and rejects wrong ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import torch

FAST = os.environ.get("STYLELIB_FAST") == "1"
KEY_PATH = Path(__file__).with_name("answer_key.json")


def pick(normal, fast):
    """``normal`` in a lesson, ``fast`` under CI's fast mode."""
    return fast if FAST else normal


def report(ok: bool, right: str, wrong: str) -> bool:
    text = right if ok else wrong
    if text[-1] not in ".?!":
        text += "."
    print(("✅ " if ok else "❌ ") + text)
    return ok


def unanswered(answer) -> bool:
    if answer is None:
        print("… not answered yet: replace None with your answer and run the cell again.")
        return True
    return False


def canonical(answer) -> str:
    """A number to 4 significant digits (so 65536, 65536.0 and 6.5536e4 agree); a word in lower case."""
    if isinstance(answer, str):
        word = answer.strip().strip("'\"").lower()
        try:
            answer = float(word.replace(",", "").replace("_", ""))  # "65,536" is a number
        except ValueError:
            return word
    if isinstance(answer, torch.Tensor):
        answer = answer.item()
    return format(float(answer), ".4g")


def answer_hash(exercise: str, answer) -> str:
    """What the key stores for a value: salted with the exercise, so equal answers do not show."""
    return hashlib.sha256(f"{exercise}|{canonical(answer)}".encode()).hexdigest()[:16]


def tensor_to_json(t: torch.Tensor) -> dict:
    # 9 significant digits give float32 back exactly, in half the characters
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.detach().flatten().tolist()]}


def tensor_from_json(d: dict) -> torch.Tensor:
    return torch.tensor(d["data"], dtype=torch.float32).reshape(d["shape"])


def load_key() -> dict:
    return json.loads(KEY_PATH.read_text())


def check(exercise: str, answer) -> bool | None:
    """The self-check of exercise ``exercise`` (e.g. ``"03.3"``): ✅, or ❌ with a hint."""
    if unanswered(answer):
        return None
    entry = load_key()[exercise]
    if entry["kind"] == "value":
        return _check_value(exercise, entry, answer)
    return _check_function(entry, answer)


def _check_value(exercise: str, entry: dict, answer) -> bool:
    name = entry["name"]
    try:
        digest = answer_hash(exercise, answer)
    except (TypeError, ValueError):
        return report(False, "", f"{name}: give a number, not {answer!r}.")
    if digest == entry["hash"]:
        return report(True, f"{name}: {answer} is right.", "")
    if digest in entry["mistakes"]:  # a mistake we expected: say what it is
        return report(False, "", f"{name}: {answer} is not right: {entry['mistakes'][digest]}")
    return report(False, "", f"{name}: {answer} is not right. Hint: {entry['hint']}")


@contextlib.contextmanager
def _forbidden(paths: list[str]):
    """Make library shortcuts (e.g. torch's own instance norm) raise while the answer runs."""
    saved = []

    def refuse(*args, **kwargs):
        raise _Shortcut()

    for path in paths:
        *parts, attr = path.split(".")  # e.g. torch.nn.functional.instance_norm
        owner = torch
        for part in parts[1:]:
            owner = getattr(owner, part)
        saved.append((owner, attr, getattr(owner, attr)))
        setattr(owner, attr, refuse)
    try:
        yield
    finally:
        for owner, attr, fn in saved:
            setattr(owner, attr, fn)


class _Shortcut(Exception):
    pass


def _close(got, want: torch.Tensor) -> bool:
    try:
        got = torch.as_tensor(got, dtype=want.dtype)
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
        return True
    except Exception:  # a wrong shape or value is the student's to fix, not a crash
        return False


def _check_function(entry: dict, fn) -> bool | None:
    name, trials = entry["name"], entry["trials"]
    for trial in trials:
        args = [tensor_from_json(a) for a in trial["inputs"]]
        want = tensor_from_json(trial["output"])
        try:
            with _forbidden(entry.get("forbid", [])):
                got = fn(*args)
        except _Shortcut:
            return report(False, "", f"{name}: {entry['forbid_message']}")
        except Exception as err:
            return report(False, "", f"{name} raised {type(err).__name__}: {err}. Hint: {entry['hint']}")
        if got is None:  # a stub that returns nothing yet
            unanswered(None)
            return None
        if not _close(got, want):
            shape = tuple(torch.as_tensor(got).shape) if isinstance(got, torch.Tensor) else type(got).__name__
            for mistake in entry["mistakes"]:
                if _close(got, tensor_from_json(mistake["outputs"][trials.index(trial)])):
                    return report(False, "", f"{name} is not right yet: {mistake['message']}")
            return report(False, "", f"{name} does not match yet (it gave shape {shape}, expected "
                                     f"{tuple(want.shape)}). Hint: {entry['hint']}")
    return report(True, f"{name} is right on {len(trials)} test inputs.", "")


def check_face_kept(face: float, style: float, base_face: float, base_style: float) -> bool:
    """Lesson 04: the face error at most 0.7x the default's, the style error at most 2x."""
    ok = face <= 0.7 * base_face and style <= 2 * base_style
    return report(ok, "the face is kept and the style is still there.",
                  f"face {face / base_face:.2f}x (need <= 0.7), style {style / base_style:.2f}x "
                  f"(need <= 2) of the default's.")
