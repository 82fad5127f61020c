"""Helpers for the lessons: a fast mode for CI, and self-checks for the exercises.

``STYLELIB_FAST=1`` (set by pytest) shrinks image sizes and step counts; it
never skips a cell. The ``check_*`` functions are the exercises' self-checks;
tests/test_lessons.py makes sure each one accepts the right answer and
rejects a wrong one.
"""

from __future__ import annotations

import os

import torch

FAST = os.environ.get("STYLELIB_FAST") == "1"


def pick(normal, fast):
    """``normal`` in a lesson, ``fast`` under CI's fast mode."""
    return fast if FAST else normal


def report(ok: bool, right: str, wrong: str) -> bool:
    print(("✅ " + right) if ok else ("❌ " + wrong))
    return ok


def unanswered(answer) -> bool:
    if answer is None:
        print("… not answered yet: replace None with your answer and run the cell again.")
        return True
    return False


def check_value(answer, expected, name: str, hint: str, rtol: float = 1e-6) -> bool | None:
    """A number the student computed by hand."""
    if unanswered(answer):
        return None
    ok = abs(float(answer) - float(expected)) <= rtol * max(1.0, abs(float(expected)))
    return report(ok, f"{name}: {answer} is right.", f"{name}: {answer} is not right. Hint: {hint}")


def check_function(fn, reference, make_inputs, name: str, hint: str, trials: int = 3) -> bool | None:
    """A function the student wrote, compared with the library's on random inputs."""
    if unanswered(fn):
        return None
    gen = torch.Generator().manual_seed(1234)
    for _ in range(trials):
        args = make_inputs(gen)
        try:
            got, want = fn(*args), reference(*args)
            torch.testing.assert_close(torch.as_tensor(got, dtype=want.dtype), want, rtol=1e-4, atol=1e-5)
        except Exception as err:  # a wrong shape or value is the student's to fix, not a crash
            return report(False, "", f"{name} does not match the library yet ({type(err).__name__}). Hint: {hint}")
    return report(True, f"{name} matches the library on {trials} random inputs.", "")


def check_face_kept(face: float, style: float, base_face: float, base_style: float) -> bool:
    """Lesson 04: the face error at most 0.7x the default's, the style error at most 2x."""
    ok = face <= 0.7 * base_face and style <= 2 * base_style
    return report(ok, "the face is kept and the style is still there.",
                  f"face {face / base_face:.2f}x (need <= 0.7), style {style / base_style:.2f}x "
                  f"(need <= 2) of the default's.")


def check_choice(answer, expected: str, name: str, hint: str) -> bool | None:
    """One answer from a few named choices."""
    if unanswered(answer):
        return None
    ok = str(answer).strip().lower() == expected
    return report(ok, f"{name}: {answer!r} is right.", f"{name}: {answer!r} is not right. Hint: {hint}")
