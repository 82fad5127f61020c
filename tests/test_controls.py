"""Controls a class uses: presets, brush size (Gatys and the any-painting network), generated masks."""

import dataclasses
import json
import subprocess
import sys

import pytest
import torch

from stylelib import stylize
from stylelib.anystyle import stylize_any
from stylelib.data import resolve_image
from stylelib.diagnostics import high_frequency_share
from stylelib.evaluate import relative_errors
from stylelib.images import load_image
from stylelib.masks import masks_from_strokes, sky_mask
from stylelib.options import DEFAULTS, PRESETS, Options


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_a_valid_set_of_options_and_explicit_ones_win(name):
    o = Options(preset=name)
    for field, value in PRESETS[name][1].items():
        assert getattr(o, field) == value
    assert Options(preset=name, steps=7).steps == 7
    if "style_weight" in PRESETS[name][1]:
        assert Options(preset=name, style_weight=3.0).style_weight == 3.0


@pytest.mark.parametrize("preset, recorded", [("bold", {"style_weight": 100.0}),
                                               ("polish", {"init": "model", "init_model": "starry-night"})])
def test_preset_reaches_the_recipe_and_the_command(tmp_path, preset, recorded):
    out = tmp_path / "p.png"
    result = subprocess.run([sys.executable, "-m", "stylelib", "stylize", "grace-hopper", "starry-night", "-o", str(out),
                             "--preset", preset, "--size", "48", "--steps", "1", "--precision", "fp32"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    recipe = json.loads(out.with_suffix(".json").read_text())
    assert recipe["options"]["preset"] == preset and recipe["options"] | recorded == recipe["options"]
    assert f"--preset {preset}" in recipe["command"]


def test_sky_preset_paints_only_the_sky():
    photo = load_image(resolve_image("neuschwanstein"), size=96)
    mask = sky_mask(photo)
    assert 0.1 < mask.mean() < 0.9  # some sky, some not
    out = stylize(photo, resolve_image("starry-night"), preset="sky", size=96, steps=15, precision="fp32")
    change = (out - photo).abs().mean(1, keepdim=True)  # (1, 1, H, W)
    sky, ground = (change * (mask > 0.99)).sum() / (mask > 0.99).sum(), (change * (mask < 0.01)).sum() / (mask < 0.01).sum()
    assert sky > 2 * ground, (float(sky), float(ground))


def test_brush_strokes_separate_into_one_mask_per_colour():
    strokes = torch.zeros(1, 4, 10, 20)
    strokes[:, 0, :, :10], strokes[:, 3, :, :10] = 0.9, 1.0  # red on the left
    strokes[:, 2, :, 10:15], strokes[:, 3, :, 10:15] = 0.85, 0.5  # a half-opaque blue stroke
    red, green, blue = masks_from_strokes(strokes, [(0.9, 0.1, 0.3), (0.2, 0.7, 0.3), (0.26, 0.39, 0.85)])
    assert red[..., :10].min() == 1 and red[..., 10:].max() == 0
    assert green.max() == 0 and blue[..., 10:15].min() == 0.5 and blue[..., 15:].max() == 0


def test_style_scale_sets_the_scale_at_which_the_result_matches_the_painting():
    """Brush size, measured: a result made with style_scale s matches the painting seen at scale s better
    than the painting seen at another scale. (The high-frequency energy does not fall monotonically for
    Gatys: a larger copy of a painting also shows its finer detail.)"""
    photo = load_image(resolve_image("kingfisher"), size=128)
    painting = load_image(resolve_image("starry-night"))
    small, large = (stylize(photo, painting, size=128, steps=25, style_scale=s, precision="fp32") for s in (0.6, 2.0))

    def error(result, scale):
        return relative_errors(result, photo, painting, style_scale=scale)["style"]

    assert error(small, 0.6) < error(small, 2.0) and error(large, 2.0) < error(large, 0.6)


def test_any_painting_brush_size_sets_the_stroke_scale():
    """The predictor sees the painting with its shorter side style_size px: smaller gives larger strokes,
    less energy at periods under 10 px (measured: 0.24 / 0.26 / 0.37 at 128 / 256 / 512 on grace-hopper)."""
    photo = load_image(resolve_image("grace-hopper"), size=192)
    shares = [high_frequency_share(stylize_any(photo, "starry-night", style_size=n, precision="fp32")).item()
              for n in (128, 256, 512)]
    assert shares[0] < shares[1] < shares[2], shares


def test_defaults_are_unchanged_by_presets():
    assert dataclasses.replace(DEFAULTS).preset is None and Options().style_weight == DEFAULTS.style_weight
