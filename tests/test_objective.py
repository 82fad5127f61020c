"""The objective the optimiser sees: the seed's sum, and its target scaling."""

import torch

from stylelib.losses import content_loss, gram_matrix, style_loss, tv_loss
from stylelib.objective import Objective
from stylelib.vgg import VGGFeatures

LAYERS = ("relu1_1", "relu2_1", "relu3_1")


def make(pair, **kw):
    net = VGGFeatures(("relu2_2",) + LAYERS, weights="random")
    content, style = pair
    args = dict(content_layers=("relu2_2",), style_layers=LAYERS, content_weight=2.0, style_weight=7.0)
    return net, Objective(net, content, [style], **{**args, **kw})


def test_none_is_the_seed_sum_times_one_constant(pair, gen):
    net, obj = make(pair, normalize="none", style_layer_weights=(0.5, 0.3, 0.2), tv_weight=0.1)
    content, style = pair
    x = torch.rand(1, 3, 32, 32, generator=gen)
    first, _, _ = obj(content * 0.5)  # fixes the constant
    loss, terms, raw = obj(x)
    fx, fc, fs = net(x), net(content), net(style)
    seed = 2.0 * content_loss(fx["relu2_2"], fc["relu2_2"]) + 7.0 * sum(
        w * style_loss(fx[l], gram_matrix(fs[l])) for w, l in zip((0.5, 0.3, 0.2), LAYERS)
    ) + 0.1 * tv_loss(x)
    torch.testing.assert_close(loss / obj.scale, seed[0], rtol=1e-4, atol=0)
    torch.testing.assert_close(raw["content"], content_loss(fx["relu2_2"], fc["relu2_2"])[0], rtol=1e-5, atol=0)
    assert set(terms) == {"content", "tv"} | {f"style:{l}" for l in LAYERS}
    torch.testing.assert_close(sum(terms.values()), loss)


def test_target_scaling_makes_relative_errors(pair):
    net, obj = make(pair)
    content, style = pair
    _, terms, _ = obj(content)
    assert terms["content"].item() == 0.0  # at the target
    # A zero image's features are not zero (biases), so use the definition directly:
    fc, fs = net(content), net(style)
    for l in LAYERS:
        a = gram_matrix(fs[l])
        zero = style_loss(torch.zeros_like(fs[l]), a)[0]
        torch.testing.assert_close(zero / obj.style_norm[l], torch.tensor(1.0), rtol=1e-5, atol=0)
    torch.testing.assert_close(
        torch.tensor(obj.content_norm["relu2_2"]), content_loss(torch.zeros_like(fc["relu2_2"]), fc["relu2_2"])[0]
    )


def test_style_image_of_another_size_is_rescaled(pair, gen):
    """A painting with 4x the positions gives the same target per position."""
    content, style = pair
    tiled = style.repeat(1, 1, 2, 2)  # same texture statistics, 4x M (up to borders)
    net = VGGFeatures(LAYERS, weights="random")
    a = Objective(net, content, [style], content_layers=("relu1_1",), style_layers=("relu1_1",))
    b = Objective(net, content, [tiled], content_layers=("relu1_1",), style_layers=("relu1_1",))
    ga, gb = a.grams["relu1_1"], b.grams["relu1_1"]
    assert (ga - gb).norm() / ga.norm() < 0.05  # only the borders and seams differ
    # and without the rescaling they would differ by the factor of 4 in M:
    assert (gram_matrix(net(tiled)["relu1_1"]) - gram_matrix(net(style)["relu1_1"])).norm() / gram_matrix(
        net(style)["relu1_1"]).norm() > 2


def test_blend_of_two_styles_is_the_weighted_gram(pair, gen):
    content, style = pair
    other = torch.rand(1, 3, 32, 32, generator=gen)
    net = VGGFeatures(LAYERS, weights="random")
    kw = dict(content_layers=("relu1_1",), style_layers=("relu1_1",))
    one = Objective(net, content, [style], **kw).grams["relu1_1"]
    two = Objective(net, content, [other], **kw).grams["relu1_1"]
    mix = Objective(net, content, [style, other], style_blend=(3, 1), **kw).grams["relu1_1"]
    torch.testing.assert_close(mix, 0.75 * one + 0.25 * two)
