"""Spatial control (Gatys et al. 2017): one painting per masked region."""

import json
import subprocess
import sys

import pytest
import torch

from stylelib import Objective, save_image, stylize
from stylelib.losses import gram_matrix, guided_style_loss, style_loss
from stylelib.vgg import VGGFeatures


def test_guided_loss_closed_form():
    # One channel, four positions, mask keeps the first two: G^r = 1² + 2² = 5.
    f = torch.tensor([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 2, 2)
    m = torch.tensor([1.0, 1.0, 0.0, 0.0]).reshape(1, 1, 2, 2)
    a_per_position = torch.tensor([[[3.0]]])  # A^r = 3 * Σm² = 6
    expected = (5.0 - 6.0) ** 2 / (4 * 1**2 * 4**2)
    torch.testing.assert_close(guided_style_loss(f, m, a_per_position), torch.tensor([expected]))


def test_guided_loss_with_a_full_mask_is_the_style_loss():
    gen = torch.Generator().manual_seed(0)
    f = torch.randn(2, 4, 5, 6, generator=gen, dtype=torch.float64)
    a = gram_matrix(torch.randn(1, 4, 5, 6, generator=gen, dtype=torch.float64))
    ones = torch.ones(1, 1, 5, 6, dtype=torch.float64)
    torch.testing.assert_close(guided_style_loss(f, ones, a / 30), style_loss(f, a))


def test_a_full_mask_gives_the_unmasked_objective():
    torch.manual_seed(0)
    net = VGGFeatures(("relu2_1", "relu3_1"), weights="random")
    content, style = torch.rand(1, 3, 32, 40), torch.rand(1, 3, 36, 36)
    kw = dict(content_layers=("relu3_1",), style_layers=("relu2_1", "relu3_1"), style_weight=20.0)
    image = torch.rand(1, 3, 32, 40)
    plain = Objective(net, content, [style], **kw)(image)
    masked = Objective(net, content, [style], style_masks=[torch.ones(1, 1, 32, 40)], **kw)(image)
    torch.testing.assert_close(masked[0], plain[0])
    for k in plain[1]:
        torch.testing.assert_close(masked[1][k], plain[1][k])


def _halves(styles, **kw):
    """Mean colour of the left and right halves of a texture synthesised from noise, borders left out."""
    out = stylize(torch.full((1, 3, 64, 64), 0.5), styles, size=64, steps=30, precision="fp32", preview_every=0,
                  content_weight=0.0, tv_weight=0.0, init="noise", **kw)
    return out[0, :, :, 4:28].mean((1, 2)), out[0, :, :, 36:60].mean((1, 2))  # (3,) each


def test_each_region_takes_its_own_painting():
    """A red painting masked to the left half, a blue one to the right: each half takes its colour."""
    gen = torch.Generator().manual_seed(0)
    red, blue = torch.zeros(2, 1, 3, 64, 64)
    red[:, 0] = 0.9 * (0.5 + torch.rand(1, 64, 64, generator=gen))  # red texture
    blue[:, 2] = 0.9 * (0.5 + torch.rand(1, 64, 64, generator=gen))
    left = torch.zeros(1, 1, 64, 64)
    left[..., :32] = 1
    l, r = _halves([red, blue], style_masks=[left, 1 - left])
    assert l[0] - l[2] > 0.25 and r[2] - r[0] > 0.25, (l, r)  # measured: 0.41 and 0.53
    l, r = _halves([red, blue])  # blended without masks: both halves alike
    assert abs((l[0] - l[2]) - (r[0] - r[2])) < 0.2, (l, r)


def test_masks_are_checked(tmp_path):
    pair = torch.rand(1, 3, 48, 48), torch.rand(1, 3, 48, 48)
    with pytest.raises(ValueError, match="2 style images need as many style masks; got 1"):
        stylize(pair[0], [pair[1], pair[1]], style_masks=[torch.ones(48, 48)], size=48, steps=1)
    with pytest.raises(ValueError, match="black everywhere"):
        stylize(*pair, style_masks=[torch.zeros(48, 48)], size=48, steps=1)
    with pytest.raises(ValueError, match="style_loss='gram' only"):
        stylize(*pair, style_masks=[torch.ones(48, 48)], style_loss="mrf", size=48, steps=1)


def test_cli_with_a_mask_file_writes_png_and_recipe(tmp_path):
    mask = torch.zeros(1, 3, 40, 60)
    mask[..., 30:] = 1  # right half
    save_image(mask, tmp_path / "mask.png")
    out = tmp_path / "out.png"
    result = subprocess.run(
        [sys.executable, "-m", "stylelib", "stylize", "grace-hopper", "starry-night", "-o", str(out),
         "--style-masks", str(tmp_path / "mask.png"), "--size", "64", "--steps", "2", "--precision", "fp32"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    recipe = json.loads(out.with_suffix(".json").read_text())
    assert recipe["options"]["style_masks"] == [str(tmp_path / "mask.png")]
    assert "--style-masks" in recipe["command"]
