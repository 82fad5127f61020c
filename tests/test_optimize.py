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


@pytest.mark.parametrize("init", ["matched", "content", "noise", "style"])
def test_inits_run_and_keep_the_shape(pair, init):
    content, style = pair
    out = stylize(content, style, steps=2, init=init, **FAST)
    assert out.shape == content.shape and 0 <= out.min() and out.max() <= 1


def test_the_default_is_deterministic(pair):
    content, style = pair
    assert torch.equal(stylize(content, style, steps=3, **FAST), stylize(content, style, steps=3, **FAST))


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
    # the work is counted in full-size evaluations: each 32² evaluation is a quarter of a 64² one
    evals = its[-1].info["evaluations"]
    assert set(evals) == {"1", "2"} and all(n >= 2 for n in evals.values())  # at least one per step
    assert its[-1].info["work"] == pytest.approx(evals["1"] / 4 + evals["2"])


@pytest.mark.parametrize("method", ["recombine", "luminance-only"])
def test_preserve_color_keeps_the_photo_chroma_and_stylises_the_luminance(pair, method):
    content, style = pair
    out = stylize(content, style, steps=10, preserve_color=method, **FAST)
    chroma = lambda x: rgb_to_ycbcr(x)[:, 1:]  # noqa: E731
    # clamping to [0, 1] bends a few pixels; the rest keep the photo's Cb, Cr
    assert (chroma(out) - chroma(content)).abs().median() < 1e-3
    plain = stylize(content, style, steps=10, init="content", **FAST)  # the same start as `out`
    change = lambda y: (rgb_to_ycbcr(y)[:, :1] - rgb_to_ycbcr(content)[:, :1]).abs().mean()  # noqa: E731
    assert change(out) > 0.3 * change(plain) > 0  # the luminance was stylised, about as much


def test_luminance_only_transfer_shows_the_network_grey_images_with_matched_luminance():
    from stylelib.color import luminance, prepare

    torch.manual_seed(0)
    photo, painting = torch.rand(1, 3, 20, 30) * 0.5, torch.rand(1, 3, 16, 16)
    seen, (style,) = prepare(photo, [painting], "luminance-only")
    assert torch.equal(seen[:, 0], seen[:, 1]) and torch.equal(style[:, 0], style[:, 2])  # Y in every channel
    y_photo, y_style = luminance(photo), style[:, :1]
    torch.testing.assert_close(y_style.mean(), y_photo.mean(), atol=0.02, rtol=0)  # the paper's matching
    torch.testing.assert_close(y_style.std(), y_photo.std(), atol=0.02, rtol=0)


def test_the_matched_start_is_the_photo_in_the_painting_colours_and_masks_keep_the_photo_elsewhere():
    from stylelib.color import painting_colors

    g = torch.Generator().manual_seed(0)
    photo = (0.3 + 0.4 * torch.rand(1, 3, 12, 16, generator=g)).double()
    paintings = [(0.4 + 0.2 * torch.rand(1, 3, 10, 10, generator=g)).double() for _ in range(2)]
    start = painting_colors(photo, paintings[:1])
    assert 0 < start.min() and start.max() < 1  # no clamping: the moments below are the map's
    moments = lambda x: (x.flatten(2)[0].mean(1), torch.cov(x.flatten(2)[0]))  # noqa: E731
    (mean, cov), (want_mean, want_cov) = moments(start), moments(paintings[0])
    torch.testing.assert_close(mean, want_mean)  # the mean maps exactly
    # the covariance up to the ridge (1% of the photo's mean variance, against variances ~8 times that)
    assert (cov - want_cov).abs().max() < 0.03 * want_cov.diagonal().max()
    both = painting_colors(photo, paintings, weights=[1.0, 3.0])
    torch.testing.assert_close(both, (start + 3 * painting_colors(photo, paintings[1:])) / 4)
    left = torch.zeros(1, 1, 12, 16, dtype=photo.dtype)
    left[..., :8] = 1
    photo[..., :8] *= 0.5  # the region's colours differ from the whole photo's
    masked = painting_colors(photo, paintings[:1], masks=[left])
    assert torch.equal(masked[..., 8:], photo[..., 8:])  # no mask: the photo
    torch.testing.assert_close(masked[..., :8].mean((0, 2, 3)), want_mean)  # the region's own moments were mapped
    dot = torch.zeros_like(left)
    dot[..., 3, 3] = 1  # a region of one pixel: no spread to map, and no NaN
    assert torch.isfinite(painting_colors(photo, paintings[:1], masks=[dot])).all()


def test_the_matched_start_does_not_blow_up_a_grey_photo_s_colour_noise():
    import stylelib
    from stylelib.color import _affine, _moments, gray3, luminance, painting_colors

    g = torch.Generator().manual_seed(0)
    grey = gray3(luminance(stylelib.load_example("grace-hopper", size=128)))
    noisy = (grey + 0.005 * torch.randn(grey.shape, generator=g)).clamp(0, 1)  # JPEG-sized colour noise
    painting = stylelib.load_example("starry-night", size=128)
    grain = lambda x: (x[..., 1:] - x[..., :-1]).abs().mean()  # noqa: E731  neighbour differences
    assert grain(painting_colors(noisy, [painting])) < grain(noisy)  # no texture added
    assert grain(_affine(noisy, _moments(noisy), _moments(painting), 1e-5)) > 1.2 * grain(noisy)  # without the ridge


def test_the_default_starts_from_the_matched_photo_at_the_coarsest_size(pair):
    from stylelib.color import painting_colors
    from stylelib.images import resize_tensor
    from stylelib.optimize import _initial

    content, style = pair
    assert Options().init == "matched"
    o = Options(style_blend=(1.0, 3.0))
    half, mask = resize_tensor(content, (16, 16)), torch.ones(1, 1, 32, 32)
    got = _initial(o, half, [style, 1 - style], None, torch.Generator())
    torch.testing.assert_close(got, painting_colors(half, [style, 1 - style], [1.0, 3.0]))
    got = _initial(Options(), half, [style], [mask], torch.Generator())  # a full-size mask, resized
    torch.testing.assert_close(got, painting_colors(half, [style]))


def test_several_styles_and_normalize_none(pair, gen):
    content, style = pair
    other = torch.rand(1, 3, 32, 32, generator=gen)
    out = stylize(content, [style, other], steps=2, style_blend=(1, 2), **FAST)
    assert out.shape == content.shape
    trace = losses(content=content, style=style, normalize="none", steps=6, init="noise")
    assert trace[0] <= 1.0 and trace[-1] < 0.9 * trace[0]  # divided by the first evaluation


@pytest.mark.parametrize("bad, match", [
    (dict(optimizer="sgd"), "optimizer must be one of lbfgs, adam"),
    (dict(init="zeros"), "init must be one of matched, content, noise, style"),
    (dict(style_layers=("relu1_1",), style_layer_weights=(1, 2)), "1 style layers but 2"),
    (dict(size=8), "too small"),
    (dict(steps=0), "steps must be a whole number from 1 to 100000"),
    (dict(content_weight=float("inf")), "content_weight must be a number from 0 to 1e\\+06"),
    (dict(content_weight=1e20), "content_weight must be"),
    (dict(style_layer_weights=(float("nan"), 1, 1, 1, 1)), "each of style_layer_weights"),
    (dict(seed=1e30), "seed must be a whole number from 0 to 9223372036854775807"),
    (dict(seed=-1), "seed must be"),
    (dict(size=100000), "size must be a whole number from 1 to 8192"),
    (dict(mrf_scales=(0.0,)), "each of mrf_scales"),
    (dict(lr=0.0), "lr must be"),
    (dict(preserve_color="luminance"), "preserve_color must be one of none, luminance-only, recombine, match"),
])
def test_options_are_validated_with_the_allowed_values(bad, match):
    with pytest.raises(ValueError, match=match):
        Options(**bad)


def test_extreme_aspect_ratio_is_a_clear_error():
    tall = torch.rand(1, 3, 400, 10)
    with pytest.raises(ValueError, match="content image is .* too small"):
        stylize(tall, tall, steps=1, size=64)


def test_the_first_lbfgs_step_is_scaled_to_the_pixels(monkeypatch):
    """torch's first trial step, min(1, 1/Σ|g|), is tiny for a whole image; ours moves a pixel by FIRST_STEP."""
    from stylelib import load_example, optimize

    photo, painting = load_example("chelsea-the-cat", size=96), load_example("great-wave", size=96)

    def first_step(first: float) -> tuple[int, float, float]:
        monkeypatch.setattr(optimize, "FIRST_STEP", first)
        run = stylize_iter(photo, painting, steps=2, size=96, precision="fp32", preview_every=1, init="content")
        its = [(it.info["evaluations"]["1"], it.image, it.loss) for it in run]  # info is shared: count as we go
        return its[0][0], (its[0][1] - photo).abs().max().item(), its[-1][2]

    ours, torch_rule = first_step(0.03), first_step(0.0)
    assert ours[0] <= 2 < torch_rule[0]  # at most the cached evaluation and the accepted one
    assert 0.02 < ours[1] < 0.05 and torch_rule[1] < 0.02  # the steepest pixel moved by about FIRST_STEP
    assert ours[2] <= torch_rule[2] * 1.02  # no worse after two steps
    assert optimize._first_lr([torch.zeros(3)]) == 1.0  # a flat start falls back to torch's rule
    monkeypatch.undo()  # the default FIRST_STEP again
    with torch.no_grad():  # a caller may iterate under no_grad: the first evaluation still has its gradient
        assert next(stylize_iter(photo, painting, steps=1, size=32, precision="fp32")).loss > 0


def test_lbfgs_keeps_history_pairs(monkeypatch):
    """optimize.HISTORY is L-BFGS's history_size: the (step, gradient-change) pairs it keeps."""
    from stylelib import optimize
    from stylelib.options import Options

    x = torch.zeros(4, requires_grad=True)
    assert optimize._make_optimizer(Options(), [x]).param_groups[0]["history_size"] == optimize.HISTORY == 20
    monkeypatch.setattr(optimize, "HISTORY", 3)
    assert optimize._make_optimizer(Options(), [x]).param_groups[0]["history_size"] == 3


def test_init_model_starts_from_the_models_picture_and_keeps_the_photo_where_no_painting_goes(pair):
    from stylelib.fast import Stylizer
    from stylelib.optimize import _initial

    content, style = pair
    o = Options(init="model", init_model="starry-night", precision="fp32")
    painted = Stylizer("starry-night", device="cpu", precision="fp32")(content)
    assert (painted - content).abs().mean() > 0.02  # the model's picture, not the photo
    torch.testing.assert_close(_initial(o, content, [style], None, torch.Generator()), painted)
    left = torch.zeros(1, 1, 32, 32)
    left[..., :16] = 1  # the painting on the left half only
    got = _initial(o, content, [style], [left], torch.Generator())
    torch.testing.assert_close(got[..., :16], painted[..., :16])
    torch.testing.assert_close(got[..., 16:], content[..., 16:])


def test_init_model_paints_at_full_size_before_coarse_to_fine(pair, monkeypatch):
    from stylelib import optimize

    content, style = pair
    seen, real = [], optimize._initial
    monkeypatch.setattr(optimize, "_initial", lambda o, c, *rest: seen.append(c.shape[-1]) or real(o, c, *rest))
    stylize(content, style, init="model", init_model="starry-night", scales=2, steps=1, **FAST)
    assert seen == [32]  # the model painted the 32 px photo, not the 16 px level it starts at
    stylize(content, style, init="matched", scales=2, steps=1, **FAST)
    assert seen == [32, 16]


def test_init_model_defaults_to_the_model_named_after_the_painting(pair):
    from stylelib.data import example_path

    content, _ = pair
    painting = str(example_path("starry-night"))
    named = stylize(content, painting, init="model", steps=1, **FAST)
    torch.testing.assert_close(named, stylize(content, painting, init="model", init_model="starry-night", steps=1,
                                              **FAST))
    assert not torch.allclose(named, stylize(content, painting, init="model", init_model="great-wave", steps=1,
                                             **FAST))
    with pytest.raises(ValueError, match="given as pixels needs init_model"):
        stylize(content, torch.rand(1, 3, 32, 32), init="model", steps=1, **FAST)
    with pytest.raises(ValueError, match="no bundled model is named after the painting 'kingfisher'"):
        stylize(content, str(example_path("kingfisher")), init="model", steps=1, **FAST)
    with pytest.raises(ValueError, match="init_model is read only with init='model'"):
        Options(init_model="starry-night")
    with pytest.raises(ValueError, match="no model file or bundled model 'nope'"):
        stylize(content, painting, init="model", init_model="nope", steps=1, **FAST)


def test_polish_takes_the_models_picture_closer_to_the_painting():
    from stylelib.data import example_path, load_example
    from stylelib.evaluate import relative_errors
    from stylelib.fast import Stylizer

    photo, painting = load_example("chelsea-the-cat", size=96), str(example_path("starry-night"))
    start = Stylizer("starry-night", device="cpu", precision="fp32")(photo)
    polished = stylize(photo, painting, preset="polish", size=96, precision="fp32", preview_every=0)
    before, after = relative_errors(start, photo, painting), relative_errors(polished, photo, painting)
    assert after["style"] < 0.6 * before["style"] and after["content"] < before["content"]  # 0.51 -> 0.18, 0.37 -> 0.30
