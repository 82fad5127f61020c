"""The CLI end to end with the real Caffe weights, and its one-line errors."""

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from stylelib import load_image


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "stylelib", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_help_lists_subcommands():
    out = run("--help")
    assert out.returncode == 0
    for command in ("stylize", "examples"):
        assert command in out.stdout
    script = Path(sys.executable).parent / "stylelib"  # the venv's bin/, whether or not it is on PATH
    assert script.exists() or shutil.which("stylelib"), "the `stylelib` console script is not installed"


def test_stylize_end_to_end_writes_png_and_recipe(tmp_path):
    out = tmp_path / "out.png"
    result = run("stylize", "grace-hopper", "starry-night", "-o", str(out), "--size", "64", "--steps", "5",
                 "--tv-weight", "0.5", "--precision", "fp32")
    assert result.returncode == 0, result.stderr
    image = load_image(out)
    assert max(image.shape[-2:]) == 64
    recipe = json.loads(out.with_suffix(".json").read_text())
    assert recipe["options"]["steps"] == 5 and recipe["options"]["tv_weight"] == 0.5
    assert recipe["network"] == {
        "arch": "vgg19", "pooling": "max", "weights": "caffe",
        "weights_note": recipe["network"]["weights_note"],
    }
    assert recipe["seed"] == 0 and recipe["seconds"] > 0
    assert set(recipe["losses"]["terms"]) >= {"content", "style:relu1_1", "style:relu5_1", "tv"}
    assert recipe["losses"]["raw"]["content"] > 0
    assert recipe["versions"]["torch"] == torch.__version__.split("+")[0] or recipe["versions"]["torch"].startswith(
        torch.__version__.split("+")[0])
    # The recipe's command makes the same image (same seed, same options).
    again = tmp_path / "again.png"
    words = shlex.split(recipe["command"])
    assert words[:2] == ["stylelib", "stylize"]
    words[words.index("-o") + 1] = str(again)
    assert run(*words[1:]).returncode == 0
    assert torch.equal(load_image(again), image)


@pytest.mark.parametrize("args, message", [
    (["missing.jpg", "starry-night"], "missing.jpg: no such file"),
    (["NOT_AN_IMAGE", "starry-night"], "not an image"),
    (["grace-hopper", "starry-night", "--style-layers", "relu9_1"], "unknown layer 'relu9_1'"),
    (["grace-hopper", "starry-night", "--size", "10"], "too small"),
    (["grace-hopper", "starry-night", "--size", "300", "--style-scale", "0.02"], "style image is"),
])
def test_bad_input_is_one_line_and_nonzero(tmp_path, args, message):
    (tmp_path / "text.jpg").write_text("hello")
    args = [str(tmp_path / "text.jpg") if a == "NOT_AN_IMAGE" else a for a in args]
    result = run("stylize", *args, "-o", str(tmp_path / "x.png"), "--steps", "1", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "x.png").exists()


def test_examples_lists_credits():
    out = run("examples")
    assert out.returncode == 0 and "The Starry Night, Vincent van Gogh" in out.stdout
