"""Gatys et al.'s method: optimise the pixels of an image (lessons 04-05).

One loop serves L-BFGS and Adam. :func:`stylize_iter` is a generator that
yields an :class:`Iterate` after every step, so a CLI, a notebook or an app
can show progress and stop early (closing the generator stops the work);
:func:`stylize` runs it to the end and returns the image.

Deviations from Gatys et al. (2015), each an option:
- the loss terms are scaled by their targets' sizes (``normalize``, see
  :mod:`stylelib.objective`), so α and β are not the paper's numbers;
- L-BFGS uses a strong-Wolfe line search, which finds its own step size at
  any loss scale (without it, raw Caffe-scale losses overshoot to NaN or
  crawl);
- max pooling by default (the paper: average), the content photo as the
  start (the paper: white noise) and the network in bf16 where the hardware
  does it fast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterator, Sequence

import torch
from PIL import Image

from .color import keep_luminance, match_colors
from .images import ImageError, ImageSource, load_image, resize_tensor
from .objective import Objective
from .options import Options
from .vgg import VGGFeatures


@dataclass
class Iterate:
    """One step of the optimisation, as reported to callers."""

    step: int  # 1-based, within this scale
    steps: int
    loss: float  # the scaled objective the optimiser sees
    terms: dict[str, float]  # weighted parts of ``loss``: "content", "style:relu1_1", ..., "tv"
    raw: dict[str, float]  # the seed's unweighted E_c, E_s^l, TV
    seconds: float  # since the start, all scales
    image: torch.Tensor | None = None  # (1, 3, H, W) in [0, 1] on the CPU, every ``preview_every`` steps
    scale: int = 1  # 1-based level of coarse-to-fine
    scales: int = 1
    final: bool = False  # the last iterate; its image is the result
    info: dict = field(default_factory=dict)  # device, precision, weights, sizes


def resolve_device(device: str = "auto") -> torch.device:
    """``auto``: CUDA, else Apple's MPS, else the CPU."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but no CUDA GPU is available; use device='cpu' or 'auto'")
    return torch.device(device)


@lru_cache(maxsize=1)
def _cpu_has_fast_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for the network, or None for plain fp32."""
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if device.type == "cpu" and _cpu_has_fast_bf16() else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


@lru_cache(maxsize=4)
def get_extractor(layers: tuple, arch: str, weights: str, pooling: str, device: str) -> VGGFeatures:
    """One frozen extractor per configuration, reused across calls (it holds no state)."""
    net = VGGFeatures(layers, arch=arch, weights=weights, pooling=pooling, device=device)
    return net.to(memory_format=torch.channels_last) if device != "mps" else net


def _as_image(source: ImageSource | torch.Tensor, size: int, min_side: int = 1, what: str = "image") -> torch.Tensor:
    """A path/PIL/bytes/tensor -> (1, 3, H, W) with the longest side ``size``.

    Originals smaller than ``min_side`` on a side are refused, not blown up.
    """
    if isinstance(source, torch.Tensor):
        if source.dim() == 3:
            source = source.unsqueeze(0)
        if source.dim() != 4 or source.shape[:2] != (1, 3):
            raise ValueError(f"image tensors must be (1, 3, H, W) in [0, 1]; got {tuple(source.shape)}")
        h, w = source.shape[-2:]
        if min(h, w) < min_side:
            raise ValueError(f"the {what} image is {w}x{h} px, too small; each side needs at least {min_side} px")
        s = size / max(h, w)
        return resize_tensor(source.detach().float().cpu(), (max(1, round(h * s)), max(1, round(w * s))))
    try:
        return load_image(source, size=size, min_side=min_side)
    except ImageError as err:
        raise ImageError(f"{what} image {source}" if not isinstance(source, (bytes, Image.Image)) else f"{what} image",
                         err.reason) from None


def _as_mask(source: ImageSource | torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A mask image -> (1, 1, H, W) in [0, 1] at the content's ``size`` (grey levels are partial weights)."""
    if isinstance(source, torch.Tensor):
        m = source.detach().float().cpu()
        m = m.reshape(1, 1, *m.shape[-2:]) if m.dim() == 2 or m.shape[-3] == 1 else m.reshape(1, -1, *m.shape[-2:])
    else:
        m = _as_image(source, max(size), what="mask")
    m = resize_tensor(m.mean(1, keepdim=True), tuple(size)).clamp(0, 1)  # (1, 1, H, W)
    if m.max() <= 0:
        raise ValueError("a style mask is black everywhere: white marks where its painting goes")
    return m


def _make_optimizer(o: Options, x: torch.Tensor) -> torch.optim.Optimizer:
    if o.optimizer == "adam":
        return torch.optim.Adam([x], lr=o.lr or 0.02)
    # One iteration per step() so we can yield between them. max_eval must be
    # set: torch's default (max_iter * 5 // 4 = 1) leaves the line search no
    # evaluations, it returns t = 0, and L-BFGS never moves again. Tolerances
    # 0: we decide when to stop, not thresholds that depend on the loss scale.
    # History 20 bounds memory at 1024 px (2 x 20 copies of the image).
    return torch.optim.LBFGS(
        [x], lr=o.lr or 1.0, max_iter=1, max_eval=20, history_size=20,
        tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe",
    )


def _initial(o: Options, content: torch.Tensor, style: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    if o.init == "noise":
        return torch.rand(content.shape, generator=gen)  # white noise, as Gatys et al.
    if o.init == "style":
        return resize_tensor(style, tuple(content.shape[-2:]))
    return content.clone()


def stylize_iter(
    content: ImageSource | torch.Tensor,
    style: ImageSource | torch.Tensor | Sequence[ImageSource | torch.Tensor],
    **options,
) -> Iterator[Iterate]:
    """Yield an :class:`Iterate` per step; the last one has ``final=True``.

    ``content`` and ``style`` are file paths, PIL images, bytes or (1, 3, H, W)
    tensors in [0, 1] (never modified); ``style`` may be a list to blend
    several paintings. ``options`` are the fields of :class:`Options`.
    """
    o = Options(**options)
    device = resolve_device(o.device)
    dtype = resolve_precision(o.precision, device)
    gen = torch.Generator().manual_seed(o.seed)
    torch.manual_seed(o.seed)
    styles_in = list(style) if isinstance(style, (list, tuple)) else [style]
    layers = o.layers
    extractor = get_extractor(layers or ("relu1_1",), o.arch, str(o.weights), o.pooling, str(device))
    start = time.perf_counter()
    need = o.min_side()
    full_content = _as_image(content, o.size, need, "content")
    full_styles = [_as_image(s, max(1, round(o.size * o.style_scale)), need, "style") for s in styles_in]
    # (Objective checks that there is one mask per painting.)
    full_masks = [_as_mask(m, full_content.shape[-2:]) for m in o.style_masks] if o.style_masks else None
    info = {
        "device": str(device), "precision": str(dtype).replace("torch.", "") if dtype else "float32",
        "weights": extractor.weights, "weights_note": extractor.weights_note,
        "content_size": list(full_content.shape[-2:][::-1]),
    }
    x = None
    for level in range(1, o.scales + 1):
        size = max(1, round(o.size / 2 ** (o.scales - level)))
        c = _as_image(full_content, size)
        styles = [_as_image(s, max(1, round(size * o.style_scale))) for s in full_styles]
        for img, what in [(c, "content")] + [(s, "style") for s in styles]:
            if min(img.shape[-2:]) < need:
                h, w = img.shape[-2:]
                raise ValueError(
                    f"the {what} image is {w}x{h} px at this size, too small for layers "
                    f"{', '.join(layers)} (each side needs at least {need} px); raise size or style_scale"
                )
        if o.preserve_color == "match":
            styles = [match_colors(s, c) for s in styles]
        info["style_sizes"] = [list(s.shape[-2:][::-1]) for s in styles]
        objective = Objective(
            extractor, c.to(device), [s.to(device) for s in styles],
            content_layers=o.active_content_layers, style_layers=o.gram_layers,
            style_layer_weights=o.style_layer_weights if o.gram_layers else None, style_blend=o.style_blend,
            style_masks=[resize_tensor(m, tuple(c.shape[-2:])).to(device) for m in full_masks] if full_masks else None,
            content_weight=o.content_weight, style_weight=o.style_weight, tv_weight=o.tv_weight,
            normalize=o.normalize, autocast_dtype=dtype,
            mrf_layers=o.patch_layers, mrf_weight=o.mrf_weight, mrf_patch_size=o.mrf_patch_size,
            mrf_stride=o.mrf_stride, mrf_style_stride=o.mrf_style_stride,
            mrf_rotations=o.mrf_rotations, mrf_scales=o.mrf_scales,
        )
        x0 = _initial(o, c, styles[0], gen) if x is None else resize_tensor(x, tuple(c.shape[-2:]))
        x = x0.to(device).contiguous().requires_grad_(True)  # L-BFGS flattens x: keep it contiguous
        optimizer = _make_optimizer(o, x)
        last: dict = {}
        cache: list[dict] = []

        def closure() -> torch.Tensor:
            # L-BFGS's step() starts by evaluating the point its previous line
            # search ended on; answer that from the cache, halving the work.
            for seen in cache:
                if torch.equal(seen["x"], x):
                    x.grad = seen["grad"].clone()
                    last.update(seen)
                    return seen["loss"]
            optimizer.zero_grad(set_to_none=True)
            loss, terms, raw = objective(x)
            loss.backward()
            last.update(loss=loss.detach(), terms=terms, raw=raw)
            if o.optimizer == "lbfgs":
                cache[:] = [dict(last, x=x.detach().clone(), grad=x.grad.clone())] + cache[:2]
            return loss

        def finish(image: torch.Tensor) -> torch.Tensor:
            out = image.detach().float().clamp(0, 1).cpu().contiguous()
            return keep_luminance(out, c) if o.preserve_color == "luminance" else out

        good, failures = x.detach().clone(), 0
        # MRF matches jump as the image changes, which makes the objective
        # discontinuous; a line search on it wasted ~9 evaluations per step.
        # So L-BFGS matches once at the start of each step and keeps the
        # matches for that step's line search (Li & Wand rematch every step).
        objective.freeze_matches = o.optimizer == "lbfgs"
        for step in range(1, o.steps + 1):
            if objective.mrf_layers:
                objective.rematch = True
                cache.clear()  # the cached point was scored with the old matches
            optimizer.step(closure)
            if o.optimizer == "adam":
                with torch.no_grad():
                    x.clamp_(0, 1)  # Adam steps may leave [0, 1]; L-BFGS's line search must not be disturbed
            if not (torch.isfinite(last["loss"]) and torch.isfinite(x).all()):
                # Back to the last finite image with a fresh optimiser; give up after 3 tries.
                failures += 1
                if failures > 3:
                    raise FloatingPointError(
                        f"the loss became NaN/inf at step {step}; lower lr or the weights"
                    )
                with torch.no_grad():
                    x.copy_(good)
                optimizer = _make_optimizer(o, x)
                continue
            good = x.detach().clone()
            is_last = step == o.steps and level == o.scales
            if step == o.steps:  # exact final terms at the final image
                with torch.no_grad():
                    loss, terms, raw = objective(x)
                last.update(loss=loss, terms=terms, raw=raw)
            preview = step == o.steps or (o.preview_every and step % o.preview_every == 0)
            yield Iterate(
                step=step, steps=o.steps, loss=last["loss"].item(),
                terms={k: v.item() for k, v in last["terms"].items()},
                raw={k: v.item() for k, v in last["raw"].items()},
                seconds=time.perf_counter() - start,
                image=finish(x) if preview else None,
                scale=level, scales=o.scales, final=is_last, info=info,
            )
        x = x.detach().float().cpu()


def stylize(
    content: ImageSource | torch.Tensor,
    style: ImageSource | torch.Tensor | Sequence[ImageSource | torch.Tensor],
    *,
    callback: Callable[[Iterate], None] | None = None,
    **options,
) -> torch.Tensor:
    """Run :func:`stylize_iter` to the end; returns the result, (1, 3, H, W) in [0, 1].

    ``callback`` is called with every :class:`Iterate` (e.g. a progress bar).
    """
    result = None
    for it in stylize_iter(content, style, **options):
        if callback is not None:
            callback(it)
        if it.final:
            result = it.image
    assert result is not None
    return result
