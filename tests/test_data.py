"""The bundled examples: every file is there, credited, loadable by name."""

import csv

import pytest

from stylelib.data import EXAMPLES_DIR, list_examples, load_example, resolve_image


def test_every_example_is_credited_and_loads():
    with open(EXAMPLES_DIR / "CREDITS.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    files = {p.name for p in EXAMPLES_DIR.glob("*.jpg")}
    assert files == {r["file"] for r in rows}
    for r in rows:
        assert r["licence"] in ("public domain", "CC0-1.0") and r["creator"] and r["source_package"]
    assert len(list_examples("content")) >= 5 and len(list_examples("style")) >= 5
    x = load_example("starry-night", size=64)
    assert x.shape[:2] == (1, 3) and max(x.shape[-2:]) == 64


def test_unknown_names_and_kinds():
    with pytest.raises(KeyError, match="grace-hopper"):
        load_example("mona-lisa-2")
    with pytest.raises(ValueError, match="content, style"):
        list_examples("sculpture")
    assert str(resolve_image("some/file.png")) == "some/file.png"
    assert resolve_image("great-wave").name == "great-wave.jpg"
