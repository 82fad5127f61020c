"""NNPACK's Winograd convolutions: same objective and gradient as torch's own, the fallbacks, the gating."""

import copy
import re

import pytest
import torch

from stylelib import runtime, vgg, winograd
from stylelib.losses import gram_matrix

LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]


def _objective(net, image):
    """A Gatys-like scalar: every layer's Gram matrix, so the gradient reaches every convolution."""
    feats = net(image)
    return sum(gram_matrix(f).square().sum() for f in feats.values())


def _both():
    ours = vgg.VGGFeatures(LAYERS, weights="caffe")
    fast = copy.deepcopy(ours)
    winograd.use_winograd(fast.net)
    return ours, fast


def test_swap_keeps_weights_names_and_frozen_state():
    ours, fast = _both()
    assert ours.conv_algorithm == "torch's default" and fast.conv_algorithm == "winograd (NNPACK)"
    convs = [m for m in fast.net if isinstance(m, torch.nn.Conv2d)]
    first_kept = "avx512f" in runtime.cpu_flags()  # 3 channels in: NNPACK lost there with AVX-512
    assert (type(convs[0]) is torch.nn.Conv2d) is first_kept
    assert convs and all(type(m) is winograd.WinogradConv2d for m in convs[1:])
    a, b = ours.state_dict(), fast.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not any(p.requires_grad for p in fast.parameters())


@pytest.mark.skipif(not torch._nnpack_available(), reason="this torch build has no NNPACK")
@pytest.mark.parametrize("side", [64, 96])
def test_objective_and_gradient_match_torchs_convolutions(side):
    ours, fast = _both()
    torch.manual_seed(side)
    image = torch.rand(1, 3, side, side + 8)
    grads, values = [], []
    for net in (ours, fast):
        x = image.clone().requires_grad_(True)
        value = _objective(net, x)
        value.backward()
        values.append(value.detach())
        grads.append(x.grad)
    # Winograd rounds differently from a direct convolution: fp32 agreement, not bitwise
    torch.testing.assert_close(values[1], values[0], rtol=1e-4, atol=0)
    err = (grads[1] - grads[0]).norm() / grads[0].norm()
    assert err < 5e-3, err
    assert not torch.equal(grads[1], grads[0])  # NNPACK did run: the rounding differs


@pytest.mark.skipif(not torch._nnpack_available(), reason="this torch build has no NNPACK")
def test_deterministic():
    _, fast = _both()
    image = torch.rand(1, 3, 64, 64)
    runs = []
    for _ in range(2):
        x = image.clone().requires_grad_(True)
        _objective(fast, x).backward()
        runs.append(x.grad)
    assert torch.equal(*runs)


def test_float64_copy_takes_torchs_path_exactly():
    ours, fast = _both()
    ours, fast = ours.double(), fast.double()
    x = torch.rand(1, 3, 48, 48, dtype=torch.float64)
    a, b = ours(x), fast(x)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_batches_small_maps_and_trainable_weights_take_torchs_path():
    conv = torch.nn.Conv2d(8, 8, 3, padding=1)
    swapped = winograd.use_winograd(torch.nn.Sequential(copy.deepcopy(conv)))[0]
    assert type(swapped) is winograd.WinogradConv2d
    assert swapped.weight.requires_grad  # a trainable conv stays trainable, so it must take torch's path
    x = torch.rand(1, 8, 64, 64)
    assert torch.equal(swapped(x), conv(x))
    swapped.requires_grad_(False)
    small = torch.rand(1, 8, winograd.min_side() - 1, 80)
    assert torch.equal(swapped(small), conv(small))
    batch = torch.rand(2, 8, 64, 64)
    assert torch.equal(swapped(batch), conv(batch))
    if torch._nnpack_available():
        torch._nnpack_available()  # initialise NNPACK, as wanted() does
        assert not torch.equal(swapped(x), conv(x))  # at min_side() and above: NNPACK
        torch.testing.assert_close(swapped(x), conv(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("flags, env, expected", [
    ({"avx2", "fma"}, None, True),  # AVX2: the measured win
    ({"avx2", "fma", "avx512f", "avx512_bf16"}, None, True),  # in fp32 (bf16 is asked below)
    ({"sse4_2"}, None, False),  # NNPACK's x86 kernels need AVX2 and FMA
    ({"sse4_2"}, "1", True),  # forced, to compare
    ({"avx2", "fma"}, "0", False),  # switched off
    (set(), None, False),  # not x86, or no /proc/cpuinfo
])
def test_wanted_reads_the_cpu_and_the_switch(monkeypatch, flags, env, expected):
    monkeypatch.setattr(winograd, "cpu_flags", lambda: frozenset(flags))
    if env is None:
        monkeypatch.delenv("STYLELIB_WINOGRAD", raising=False)
    else:
        monkeypatch.setenv("STYLELIB_WINOGRAD", env)
    available = torch._nnpack_available()
    assert winograd.wanted("cpu", None) is (expected and available)
    assert winograd.wanted("cpu", torch.float32) is (expected and available)
    assert winograd.wanted("cpu", torch.bfloat16) is False
    assert winograd.wanted("cuda", None) is False


def test_cpu_flags_are_the_flags_line():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        text = ""
    match = re.search(r"^flags\s*:(.*)$", text, flags=re.M)
    assert runtime.cpu_flags() == frozenset(match.group(1).split() if match else ())


def test_torch_compile_keeps_torchs_convolution():
    ours = vgg.VGGFeatures(["relu2_1"], weights="caffe")  # small: inductor's compile is slow on two cores
    fast = copy.deepcopy(ours)
    winograd.use_winograd(fast.net)
    x = torch.rand(1, 3, 64, 64)
    compiled = torch.compile(fast)
    a, b = ours(x), compiled(x)
    # NNPACK's op cannot be traced: without the fallback, compiling raises; with it, fp32 agreement
    assert all((a[k] - b[k]).norm() / a[k].norm() < 1e-4 for k in a)


def test_min_side_follows_the_cpu(monkeypatch):
    monkeypatch.setattr(winograd, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert winograd.min_side() == winograd.MIN_SIDE == 32
    monkeypatch.setattr(winograd, "cpu_flags", lambda: frozenset({"avx2", "fma", "avx512f"}))
    assert winograd.min_side() == winograd.MIN_SIDE_AVX512 == 48


def test_get_extractor_swaps_only_where_asked(monkeypatch):
    monkeypatch.setattr(winograd, "wanted", lambda device, dtype: True)
    layers = ("relu1_2", "relu2_2")  # a key no other test caches
    assert vgg.get_extractor(layers, "vgg19", "random", "max", "cpu").conv_algorithm == "winograd (NNPACK)"
    kept = vgg.get_extractor(layers, "vgg19", "random", "max", "cpu", winograd=False)  # training's batches
    assert kept.conv_algorithm == "torch's default"
    assert kept.net[0].weight.is_contiguous(memory_format=torch.channels_last)
