"""Lessons: committed without outputs, in sync with their sources, readable, and self-checks that catch mistakes
without showing their answers.

Executing every notebook top to bottom (in fast mode) is done by nbmake, as
part of the same pytest run (see pyproject.toml).
"""

import contextlib
import io
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
NOTEBOOKS = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
sys.path.insert(0, str(LESSONS))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(LESSONS / "solutions"))


def test_there_are_lessons_and_each_has_a_source():
    assert len(NOTEBOOKS) >= 9
    for nb in NOTEBOOKS:
        assert (LESSONS / "src" / f"{nb.stem}.py").exists(), nb.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_matches_its_source(path):
    from sync_lessons import notebook_for

    expected = notebook_for(LESSONS / "src" / f"{path.stem}.py")
    actual = nbformat.read(path, as_version=4)
    assert [c.source for c in actual.cells] == [c.source for c in expected.cells], (
        f"{path.name} differs from lessons/src/{path.stem}.py: run python scripts/sync_lessons.py")


FIGURE = re.compile(r"\bplots\.\w+\(|^fig$", re.M)  # a plots helper, or a Figure shown as the cell's value
SELF_CHECK = re.compile(r"\bcheck\(\"(\d\d)\.(\d+)\", (\w+)\)|\bcheck_face_kept\(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_anatomy_and_short_readable_cells(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].source.startswith("# "), "a title first"
    assert "$$" in text, "the equation, in LaTeX"
    assert re.search(r"^## Experiment", text, re.M), "an Experiment section"
    assert "## Summary" in text and "## Exercises" in text
    assert text.index("## Summary") < text.index("## Exercises")
    assert any("assert_close" in c for c in code), "a check against the stylelib function"
    assert any(FIGURE.search(c) for c in code), "a figure"
    assert sum(bool(SELF_CHECK.search(c)) for c in code) >= 2, "two self-checks at least"
    for cell in code:
        assert sum(bool(l.strip()) for l in cell.splitlines()) <= 12, f"a long cell in {path.name}:\n{cell}"
        for line in cell.splitlines():
            assert len(line) <= 79, f"{path.name}: line over 79 characters: {line}"


def exercises(path) -> list[str]:
    """The numbers of the lesson's exercises, from its Exercises list."""
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return re.findall(r"^(\d+)\. ", text[text.index("## Exercises"):], re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_self_checks_do_not_show_their_answers(path):
    """Every self-check names its exercise and its answer, nothing else: no expected value, no reference function."""
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    key = json.loads((LESSONS / "answer_key.json").read_text())
    numbers = exercises(path)
    for cell in code:
        assert not re.search(r"\bcheck_(value|function|choice)\(", cell), f"an answer in sight:\n{cell}"
        for lesson, number, _ in re.findall(r"\bcheck\(\"(\d\d)\.(\d+)\", (\w+)\)", cell):
            assert lesson == path.stem[:2] and number in numbers, f"check of another exercise:\n{cell}"
            assert f"{lesson}.{number}" in key, f"{lesson}.{number} is not in the answer key"
        if re.search(r"\bcheck\(", cell):
            assert "lambda" not in cell, f"a self-check cell shows a reference function:\n{cell}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_a_worked_solution(path):
    solutions = (LESSONS / "solutions" / "README.md").read_text()
    numbers = exercises(path)
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)], numbers
    for number in numbers:
        assert re.search(rf"^#### {path.stem[:2]}\.{number}\b", solutions, re.M), (
            f"no worked solution for {path.stem[:2]}.{number} in lessons/solutions/README.md")


def test_answer_key_matches_its_source():
    """lessons/answer_key.json is what lessons/solutions/answers.py makes (run it after editing)."""
    from answers import EXERCISES, Function, key_entry
    from lesson_utils import tensor_from_json

    key = json.loads((LESSONS / "answer_key.json").read_text())
    assert sorted(key) == sorted(EXERCISES), "run python lessons/solutions/answers.py"
    for name, ex in EXERCISES.items():
        fresh, stored = key_entry(name, ex), key[name]
        if not isinstance(ex, Function):
            assert fresh == stored, f"{name}: run python lessons/solutions/answers.py"
            continue
        assert {k: v for k, v in fresh.items() if k not in ("trials", "mistakes")} == {
            k: v for k, v in stored.items() if k not in ("trials", "mistakes")}, name
        assert [m["message"] for m in stored["mistakes"]] == [m for _, m in ex.mistakes], name
        for trial in stored["trials"]:  # the stored outputs are the answer's, on the stored inputs
            args = [tensor_from_json(a) for a in trial["inputs"]]
            torch.testing.assert_close(ex.answer(*args), tensor_from_json(trial["output"]), rtol=1e-5, atol=1e-6)


def quietly(fn, *args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn(*args)
    return result, out.getvalue()


def test_every_answer_passes_and_every_expected_mistake_is_named():
    from answers import EXERCISES, Value
    from lesson_utils import check

    for name, ex in EXERCISES.items():
        ok, out = quietly(check, name, ex.answer)
        assert ok is True, (name, out)
        wrong = ex.mistakes.items() if isinstance(ex, Value) else [(w, m) for w, m in ex.mistakes]
        for answer, message in wrong:
            ok, out = quietly(check, name, answer)
            assert ok is False and message in out, (name, out)
    assert quietly(check, "03.3", None)[0] is None  # not answered yet


def test_a_function_answer_may_not_call_the_library_shortcut():
    from lesson_utils import check

    ok, out = quietly(check, "09.2", lambda x: torch.nn.functional.instance_norm(x))
    assert ok is False and "without torch's normalisation layers" in out
    ok, out = quietly(check, "09.2", lambda x: torch.nn.InstanceNorm2d(x.shape[1])(x))
    assert ok is False
    assert torch.nn.functional.instance_norm.__name__ == "instance_norm"  # restored afterwards


def test_a_half_mask_halves_the_regions_style_weight():
    """Lesson 08, exercise 3: with m = 0.5 everywhere the m² cancels in E_s^r / E_s^r(0); the share 0.5 is left."""
    from stylelib.objective import Objective
    from stylelib.vgg import VGGFeatures

    g = torch.Generator().manual_seed(0)
    photo, painting = torch.rand(1, 3, 48, 48, generator=g), torch.rand(1, 3, 40, 40, generator=g)
    image = torch.rand(1, 3, 48, 48, generator=g)
    net = VGGFeatures(["relu2_1", "relu3_1"], weights="random")
    terms = {}
    for m in (1.0, 0.5):
        objective = Objective(net, photo, [painting], content_layers=["relu2_1"], style_layers=["relu3_1"],
                              style_masks=[torch.full((1, 1, 48, 48), m)], style_weight=1.0)
        terms[m] = objective(image)[1]["style:relu3_1"]
    torch.testing.assert_close(terms[0.5] / terms[1.0], torch.tensor(0.5))


# For every self-check cell of a notebook: an answer that must pass and one that must fail.
RIGHT_WRONG = {
    "01": {"answer_1": (32, 64), "answer_2": (256 * 64 * 64, 256 * 128 * 128),
           "tv_preprocess": ("lambda x: (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))"
                             " / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)",
                             "lambda x: (x - 0.45) / 0.225")},
    "02": {"answer_1": (0.5 * 64 * 1024, 64 * 1024),
           "content_mean": ("lambda F, P: (F - P).pow(2).flatten(1).mean(1)",
                            "lambda F, P: 0.5 * (F - P).pow(2).flatten(1).sum(1)"),
           "answer_3": (4, 2)},
    "03": {"answer_1": (16, 4),
           "gram_per_position": ("lambda F: my_gram(F) / (F.shape[2] * F.shape[3])", "lambda F: my_gram(F)"),
           "answer_3": (65536, "4 / 512**2"), "answer_4": (2.25, "512**2 / 9")},
    "04": {"answer_1": (31, 26), "answer_3": (2, 1)},
    "05": {"answer_1": (4, 2),
           "tv_iso": ("lambda x: ((x[..., :-1, 1:] - x[..., :-1, :-1]) ** 2"
                      " + (x[..., 1:, :-1] - x[..., :-1, :-1]) ** 2).sqrt().flatten(1).sum(1)",
                      "lambda x: (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).sum(1)"
                      " + (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).sum(1)")},
    "06": {"answer_1": (11, 13), "answer_2": (16, 64)},
    "07": {"answer_1": (48, 80),
           "ncc_matrix": ("lambda P, Q: torch.nn.functional.normalize(P, dim=1)"
                          " @ torch.nn.functional.normalize(Q, dim=1).T", "lambda P, Q: P @ Q.T")},
    "08": {"answer_1": (2048, 4096),
           "guided_gram": ("lambda F, m: gram_matrix(F * m)", "lambda F, m: gram_matrix(F) * m.mean()"),
           "answer_3": (0.5, 0.25)},
    "09": {"answer_1": (64, 32),
           "instance_norm": ("lambda x: (x - x.mean((2, 3), keepdim=True))"
                             " / (x.var((2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()",
                             "lambda x: torch.nn.functional.instance_norm(x)")},
    "10": {"answer_1": (0.25, 0.5),
           "flicker_plain": ("lambda f: (f[1:] - f[:-1]).abs().mean()", "lambda f: (f[1:] - f[:-1]).pow(2).mean()"),
           "answer_5": (4, 2)},
    "11": {"answer_1": ('"instance"', '"different"'), "answer_2": (990, 495),
           "my_cin": ("lambda x, z, wg, wb: (x - x.mean((2, 3), keepdim=True))"
                      " / (x.var((2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()"
                      " * (z @ wg.T)[..., None, None] + (z @ wb.T)[..., None, None]",
                      "lambda x, z, wg, wb: torch.nn.functional.instance_norm(x)"),
           "answer_4": (0.5, 1.0)},
}
HELPERS = {  # definitions a self-check refers to, from earlier in the lesson
    "03": "def my_gram(features):\n    f = features.flatten(2)\n    return f @ f.transpose(1, 2)\n",
}
CASES = [(nb, name, which) for nb in NOTEBOOKS for name in RIGHT_WRONG.get(nb.stem[:2], {})
         for which in ("right", "wrong")]


def test_every_self_check_cell_is_tried():
    for nb in NOTEBOOKS:
        code = [c.source for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code"]
        names = {m for c in code for m in re.findall(r"\bcheck\(\"\d\d\.\d+\", (\w+)\)", c)}
        assert names == set(RIGHT_WRONG.get(nb.stem[:2], {})), nb.name


@pytest.mark.parametrize("path, name, which", CASES, ids=lambda v: getattr(v, "stem", v))
def test_self_checks_accept_right_and_reject_wrong(path, name, which):
    nb = nbformat.read(path, as_version=4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and re.match(rf"{name} = None", c.source))
    right, wrong = RIGHT_WRONG[path.stem[:2]][name]
    source = cell.replace(f"{name} = None", f"{name} = {right if which == 'right' else wrong}", 1)
    namespace: dict = {}
    exec("import torch\nfrom stylelib.losses import *\nfrom lesson_utils import *\n" + HELPERS.get(path.stem[:2], ""),
         namespace)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(source, namespace)
    assert ("✅" if which == "right" else "❌") in out.getvalue(), out.getvalue()


def test_face_self_check():
    from lesson_utils import check_face_kept

    with contextlib.redirect_stdout(io.StringIO()):
        assert check_face_kept(0.3, 0.02, 0.45, 0.017)
        assert not check_face_kept(0.4, 0.02, 0.45, 0.017)  # face not kept enough
        assert not check_face_kept(0.2, 0.05, 0.45, 0.017)  # no style left
