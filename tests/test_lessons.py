"""Lessons: committed without outputs, in sync with their sources, readable, and self-checks that catch mistakes.

Executing every notebook top to bottom (in fast mode) is done by nbmake, as
part of the same pytest run (see pyproject.toml).
"""

import contextlib
import io
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
NOTEBOOKS = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
sys.path.insert(0, str(LESSONS))
sys.path.insert(0, str(ROOT / "scripts"))


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_anatomy_and_short_readable_cells(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].source.startswith("# "), "a title first"
    assert "$$" in text, "the equation, in LaTeX"
    assert "## Summary" in text and "## Exercises" in text
    assert any("assert_close" in c for c in code), "a check against the stylelib function"
    assert sum(bool(re.search(r"\bcheck_\w+\(", c)) for c in code) >= 2, "two self-checks at least"
    for cell in code:
        assert sum(bool(l.strip()) for l in cell.splitlines()) <= 12, f"a long cell in {path.name}:\n{cell}"
        for line in cell.splitlines():
            assert len(line) <= 79, f"{path.name}: line over 79 characters: {line}"


# For every self-check: an answer that must pass and one that must fail.
RIGHT_WRONG = {
    "01": {"answer_1": (32, 64), "answer_2": (256 * 64 * 64, 256 * 128 * 128)},
    "02": {"answer_1": (0.5 * 64 * 1024, 64 * 1024),
           "content_mean": ("lambda F, P: (F - P).pow(2).flatten(1).mean(1)",
                            "lambda F, P: 0.5 * (F - P).pow(2).flatten(1).sum(1)")},
    "03": {"answer_1": (16, 4),
           "gram_per_position": ("lambda F: my_gram(F) / (F.shape[2] * F.shape[3])", "lambda F: my_gram(F)")},
    "04": {"answer_1": (31, 26)},
    "05": {"answer_1": (4, 2),
           "tv_l1": ("lambda x: (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).sum(1)"
                     " + (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).sum(1)", "my_tv")},
    "06": {"answer_1": (11, 13), "answer_2": ("'avg'", "'max'")},
    "08": {"answer_1": (2048, 4096),
           "guided_gram": ("lambda F, m: gram_matrix(F * m)", "lambda F, m: gram_matrix(F) * m.mean()")},
    "09": {"answer_1": (64, 32),
           "instance_norm": ("lambda x: (x - x.mean((2, 3), keepdim=True))"
                             " / (x.var((2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()",
                             "lambda x: (x - x.mean()) / x.std()")},
    "10": {"answer_1": (0.25, 0.5),
           "flicker_plain": ("lambda f: (f[1:] - f[:-1]).abs().mean()", "lambda f: (f[1:] - f[:-1]).pow(2).mean()")},
    "07": {"answer_1": (48, 80),
           "ncc_matrix": ("lambda P, Q: torch.nn.functional.normalize(P, dim=1)"
                          " @ torch.nn.functional.normalize(Q, dim=1).T", "lambda P, Q: P @ Q.T")},
}
HELPERS = {  # definitions a self-check refers to, from earlier in the lesson
    "03": "def my_gram(features):\n    f = features.flatten(2)\n    return f @ f.transpose(1, 2)\n",
    "05": "def my_tv(x):\n    return ((x[..., :, 1:] - x[..., :, :-1]).pow(2).flatten(1).sum(1)"
          " + (x[..., 1:, :] - x[..., :-1, :]).pow(2).flatten(1).sum(1))\n",
}
CASES = [(nb, name, which) for nb in NOTEBOOKS for name in RIGHT_WRONG.get(nb.stem[:2], {})
         for which in ("right", "wrong")]


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
