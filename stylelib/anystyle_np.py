"""The any-painting network in NumPy: a first picture before torch has loaded (``stylelib stylize --live``).

``import torch`` alone takes 1.5-1.7 s on two CPU cores (docs/import_time_amd.txt),
longer than the second the app gives itself for its first picture. This
module runs Ghiasi et al.'s released networks, the style predictor
(:mod:`stylelib.mobilenet`) and the transformer
(:mod:`stylelib.style_transformer`), with NumPy alone, so the CLI can
write a picture at once and only then load torch for the optimisation.
Same layers, same weights, same equations; the tests hold each network
to its torch twin (tests/test_anystyle_np.py). It is also the whole network
in about a hundred lines of array code, if you want to read it that way.

Deviations from :func:`stylelib.anystyle.first_picture` (a preview, soon
replaced): the photo is painted at ``PAINT_SIDE`` px at most (not 512) and
scaled back with PIL, and images are resized with PIL, not torch.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from .architecture import MOBILENET_V2
from .images import fit_size, load_pil, resize_long_side

PAINT_SIDE = 256  # px the transformer paints at, at most: a quarter of 512 px's pixels, well within a second
STYLE_SIZE = 256  # the predictor's input, shorter side (as stylelib.anystyle.STYLE_SIZE)
EPS = 1e-5  # the instance norms' ε (as stylelib.cin.EPS)
ASSETS = Path(__file__).parent / "assets" / "anystyle"


def network_bytes(name: str, folder: Path = ASSETS) -> bytes:
    """A shipped network's file, checked against networks.json's SHA-256 (here and in anystyle.load_network)."""
    entry = json.loads((folder / "networks.json").read_text())["files"][name]
    path = folder / entry["file"]
    if not path.is_file():
        raise ValueError(f"the {name} network's weights are missing ({path}); reinstall stylelib")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ValueError(f"{path.name} is damaged (its SHA-256 does not match networks.json); reinstall stylelib")
    return data


def blend_weights(weights: Sequence[float] | None, n: int) -> list[float]:
    """The blend of n paintings' style vectors, summing to 1 (equal when None)."""
    w = [1.0] * n if weights is None else [float(v) for v in weights]
    if len(w) != n:
        raise ValueError(f"one blend weight per painting: {n} paintings need {n} blend weights; got {len(w)}")
    if not all(v >= 0 and v < float("inf") for v in w) or sum(w) <= 0:
        raise ValueError(f"blend weights must be finite, >= 0 and not all 0; got {list(weights or [])}")
    return [v / sum(w) for v in w]


@lru_cache(maxsize=1)
def _params() -> dict[str, np.ndarray]:
    """The arbitrary network's tensors, float32."""
    from safetensors.numpy import load

    return {k: v.astype(np.float32) for k, v in load(network_bytes("arbitrary")).items()}


def conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: int = 1) -> np.ndarray:
    """Cross-correlation of an already padded x (C, H, W) with w (O, C, k, k): (O, H', W'), as nn.Conv2d."""
    k = w.shape[-1]
    if k == 1:
        out = np.tensordot(w[:, :, 0, 0], x[:, ::stride, ::stride], axes=1)  # (O, H, W)
    else:
        windows = sliding_window_view(x, (k, k), axis=(1, 2))[:, ::stride, ::stride]  # (C, H', W', k, k)
        out = np.tensordot(w, windows, axes=([1, 2, 3], [0, 3, 4]))  # (O, H', W')
    return out if b is None else out + b[:, None, None]


def depthwise(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int) -> np.ndarray:
    """Each channel filtered alone by its 3x3 w (C, 1, 3, 3) (groups = C), x padded: (C, H', W')."""
    h, wd = (x.shape[1] - 3) // stride + 1, (x.shape[2] - 3) // stride + 1
    out = np.zeros((x.shape[0], h, wd), np.float32)
    for i in range(3):
        for j in range(3):
            out += w[:, 0, i, j, None, None] * x[:, i:i + stride * h:stride, j:j + stride * wd:stride]
    return out + b[:, None, None]


def pad_same(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """TensorFlow's SAME padding (the extra pixel at the end), as mobilenet.conv_same."""
    pads = [(0, 0)]
    for n in x.shape[1:]:
        total = max((-(-n // stride) - 1) * stride + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, pads)


def style_vector(painting: np.ndarray) -> np.ndarray:
    """S (100,) of a painting (3, H, W) in [0, 1]: MobileNet-v2, then the 100-d bottleneck."""
    p = _params()
    relu6 = lambda t: np.clip(t, 0, 6)  # noqa: E731
    x = relu6(conv(pad_same(painting, 3, 2), p["predictor.stem.weight"], p["predictor.stem.bias"], 2))
    i, c_in = 0, x.shape[0]
    for t, c, n, s in MOBILENET_V2:
        for r in range(n):
            stride, name = s if r == 0 else 1, f"predictor.blocks.{i}"
            h = relu6(conv(x, p[f"{name}.expand.weight"], p[f"{name}.expand.bias"])) if t != 1 else x
            h = relu6(depthwise(pad_same(h, 3, stride), p[f"{name}.depthwise.weight"], p[f"{name}.depthwise.bias"],
                                stride))
            h = conv(h, p[f"{name}.project.weight"], p[f"{name}.project.bias"])
            x = x + h if stride == 1 and c_in == c else h  # the residual when shapes match
            i, c_in = i + 1, c
    x = relu6(conv(x, p["predictor.head.weight"], p["predictor.head.bias"]))  # (1280, H/32, W/32)
    pooled = x.mean((1, 2))  # (1280,)
    return p["predictor.bottleneck.weight"][:, :, 0, 0] @ pooled + p["predictor.bottleneck.bias"]  # (100,)


def _layer(x: np.ndarray, name: str, code: np.ndarray, stride: int = 1, act: str = "relu",
           upsample: bool = False) -> np.ndarray:
    """[up2] -> reflection pad -> conv -> [conditional instance norm] -> activation (style_transformer.ConvLayer)."""
    p = _params()
    if upsample:
        x = x.repeat(2, axis=1).repeat(2, axis=2)  # nearest neighbour, (C, 2H, 2W)
    w = p[f"{name}.conv.weight"]
    k = w.shape[-1] // 2
    x = conv(np.pad(x, ((0, 0), (k, k), (k, k)), mode="reflect"), w, p.get(f"{name}.conv.bias"), stride)
    if f"{name}.norm.gamma.weight" in p:  # γ = W_γ S + b_γ, β = W_β S + b_β
        gamma = p[f"{name}.norm.gamma.weight"] @ code + p[f"{name}.norm.gamma.bias"]  # (C,)
        beta = p[f"{name}.norm.beta.weight"] @ code + p[f"{name}.norm.beta.bias"]
        mean, var = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)  # biased, per channel
        x = gamma[:, None, None] * (x - mean) / np.sqrt(var + EPS) + beta[:, None, None]
    return {"relu": lambda t: np.maximum(t, 0), "sigmoid": lambda t: 1 / (1 + np.exp(-t)),
            "none": lambda t: t}[act](x)


def transform(photo: np.ndarray, code: np.ndarray) -> np.ndarray:
    """The transformer: a photo (3, H, W) in [0, 1] and a style vector (100,) -> the painted photo (3, H, W)."""
    h, w = photo.shape[1:]
    mode = "reflect" if min(h, w) > 4 else "edge"  # as StyleTransformer: work on a multiple of 4
    x = np.pad(photo, ((0, 0), (0, -h % 4), (0, -w % 4)), mode=mode)
    for i, stride in enumerate((1, 2, 2)):
        x = _layer(x, f"transformer.contract.{i}", code, stride)
    for i in range(sum(k.endswith("conv1.conv.weight") for k in _params())):
        r = f"transformer.residual.{i}"
        x = x + _layer(_layer(x, f"{r}.conv1", code), f"{r}.conv2", code, act="none")
    x = _layer(x, "transformer.expand.0", code, upsample=True)
    x = _layer(x, "transformer.expand.1", code, upsample=True)
    return _layer(x, "transformer.expand.2", code, act="sigmoid")[:, :h, :w]


def _array(image: Image.Image) -> np.ndarray:
    return np.asarray(image, np.float32).transpose(2, 0, 1) / 255  # (3, H, W) in [0, 1]


def first_picture(photo: str | Path, paintings: Sequence[str | Path], *, weights: Sequence[float] | None = None,
                  size: int | None = None) -> np.ndarray:
    """The photo (longest side ``size``) painted with the blend of ``paintings``: (H, W, 3) uint8.

    As :func:`stylelib.anystyle.first_picture`, at ``PAINT_SIDE`` px at most.
    """
    code = sum(b * style_vector(_array(_short_side(load_pil(p), STYLE_SIZE)))
               for b, p in zip(blend_weights(weights, len(paintings)), paintings))  # (100,)
    image = load_pil(photo, size=size)
    small = resize_long_side(image, PAINT_SIDE) if max(image.size) > PAINT_SIDE else image
    painted = (transform(_array(small), code).transpose(1, 2, 0) * 255).round().astype(np.uint8)  # (h, w, 3)
    return np.array(Image.fromarray(painted).resize(image.size, Image.BICUBIC))  # a writable copy


def _short_side(image: Image.Image, size: int) -> Image.Image:
    return image.resize(fit_size(image.height, image.width, size, side="short")[::-1], Image.BICUBIC)
