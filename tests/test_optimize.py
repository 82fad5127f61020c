"""One-step smoke runs of the optimisation loop, both optimisers, every init."""

import pytest
import torch

from stylelib import Options, stylize, stylize_iter
from stylelib.color import rgb_to_ycbcr

FAST = dict(size=32, precision="fp32", preview_every=0)


def losses(**kw):
    return [it.loss for it in stylize_iter(kw.pop("content"), kw.pop("style"), **{**FAST, **kw})]


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_each_optimizer_lowers_the_loss(pair, optimizer):
    content, style = pair
    trace = losses(content=content, style=style, optimizer=optimizer, steps=12)
    assert len(trace) == 12
    assert trace[-1] < 0.85 * trace[0]
    assert all(map(lambda v: v == v, trace))  # no NaN


def test_lbfgs_keeps_moving(pair):
    """Regression: with torch's default max_eval the line search returned t=0 forever."""
    content, style = pair
    trace = losses(content=content, style=style, steps=12)
    assert len(set(round(v, 9) for v in trace[3:])) == len(trace[3:])


@pytest.mark.parametrize("init", ["content", "noise", "style"])
def test_inits_run_and_keep_the_shape(pair, init):
    content, style = pair
    out = stylize(content, style, steps=2, init=init, **FAST)
    assert out.shape == content.shape and 0 <= out.min() and out.max() <= 1


def test_same_seed_same_image_and_inputs_untouched(pair):
    content, style = pair
    before = content.clone(), style.clone()
    a = stylize(content, style, steps=3, init="noise", seed=1, **FAST)
    b = stylize(content, style, steps=3, init="noise", seed=1, **FAST)
    c = stylize(content, style, steps=3, init="noise", seed=2, **FAST)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(content, before[0]) and torch.equal(style, before[1])


def test_iterates_report_terms_raw_and_previews(pair):
    content, style = pair
    its = list(stylize_iter(content, style, steps=4, size=32, precision="fp32", preview_every=2, tv_weight=1.0))
    assert [it.step for it in its] == [1, 2, 3, 4] and [it.final for it in its] == [False] * 3 + [True]
    assert [it.image is not None for it in its] == [False, True, False, True]
    last = its[-1]
    assert set(last.terms) == {"content", "tv"} | {f"style:relu{i}_1" for i in range(1, 6)}
    assert abs(sum(last.terms.values()) - last.loss) < 1e-4 * max(1, last.loss)
    assert last.raw["content"] > 0 and last.info["weights"] == "caffe"


def test_coarse_to_fine_runs_every_scale(pair):
    content, style = pair
    its = list(stylize_iter(content, style, steps=2, size=64, scales=2, precision="fp32", preview_every=0))
    assert [(it.scale, it.step) for it in its] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert its[-1].image.shape == (1, 3, 64, 64) and its[1].image.shape == (1, 3, 32, 32)


def test_preserve_color_luminance_keeps_the_photo_chroma(pair):
    content, style = pair
    out = stylize(content, style, steps=3, preserve_color="luminance", **FAST)
    chroma = lambda x: rgb_to_ycbcr(x)[:, 1:]
    # clamping to [0, 1] bends a few pixels; the rest keep the photo's Cb, Cr
    assert (chroma(out) - chroma(content)).abs().median() < 1e-3


def test_several_styles_and_normalize_none(pair, gen):
    content, style = pair
    other = torch.rand(1, 3, 32, 32, generator=gen)
    out = stylize(content, [style, other], steps=2, style_blend=(1, 2), **FAST)
    assert out.shape == content.shape
    trace = losses(content=content, style=style, normalize="none", steps=6, init="noise")
    assert trace[0] <= 1.0 and trace[-1] < 0.9 * trace[0]  # divided by the first evaluation


@pytest.mark.parametrize("bad, match", [
    (dict(optimizer="sgd"), "optimizer must be one of lbfgs, adam"),
    (dict(init="zeros"), "init must be one of content, noise, style"),
    (dict(style_layers=("relu1_1",), style_layer_weights=(1, 2)), "1 style layers but 2"),
    (dict(size=8), "too small"),
    (dict(steps=0), "steps must be at least 1"),
])
def test_options_are_validated_with_the_allowed_values(bad, match):
    with pytest.raises(ValueError, match=match):
        Options(**bad)


def test_extreme_aspect_ratio_is_a_clear_error():
    tall = torch.rand(1, 3, 400, 10)
    with pytest.raises(ValueError, match="content image is .* too small"):
        stylize(tall, tall, steps=1, size=64)
