"""The s20 and s21 probe scripts (docs/fast_recipe.md): each trains a step and reads its model back; the per-layer
split adds up; the grid probe judges a photo as itself at every shift."""

import os
import subprocess
import sys

import pytest
import torch

from stylelib import load_example
from stylelib.data import resolve_image
from stylelib.evaluate import relative_errors

from .test_train_scripts import ROOT, tiny_photos

sys.path.append(str(ROOT / "scripts"))  # the probes import each other by name


@pytest.mark.parametrize("script, module, cls, extra", [
    ("scale_noise_probe.py", "scale_noise_probe", "ScaleNoise", ["0.1"]),
    ("coarse_probe.py", "coarse_probe", "Coarse", []),
    ("skip_probe.py", "skip_probe", "Skips", []),
])
def test_a_probe_trains_a_step_and_its_model_reads_back(tmp_path, script, module, cls, extra):
    from safetensors.torch import load_file

    from stylelib import pretrained

    out = tmp_path / "m.safetensors"
    args = [sys.executable, script, "train", "baked", *extra, "great-wave", "--data", str(tiny_photos(tmp_path)),
            "-o", str(out), "--network", "pretrained", "--steps", "1", "--image-size", "32", "--batch-size", "1"]
    result = subprocess.run(args, cwd=ROOT / "scripts", capture_output=True, text=True, timeout=600,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    net = getattr(__import__(module), cls)(pretrained.empty()).eval()
    net.load_state_dict({k: v.float() for k, v in load_file(out).items()})  # strict: every weight the probe adds
    x = load_example("grace-hopper", size=48)
    with torch.no_grad():
        y1, y2 = net(x), net(x)
    assert y1.shape == x.shape and torch.equal(y1, y2)  # eval mode: the same picture twice


def test_the_layers_shares_add_up_to_the_judges_style_figure():
    from style_per_layer import per_layer

    x = load_example("grace-hopper", size=64)
    y = (x + 0.1 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    painting = resolve_image("great-wave")
    split, judge = per_layer(y, x, painting), relative_errors(y, x, painting)
    assert split["style"] == pytest.approx(judge["style"], abs=1e-3)
    assert split["content"] == pytest.approx(judge["content"], abs=1e-3)
    assert sum(split["share"].values()) == pytest.approx(judge["style"], abs=5e-3)  # rounded to 3 digits each
    assert all(0 < r for r in split["ratio"].values())


def test_the_probes_polished_picture_starts_from_the_model_and_moves_towards_the_painting():
    from style_per_layer import pictures

    ((_, x, model, painting),) = pictures("starry-night", None, ["kingfisher"])
    ((_, x2, polished, painting2),) = pictures("starry-night", None, ["kingfisher"], refine=3)
    assert torch.equal(x, x2) and painting == painting2 and polished.shape == model.shape
    before, after = relative_errors(model.float().clamp(0, 1), x, painting), relative_errors(polished, x, painting)
    assert after["style"] < 0.9 * before["style"]


def test_the_grid_probe_judges_the_photo_itself_as_the_photo_at_every_shift():
    from grid_probe import SHIFTS, blur, grid_row

    x = load_example("grace-hopper", size=64)
    row = grid_row(x, x, resolve_image("great-wave"))
    for figures in [row["as_is"], *row["shifted"].values()]:
        assert figures["content"] == pytest.approx(0, abs=1e-6)
        assert figures["style"] == pytest.approx(1, abs=1e-3) and figures["relu5_1"] == pytest.approx(1, abs=1e-3)
    assert sorted(row["shifted"]) == sorted(SHIFTS)
    assert all(f["content"] > 0.01 for f in row["blurred"].values())  # the blur is applied to the picture alone
    flat = torch.full((1, 3, 16, 16), 0.3)
    torch.testing.assert_close(blur(flat, 1.0), flat)  # a normalised kernel: a flat image stays as it is


def test_the_skip_links_start_at_zero_and_carry_the_contracts_detail():
    from skip_probe import Skips

    from stylelib import pretrained

    base, x = pretrained.empty().eval(), load_example("grace-hopper", size=48)
    with torch.no_grad():
        before = base(x)  # before the links' hooks go on (Skips wraps the same module)
        net = Skips(base).eval()
        torch.testing.assert_close(net(x), before)  # links at 0: the network paints as without them
        net.links[1].weight.normal_(generator=torch.Generator().manual_seed(0))
        assert (net(x) - before).abs().max() > 1e-3  # the full-size link reaches the picture


def test_the_one_photo_probe_cuts_windows_from_the_judged_photo_and_runs():
    from one_photo_probe import inputs, run

    x = load_example("machu-picchu", size=64)  # 64 x 36
    for window in [w for w, _ in zip(inputs("windows", x, "machu-picchu", 40), range(3))]:
        assert window.shape[-2:] == (36, 40)  # the photo's own height where it is shorter than the window
        hits = [(t, l) for t in range(x.shape[-2] - 35) for l in range(x.shape[-1] - 39)
                if torch.equal(x[..., t : t + 36, l : l + 40], window)]
        assert hits  # not scaled, not flipped: a piece of the photo as the judge sees it
    lines = list(run("windows", beta=3.0, steps=2, photo="machu-picchu", painting="great-wave", size=64, crop=32,
                     lr=5e-4))
    steps = [line for line in lines if "step" in line]
    assert [line["step"] for line in steps] == [1, 2] and all(0 < line["style"] for line in steps)
    assert len(next(line for line in lines if "photos" in line)["photos"]) == 6
    assert sorted(line["size"] for line in lines if "size" in line) == [320, 448]


def test_the_judge_scale_probe_cuts_unscaled_windows_from_photos_at_the_judges_size(tmp_path):
    from judge_scale_probe import JudgeScale

    from stylelib.images import load_image
    from stylelib.train import find_photos

    files = find_photos(tiny_photos(tmp_path))
    crops = JudgeScale(files, 32)
    for index in range(len(files)):
        x = load_image(files[index], size=48)[0]  # the judge's scale for 32 px windows: longest side 48
        window = crops[(index, 7)]
        assert window.shape[1:] == tuple(min(32, side) for side in x.shape[1:])
        assert any(torch.equal(x[:, t : t + window.shape[1], l : l + window.shape[2]], window)
                   for t in range(x.shape[1] - window.shape[1] + 1) for l in range(x.shape[2] - window.shape[2] + 1))
        assert torch.equal(crops[(index, 7)], window)  # a function of (index, seed)


def test_the_refine_probe_starts_from_the_given_picture_and_leaves_the_library_as_it_was():
    from refine_probe import refine

    from stylelib import optimize

    before = optimize._initial
    x = load_example("grace-hopper", size=32)
    y = torch.zeros_like(x)  # far from the photo: one step from it cannot land where one step from the photo does
    painting = resolve_image("great-wave")
    from_picture = refine(y, x, painting, beta=1.2, steps=1, init="picture")
    from_photo = refine(x, x, painting, beta=1.2, steps=1, init="picture")
    assert optimize._initial is before
    assert from_picture.shape == x.shape and (from_picture - from_photo).abs().mean() > 0.05
    assert from_picture.mean() < from_photo.mean()  # still near the black start after one step
