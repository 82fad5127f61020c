"""The CLI end to end with the real Caffe weights, and its one-line errors."""

import json
import shlex
import shutil
import subprocess
import sys
import time
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


@pytest.mark.parametrize("command", ["stylize", "train", "apply", "models", "examples"])
def test_every_command_has_help(command):
    out = run(command, "--help")  # a "%" in a help text once broke `train --help` with a traceback
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert out.stdout.startswith(f"usage: stylelib {command}")


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
    (["grace-hopper", "starry-night", "--size", "300", "--style-scale", "0.06"], "style image is"),
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


def _damaged_models(tmp_path):
    """Model files damaged in the ways a download or a disk can damage them."""
    from stylelib.models import model_path

    good = model_path("starry-night").read_bytes()
    (tmp_path / "garbage.safetensors").write_bytes(b"\xff" * 8 + good[8:])
    (tmp_path / "truncated.safetensors").write_bytes(good[: len(good) // 2])
    (tmp_path / "text.safetensors").write_text("not a model at all")
    import torch
    from safetensors.torch import load, save

    state = load(good)
    key = next(iter(state))
    state[key] = torch.full_like(state[key], float("nan"))
    meta = json.loads(good[8 : 8 + int.from_bytes(good[:8], "little")])["__metadata__"]
    (tmp_path / "nan.safetensors").write_bytes(save(state, metadata=meta))


HOSTILE = [
    (["stylize", "grace-hopper", "starry-night", "--size", "100000", "--steps", "2"], "size must be a whole number"),
    (["stylize", "grace-hopper", "starry-night", "--size", "8000", "--steps", "2"], "px would fit"),
    (["stylize", "grace-hopper", "starry-night", "--content-weight", "1e20"], "content_weight must be a number"),
    (["stylize", "grace-hopper", "starry-night", "--content-weight", "inf"], "content_weight must be a number"),
    (["stylize", "grace-hopper", "starry-night", "--style-layer-weights", "nan", "1", "1", "1", "1"],
     "each of style_layer_weights"),
    (["stylize", "grace-hopper", "starry-night", "--seed", "1e30"], "invalid int value"),
    (["stylize", "grace-hopper", "starry-night", "--seed", "99999999999999999999"], "seed must be a whole number"),
    (["stylize", "grace-hopper", "starry-night", "--weights", "/etc/passwd"], "cannot read weights file"),
    (["stylize", "grace-hopper", "starry-night", "--preset", "wild"], "invalid choice"),
    (["apply", "starry-night", "BIRD", "--size", "100000"], "--size must be from 16 to 8192"),
    (["apply", "starry-night", "BIRD", "--size", "-5"], "--size must be from 16 to 8192"),
    (["apply", "starry-night", "BIRD", "--size", "0"], "--size must be from 16 to 8192"),
    (["apply", "starry-night", "DOT"], "too small"),
    (["apply", "starry-night", "BIRD", "--smooth", "nan"], "smooth must be from 0"),
    (["apply", "MODEL:garbage", "BIRD"], "not a readable safetensors model"),
    (["apply", "MODEL:truncated", "BIRD"], "not a readable safetensors model"),
    (["apply", "MODEL:text", "BIRD"], "not a readable safetensors model"),
    (["apply", "MODEL:nan", "BIRD"], "non-finite"),
    (["apply", "starry-night", "CLIP"], "not a video that can be read"),
    (["apply", "starry-night", "CLIP", "--refine", "3"], "--refine polishes images, not videos (clip.mp4)"),
    (["apply", "--builtin", "3", "BIRD", "--refine", "3"], "--refine polishes a trained MODEL's picture"),
    (["apply", "starry-night", "BIRD", "--refine", "-2"], "--refine takes a number of steps"),
    (["apply", "starry-night", "BIRD", "--refine", "3", "--estimate"], "--estimate times the one pass"),
    (["apply", "MODEL:nan", "BIRD", "--refine", "3"], "does not name the painting the model was trained on"),
    (["apply", "starry-night", "BIRD", "--refine", "3", "--size", "8000"], "px would fit"),
    (["stylize", "grace-hopper", "starry-night", "--init", "model", "--init-model", "nope"], "no model file"),
    (["stylize", "grace-hopper", "kingfisher", "--init", "model"], "no bundled model is named after the painting"),
    (["stylize", "grace-hopper", "starry-night", "--init-model", "great-wave"], "init_model is read only with"),
]


@pytest.mark.parametrize("args, message", HOSTILE, ids=[" ".join(a[:1] + a[3:5]) for a, _ in HOSTILE])
def test_hostile_input_is_one_line_nonzero_and_writes_nothing(tmp_path, args, message):
    from PIL import Image

    Image.new("RGB", (80, 60), "red").save(tmp_path / "bird.png")
    Image.new("RGB", (1, 1), "red").save(tmp_path / "dot.png")
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 2000)
    _damaged_models(tmp_path)
    subs = {"BIRD": str(tmp_path / "bird.png"), "DOT": str(tmp_path / "dot.png"), "CLIP": str(tmp_path / "clip.mp4")}
    words = [subs.get(a, str(tmp_path / f"{a[6:]}.safetensors") if a.startswith("MODEL:") else a) for a in args]
    target = ["-o", str(tmp_path / "out" / ("x.png" if args[0] == "stylize" else ""))]
    start = time.perf_counter()
    result = run(*words, *target, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))
    assert time.perf_counter() - start < 120  # refused before the work, not after


def test_train_resume_from_a_damaged_checkpoint_is_one_line(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    from PIL import Image

    Image.new("RGB", (64, 64), "blue").save(photos / "a.png")
    for damage in (b"garbage" * 10, b"PK\x03\x04" + b"\x00" * 100):
        (tmp_path / "m.ckpt").write_bytes(damage)
        result = run("train", "starry-night", "--data", str(photos), "-o", str(tmp_path / "m.safetensors"),
                     "--resume", "--steps", "2", "--width", "8", "--image-size", "32")
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "damaged or not a stylelib checkpoint" in lines[0], result.stderr


def test_live_first_picture_comes_before_torch_also_from_a_model(tmp_path):
    out = tmp_path / "x.png"
    code = ("import sys; from stylelib.cli import numpy_first_picture; "
            f"print(numpy_first_picture(['stylize', 'grace-hopper', 'starry-night', '--init', 'model', '--live', "
            f"'--size', '64', '-o', {str(out)!r}]), 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.stdout.split() == ["True", "False"], result.stderr
    assert out.exists()


def test_stylize_live_keeps_the_output_up_to_date(tmp_path, monkeypatch):
    """--live: the one-pass network's picture is on disk before the first step, then each preview, then the end."""
    from stylelib import cli, optimize
    from stylelib.anystyle import stylize_any

    out, seen, real = tmp_path / "live.png", [], optimize.stylize_iter

    def spy(*args, **kwargs):  # what a viewer would find on disk, when the run starts and after each step
        seen.append(load_image(out) if out.exists() else None)
        for it in real(*args, **kwargs):
            yield it
            seen.append((it, load_image(out) if out.exists() else None))  # after the CLI has handled step it

    monkeypatch.setattr(optimize, "stylize_iter", spy)
    args = ["stylize", "grace-hopper", "starry-night", "-o", str(out), "--size", "48", "--steps", "4",
            "--preview-every", "2", "--precision", "fp32"]
    assert cli.main(args + ["--live"]) == 0
    one_pass = stylize_any("grace-hopper", "starry-night", size=48, device="cpu")
    assert seen[0] is not None, "nothing on disk when the run started"
    torch.testing.assert_close(seen[0], one_pass, atol=1 / 255, rtol=0)  # PNG: 8 bits
    (it1, after1), (it2, after2) = seen[1], seen[2]
    torch.testing.assert_close(after1, seen[0])  # no preview at step 1: the file is unchanged
    torch.testing.assert_close(after2, it2.image, atol=1 / 255, rtol=0)  # the step-2 preview
    assert (after2 - seen[0]).abs().max() > 0.05
    torch.testing.assert_close(load_image(out), seen[-1][0].image, atol=1 / 255, rtol=0)  # the end
    assert len(seen) == 5 and seen[-1][0].step == 4
    out.unlink()
    seen.clear()
    assert cli.main(args) == 0  # without --live nothing is written before the end
    assert seen[0] is None and all(after is None for _, after in seen[1:])


def test_an_output_name_that_cannot_be_written_is_refused_before_the_run(tmp_path, monkeypatch, capsys):
    from stylelib import cli, optimize

    monkeypatch.setattr(optimize, "stylize_iter", lambda *a, **k: pytest.fail("the run started"))
    out = tmp_path / "x.psd"  # PIL reads .psd but can't write it
    assert cli.main(["stylize", "grace-hopper", "starry-night", "-o", str(out), "--live"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "can't write an image named 'x.psd'" in lines[0]
    assert list(tmp_path.iterdir()) == []
