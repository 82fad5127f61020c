"""Any painting in one pass: Ghiasi et al.'s arbitrary-style network and Dumoulin et al.'s 26 styles (lesson 11).

Johnson et al. train one network per painting. Dumoulin et al. (2017)
train one network for N paintings that share every convolution and differ
only in their instance-norm (γ, β); Ghiasi et al. (2017) predict (γ, β)
from *any* painting through a 100-d style vector S (see :mod:`stylelib.cin`,
:mod:`stylelib.style_transformer`, :mod:`stylelib.mobilenet`).

Controls, all on the style code z that sets (γ, β):

- several paintings with weights w_i:  S = Σ_i w_i S_i / Σ_i w_i
- strength s in [0, 1]:  S = s S_painting + (1 - s) S_photo, Magenta's
  interpolation with the photo's own style vector (0 gives back roughly
  the photo, 1 the painting);
- brush size: the painting is seen by the predictor with its shorter side
  ``style_size`` px (256 as released); the photo is stylised at its own size;
- the 26 styles: z = mixing weights over the 26 rows of (γ, β); they have
  no "photo" code, so their strength mixes pixels with the photo instead.

Deviation: the released predictor takes a centre-cropped 256 x 256
square; we keep the whole painting at the same scale (its shorter side
``style_size``), which the fully convolutional network allows. (Seeing a
wide painting whole but smaller, longest side 256, weakened its style:
relative style error 0.68 against 0.49 for Renoir's Moulin de la Galette
on Neuschwanstein.)

A photo larger than ``work_size`` (512 px) is painted at 512 px and scaled
back: the network learnt its strokes at that scale, and at a photo's full
1024 px they shrink to fine texture. Measured on the six bundled photos x
six paintings at 1024 px (bench/any_quality.py, judged at 384 px): painted
at 512, the same content error as at full size (0.84) with a stronger style
(relative style error 0.34 against 0.42); at 384, 0.86 and 0.38.

Weights come from the released networks, converted once by
scripts/convert_any_style.py to fp16 safetensors in ``assets/anystyle``;
``networks.json`` there records their SHA-256, checked at load.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

import torch
from torch import nn

from . import color
from .anystyle_np import ASSETS, blend_weights, network_bytes
from .color import PRESERVE_COLOR
from .images import ImageSource, as_image, fit_size, resize_tensor
from .media import Frames
from .mobilenet import STYLE_DIM, StylePredictor
from .runtime import keep_freed_memory, resolve_device, resolve_precision
from .style_transformer import StyleTransformer

NETWORKS = ("arbitrary", "multistyle26")
N_STYLES = 26
STYLE_SIZE = 256  # the predictor's input as released
ARBITRARY_DIMS = dict(contract=(8, 16, 32), expand=(16, 8), residuals=5)  # the released transformer's shape
VECTOR_CACHE = 64  # style vectors of painting files kept per AnyStyle
WORK_SIZE = 512  # px the transformer paints at, at most (None: the photo's own size); see the module notes
Painting = ImageSource | torch.Tensor


class ArbitraryNet(nn.Module):
    """Ghiasi et al.: ``predictor`` (painting -> S) and ``transformer`` (photo, S -> result)."""

    def __init__(self) -> None:
        super().__init__()
        self.predictor = StylePredictor()
        self.transformer = StyleTransformer(STYLE_DIM, **ARBITRARY_DIMS)


class MultiStyleNet(nn.Module):
    """Dumoulin et al.'s 26 styles: ``transformer`` (photo, mixing weights -> result)."""

    def __init__(self) -> None:
        super().__init__()
        self.transformer = StyleTransformer(N_STYLES, contract=(32, 32, 32), expand=(8, 4), residuals=6,
                                            condition_contract=True, code_bias=False)


def build(name: str) -> nn.Module:
    """An untrained network of the given kind (the shapes the converter fills)."""
    if name not in NETWORKS:
        raise ValueError(f"network must be one of {', '.join(NETWORKS)}; got {name!r}")
    return ArbitraryNet() if name == "arbitrary" else MultiStyleNet()


@lru_cache(maxsize=2)
def load_network(name: str) -> nn.Module:
    """A shipped network in eval mode, fp32 on the CPU, after checking its file's SHA-256."""
    from safetensors.torch import load

    net = build(name)
    state = {k: v.float() for k, v in load(network_bytes(name, ASSETS)).items()}
    if not all(torch.isfinite(v).all() for v in state.values()):
        raise ValueError(f"the {name} network holds non-finite weights; reinstall stylelib")
    net.load_state_dict(state)
    return net.eval().requires_grad_(False)


def mix_weights(style: int | Sequence[float] | Mapping[int, float]) -> torch.Tensor:
    """A 26-style choice -> normalised mixing weights (1, 26): an index, 26 weights, or {index: weight}."""
    w = torch.zeros(N_STYLES, dtype=torch.float64)
    if isinstance(style, Mapping):
        for index, weight in style.items():
            w[_index(index)] += float(weight)
    elif isinstance(style, (int, float, bool)):
        w[_index(style)] = 1.0
    else:
        values = [float(v) for v in style]
        if len(values) != N_STYLES:
            raise ValueError(f"a mix of the built-in styles needs {N_STYLES} weights; got {len(values)}")
        w = torch.tensor(values, dtype=torch.float64)
    if not torch.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("style weights must be finite, >= 0 and not all 0")
    return (w / w.sum()).float()[None]  # (1, 26)


def _index(i) -> int:
    if isinstance(i, bool) or int(i) != i or not 0 <= int(i) < N_STYLES:
        raise ValueError(f"a built-in style is an index from 0 to {N_STYLES - 1}; got {i!r}")
    return int(i)


def _check_unit(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise ValueError(f"{name} must be between 0 and 1; got {value}")
    return value


def _as_tensor(image: Painting, size: int | None) -> torch.Tensor:
    """(1, 3, H, W) in [0, 1] from any image source or a bundled example's name (a tensor is never modified)."""
    from .data import resolve_image

    return as_image(resolve_image(image) if isinstance(image, str) else image, size, what="image")


def _short_side(image: torch.Tensor, size: int) -> torch.Tensor:
    """``image`` scaled so its shorter side is ``size`` px (the released predictor's 256 x 256 crop scale)."""
    return resize_tensor(image, fit_size(*image.shape[-2:], size, side="short"))


class AnyStyle:
    """The two networks made ready for inference, with a cache of style vectors.

    ``AnyStyle()(photo, ["starry-night", "great-wave"], weights=[2, 1], strength=0.8)``.
    Low precision ("auto": bf16 where the device is fast at it) casts a copy
    of the weights, as :class:`stylelib.fast.Stylizer` does.
    """

    def __init__(self, *, device: str = "auto", precision: str = "auto", compile: bool = False) -> None:
        self.device = resolve_device(device)
        keep_freed_memory()  # every photo's feature maps reuse the last one's memory
        self.dtype = resolve_precision(precision, self.device) or torch.float32
        self.compile = compile  # torch.compile the transformers: ~15 s per new size, then ~2.5x faster
        self._nets: dict[str, nn.Module] = {}
        self._vectors: dict[tuple, torch.Tensor] = {}

    def net(self, name: str) -> nn.Module:
        if name not in self._nets:
            net = copy.deepcopy(load_network(name)).to(self.device, self.dtype)
            if self.compile:
                net.transformer = torch.compile(net.transformer)
            self._nets[name] = net
        return self._nets[name]

    def style_vector(self, painting: Painting, *, style_size: int = STYLE_SIZE) -> torch.Tensor:
        """S, (1, 100) float32: the predictor's summary of a painting seen with its shorter side ``style_size`` px."""
        if not 16 <= int(style_size) <= 4096:
            raise ValueError(f"style_size must be from 16 to 4096 px; got {style_size}")
        key = (painting, int(style_size)) if isinstance(painting, (str, Path)) else None
        if key in self._vectors:
            return self._vectors[key]
        x = _short_side(_as_tensor(painting, None), int(style_size)).to(self.device, self.dtype)
        with torch.no_grad():
            s = self.net("arbitrary").predictor(x).float().cpu()  # (1, 100)
        if key is not None:
            self._vectors[key] = s
            while len(self._vectors) > VECTOR_CACHE:  # bounded: a server sees many uploads
                self._vectors.pop(next(iter(self._vectors)))
        return s

    def transform(self, photos: torch.Tensor, code: torch.Tensor, network: str = "arbitrary") -> torch.Tensor:
        """(B, 3, H, W) photos and a code (1 or B, D) -> stylised (B, 3, H, W), float32 on the CPU."""
        with torch.no_grad():
            x = photos.to(self.device, self.dtype)
            return self.net(network).transformer(x, code.to(self.device)).float().clamp(0, 1).cpu()

    def frames(self, paintings: Painting | Sequence[Painting], *, weights: Sequence[float] | None = None,
               strength: float = 1.0, style_size: int = STYLE_SIZE, preserve_color: str = "none",
               work_size: int | None = WORK_SIZE) -> Frames:
        """A stylizer for batches of photos (B, 3, H, W), e.g. video frames: the paintings' S is taken once.

        With ``strength`` < 1, or ``preserve_color`` "luminance-only" or
        "match", each photo's own S (or its colours) is taken per image, so
        each frame is treated as a photo of its own. A photo larger than
        ``work_size`` (longest side) is painted at that size and scaled back
        (None: at its own size; see the module notes).
        """
        if work_size is not None and not 64 <= int(work_size) <= 8192:
            raise ValueError(f"work_size must be from 64 to 8192 px (or None); got {work_size}")
        if preserve_color not in PRESERVE_COLOR:
            raise ValueError(f"preserve_color must be one of {', '.join(PRESERVE_COLOR)}; got {preserve_color!r}")
        strength = _check_unit("strength", strength)
        paintings = list(paintings) if isinstance(paintings, (list, tuple)) else [paintings]
        blend = blend_weights(weights, len(paintings))
        styles = [_short_side(_as_tensor(p, None), style_size) for p in paintings]  # loaded once, errors now
        per_photo = preserve_color in ("luminance-only", "match")  # the paintings are adapted to each photo
        fixed = None if per_photo else sum(
            w * self.style_vector(p, style_size=style_size) for w, p in zip(blend, paintings))

        def run(photos: torch.Tensor) -> torch.Tensor:
            out = []
            for photo in photos.split(1):  # (1, 3, H, W): the code may differ per photo
                x, adapted = color.prepare(photo, styles, preserve_color)
                s = fixed if fixed is not None else sum(
                    w * self.style_vector(p, style_size=style_size) for w, p in zip(blend, adapted))
                if strength < 1:
                    s = strength * s + (1 - strength) * self.style_vector(x, style_size=style_size)
                out.append(color.finish(self._paint(x, s, work_size), photo, preserve_color))
            return torch.cat(out)  # (B, 3, H, W)

        return run

    def _paint(self, x: torch.Tensor, code: torch.Tensor, work_size: int | None,
               network: str = "arbitrary") -> torch.Tensor:
        h, w = x.shape[-2:]
        if work_size is None or max(h, w) <= work_size:
            return self.transform(x, code, network)
        small = resize_tensor(x, fit_size(h, w, work_size))
        # the strokes keep the size relative to the photo that the network learnt them at
        return resize_tensor(self.transform(small, code, network), (h, w))

    def __call__(self, photo: Painting, paintings: Painting | Sequence[Painting], *,
                 weights: Sequence[float] | None = None, strength: float = 1.0, size: int | None = None,
                 style_size: int = STYLE_SIZE, preserve_color: str = "none",
                 work_size: int | None = WORK_SIZE) -> torch.Tensor:
        """Stylise ``photo`` with any painting(s); see :func:`stylize_any`."""
        run = self.frames(paintings, weights=weights, strength=strength, style_size=style_size,
                          preserve_color=preserve_color, work_size=work_size)
        return run(_as_tensor(photo, size))

    def builtin_frames(self, style: int | Sequence[float] | Mapping[int, float] = 0, *, strength: float = 1.0,
                       preserve_color: str = "none", work_size: int | None = WORK_SIZE) -> Frames:
        """A stylizer for batches of photos with one of the 26 built-in styles or a mix."""
        allowed = ("none", "luminance-only", "recombine")  # "match" needs a painting to recolour
        if preserve_color not in allowed:
            raise ValueError(f"preserve_color for the built-in styles is one of {', '.join(allowed)}; "
                             f"got {preserve_color!r}")
        strength, code = _check_unit("strength", strength), mix_weights(style)

        def run(photos: torch.Tensor) -> torch.Tensor:
            x, _ = color.prepare(photos, [], preserve_color)
            y = torch.cat([self._paint(one, code, work_size, "multistyle26") for one in x.split(1)])
            y = strength * y + (1 - strength) * x  # no photo code exists for these: mix pixels
            return color.finish(y, photos, preserve_color)

        return run

    def builtin(self, photo: Painting, style: int | Sequence[float] | Mapping[int, float] = 0, *,
                strength: float = 1.0, size: int | None = None, preserve_color: str = "none") -> torch.Tensor:
        """Stylise ``photo`` with one of the 26 built-in styles or a mix; see :func:`stylize_builtin`."""
        return self.builtin_frames(style, strength=strength, preserve_color=preserve_color)(_as_tensor(photo, size))


@lru_cache(maxsize=2)
def _default(device: str, precision: str) -> AnyStyle:
    return AnyStyle(device=device, precision=precision)


def stylize_any(photo: Painting, paintings: Painting | Sequence[Painting], *, weights: Sequence[float] | None = None,
                strength: float = 1.0, size: int | None = None, style_size: int = STYLE_SIZE,
                preserve_color: str = "none", work_size: int | None = WORK_SIZE, device: str = "auto",
                precision: str = "auto") -> torch.Tensor:
    """Any painting, one pass (Ghiasi et al. 2017): the photo (1, 3, H, W) in [0, 1], stylised.

    ``photo`` and ``paintings`` are files, names of bundled examples, PIL
    images, bytes or (1, 3, H, W) tensors (never modified); several
    paintings blend with ``weights``. ``strength`` 0 keeps roughly the
    photo, 1 is the painting. ``size`` scales the photo's longest side
    (default: as it is); ``style_size`` is the painting's shorter side, as
    the predictor sees it (the brush size). ``preserve_color`` (see
    :mod:`stylelib.color`): "luminance-only" stylises the photo's
    luminance with the painting's (matched) luminance, "recombine" keeps
    the result's luminance with the photo's chroma, "match" gives the
    painting the photo's colours before its style vector is taken.
    """
    run = _default(device, precision)
    return run(photo, paintings, weights=weights, strength=strength, size=size, style_size=style_size,
               preserve_color=preserve_color, work_size=work_size)


def first_picture(photo: Painting, paintings: Painting | Sequence[Painting], *, weights: Sequence[float] | None = None,
                  size: int | None = None, runner: AnyStyle | None = None) -> torch.Tensor:
    """Something to show while an optimisation starts (~0.1 s at 512 px): the one-pass picture of the photo.

    ``weights``: the paintings', any scale (as ``style_blend``). The photo
    itself if the network can't paint it (too small a photo): the run that
    follows says why.
    """
    try:
        return (runner or _default("cpu", "auto"))(photo, paintings, weights=weights, size=size)
    except (ValueError, RuntimeError):
        return _as_tensor(photo, size)


def stylize_builtin(photo: Painting, style: int | Sequence[float] | Mapping[int, float] = 0, *, strength: float = 1.0,
                    size: int | None = None, preserve_color: str = "none", device: str = "auto",
                    precision: str = "auto") -> torch.Tensor:
    """One of Dumoulin et al.'s 26 styles (an index 0-25), or a mix ({index: weight} or 26 weights)."""
    return _default(device, precision).builtin(photo, style, strength=strength, size=size,
                                               preserve_color=preserve_color)


def style_space(vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PCA of style vectors (N, 100) -> (coords (N, 2), mean (100,), axes (2, 100)).

    A point p in the plane maps back to S = mean + p @ axes, so picking a
    point between two paintings is (nearly) their interpolated vector.
    """
    v = vectors.double()
    mean = v.mean(0)
    _, _, vt = torch.linalg.svd(v - mean, full_matrices=False)
    axes = vt[:2]  # (2, 100), orthonormal rows
    return ((v - mean) @ axes.T).float(), mean.float(), axes.float()


def interpolate_at(point: torch.Tensor, coords: torch.Tensor, vectors: torch.Tensor) -> tuple[torch.Tensor, int, int, float]:
    """The style vector for a point picked in the plane of :func:`style_space`.

    The point is projected onto the segment between its two nearest
    paintings i and j, at t in [0, 1] from i, and the result is
    S = (1 - t) S_i + t S_j: the interpolation between two real style
    vectors (the plane itself keeps only 2 of their 100 dimensions).
    Returns (S (1, 100), i, j, t).
    """
    d = (coords - point).norm(dim=1)  # (N,)
    i, j = d.argsort()[:2].tolist()
    ab = coords[j] - coords[i]
    t = float(((point - coords[i]) @ ab / ab.dot(ab).clamp_min(1e-12)).clamp(0, 1))
    return ((1 - t) * vectors[i] + t * vectors[j])[None], i, j, t

