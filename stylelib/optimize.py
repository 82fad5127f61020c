"""Gatys et al.'s method: optimise an image until its features match (lessons 04-05).

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
- max pooling by default (the paper: average), the content photo in the
  painting's colour mean and covariance as the start (the paper: white
  noise; ``init="content"``: the photo as it is), and the network in bf16
  where the hardware does it fast;
- optional: coarse-to-fine sizes, a Laplacian-pyramid parametrization
  (:mod:`stylelib.parametrize`), a warm start from the any-painting
  network or from a fast model trained on the painting (``init="model"``;
  ten steps from it at β = 2, the ``polish`` preset, reach the painting's
  strength), and a stop rule when the loss has flattened.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import torch

from . import color
from .images import ImageSource, as_image, fit_size, resize_tensor
from .masks import as_mask
from .models import model_named_after, model_path
from .objective import Objective
from .options import Options
from .parametrize import parametrize
from .runtime import keep_freed_memory, resolve_device, resolve_precision
from .vgg import get_extractor  # noqa: F401  (lessons 05 and 07 import it from here)

Painting = ImageSource | torch.Tensor


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
    info: dict = field(default_factory=dict)  # device, precision, weights, sizes, early stops, evaluations per
    # level and "work": evaluations weighted by their pixels over the result's (a full-size evaluation = 1)


def check_memory(o: Options, h: int, w: int, device: str) -> None:
    """Refuse, before any work, a run whose peak memory would not fit (stylelib.cost), naming a size that would."""
    from .cost import check_fits, estimate_stylize

    def at(size: int):
        return estimate_stylize(dataclasses.replace(o, size=size), *fit_size(h, w, size), device=device)

    check_fits(at(max(h, w)), "this run", lambda size: at(size).fits, max(h, w))


# L-BFGS's first step changes the steepest pixel by this much of the [0, 1] range (see _first_lr); 0: torch's rule.
# Only with the default lr: a given --lr is torch's, first step included.
# Measured: 0.01-0.1 all took 2 evaluations for the first step at 256² (torch's rule: 4-12), 0.03 the best objective.
FIRST_STEP = 0.03
# L-BFGS keeps this many (step, gradient-change) pairs: 2 x HISTORY copies of the image (12.6 MB each at 1024²).
# Measured (README, "L-BFGS's memory"): 50 or 100 reached the same objective in the same evaluations.
HISTORY = 20


def _make_optimizer(o: Options, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    if o.optimizer == "adam":
        return torch.optim.Adam(params, lr=o.lr or 0.02)
    # One iteration per step() so we can yield between them. max_eval must be
    # set: torch's default (max_iter * 5 // 4 = 1) leaves the line search no
    # evaluations, it returns t = 0, and L-BFGS never moves again. Tolerances
    # 0: we decide when to stop, not thresholds that depend on the loss scale.
    return torch.optim.LBFGS(
        params, lr=o.lr or 1.0, max_iter=1, max_eval=20, history_size=HISTORY,
        tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe",
    )


def with_init_model(o: Options, style: Painting | Sequence[Painting]) -> Options:
    """``o`` with its start named: ``init="model"`` without ``init_model`` takes the bundled model named after the
    (first) painting, so that a recipe records which model it started from."""
    if o.init != "model":
        return o
    if o.init_model is not None:
        model_path(o.init_model)  # a name that is not a model is refused now, not after the targets are computed
        return o
    first = style[0] if isinstance(style, (list, tuple)) else style
    return dataclasses.replace(o, init_model=model_named_after(first))


def _initial(o: Options, content: torch.Tensor, styles: list[torch.Tensor], masks: list[torch.Tensor] | None,
             gen: torch.Generator) -> torch.Tensor:
    if o.init == "matched":  # measured: a lower objective than the photo start in 10-20% fewer evaluations
        masks = [resize_tensor(m, tuple(content.shape[-2:])) for m in masks] if masks else None
        return color.painting_colors(content, styles, list(o.style_blend) if o.style_blend else None, masks)
    if o.init == "noise":
        return torch.rand(content.shape, generator=gen)  # white noise, as Gatys et al.
    if o.init == "style":
        return resize_tensor(styles[0], tuple(content.shape[-2:]))
    if o.init == "model":  # a fast model's one-pass picture (lesson 09): its painting's strokes before step one
        from .fast import Stylizer

        picture = Stylizer(o.init_model, device=o.device, precision=o.precision)(content)  # (1, 3, H, W)
        if masks:  # where no painting goes, the photo (as the matched start keeps it)
            painted = sum(resize_tensor(m, tuple(content.shape[-2:])) for m in masks).clamp(max=1)  # (1, 1, H, W)
            picture = content + painted * (picture - content)
        return picture
    if o.init == "instant":  # the any-painting network's picture: most of the way there in ~0.1 s
        from .anystyle import AnyStyle

        blend = [w / sum(o.style_blend) for w in o.style_blend] if o.style_blend else None
        return AnyStyle(device="cpu", precision=o.precision)(content, styles, weights=blend)
    return content.clone()


def _inputs(content: Painting, style: Painting | Sequence[Painting], o: Options, device: torch.device):
    """The photo, paintings and masks at full size, after the checks that need no work."""
    need = o.min_side()
    photo = as_image(content, o.size, need, "content image")
    check_memory(o, *photo.shape[-2:], str(device))
    styles = [as_image(s, max(1, round(o.size * o.style_scale)), need, "style image")
              for s in (list(style) if isinstance(style, (list, tuple)) else [style])]
    masks = [as_mask(m, photo) for m in o.style_masks] if o.style_masks else None  # Objective checks the count
    return photo, styles, masks


def _objective(extractor, c: torch.Tensor, styles: list[torch.Tensor], masks, o: Options, device) -> Objective:
    size = tuple(c.shape[-2:])
    return Objective(
        extractor, c.to(device), [s.to(device) for s in styles],
        content_layers=o.active_content_layers, style_layers=o.gram_layers,
        style_layer_weights=o.style_layer_weights if o.gram_layers else None, style_blend=o.style_blend,
        style_masks=[resize_tensor(m, size).to(device) for m in masks] if masks else None,
        content_weight=o.content_weight, style_weight=o.style_weight, tv_weight=o.tv_weight, normalize=o.normalize,
        mrf_layers=o.patch_layers, mrf_weight=o.mrf_weight, mrf_patch_size=o.mrf_patch_size,
        mrf_stride=o.mrf_stride, mrf_style_stride=o.mrf_style_stride,
        mrf_rotations=o.mrf_rotations, mrf_scales=o.mrf_scales,
    )


def _level_inputs(photo, styles, o: Options, size: int):
    """The photo and paintings at one coarse-to-fine size, as the network should see them (colour option)."""
    need = o.min_side()
    c = resize_tensor(photo, fit_size(*photo.shape[-2:], size))
    level_styles = [resize_tensor(s, fit_size(*s.shape[-2:], max(1, round(size * o.style_scale)))) for s in styles]
    for img, what in [(c, "content")] + [(s, "style") for s in level_styles]:
        if min(img.shape[-2:]) < need:
            h, w = img.shape[-2:]
            raise ValueError(f"the {what} image is {w}x{h} px at this size, too small for layers "
                             f"{', '.join(o.layers)} (each side needs at least {need} px); raise size or style_scale")
    seen, seen_styles = color.prepare(c, level_styles, o.preserve_color)
    return c, seen, seen_styles


def stylize_iter(content: Painting, style: Painting | Sequence[Painting], options: Options | None = None,
                 **kwargs) -> Iterator[Iterate]:
    """Yield an :class:`Iterate` per step; the last one has ``final=True``.

    ``content`` and ``style`` are file paths, PIL images, bytes or (1, 3, H, W)
    tensors in [0, 1] (never modified); ``style`` may be a list to blend
    several paintings. Give an :class:`Options`, or its fields as keywords.
    """
    if options is not None and kwargs:
        raise ValueError("give options as an Options object or as keywords, not both")
    o = with_init_model(options if options is not None else Options(**kwargs), style)
    device = resolve_device(o.device)
    kept = keep_freed_memory()  # every evaluation's feature maps reuse the last one's memory (a third of it at 1024²)
    dtype = resolve_precision(o.precision, device)
    gen = torch.Generator().manual_seed(o.seed)
    torch.manual_seed(o.seed)
    extractor = get_extractor(o.layers or ("relu1_1",), o.arch, str(o.weights), o.pooling, str(device), dtype)
    network = torch.compile(extractor) if o.compile else extractor
    start = time.perf_counter()
    photo, styles, masks = _inputs(content, style, o, device)
    info = {"device": str(device), "precision": str(dtype).replace("torch.", "") if dtype else "float32",
            "weights": extractor.weights, "weights_note": extractor.weights_note, "freed_memory_kept": kept,
            "conv_algorithm": "torch's default (compiled)" if o.compile else extractor.conv_algorithm,
            "content_size": list(photo.shape[-2:][::-1]),
            "stopped_early": {}, "evaluations": {}, "work": 0.0}
    x = None
    levels = o.levels()
    for level, (size, steps) in enumerate(levels, start=1):
        c, seen, seen_styles = _level_inputs(photo, styles, o, size)
        info["style_sizes"] = [list(s.shape[-2:][::-1]) for s in seen_styles]
        objective = _objective(network, seen, seen_styles, masks, o, device)
        if x is None and o.init == "model" and level < len(levels):  # a model paints its strokes at full size
            x = _initial(o, _level_inputs(photo, styles, o, levels[-1][0])[1], seen_styles, masks, gen)
        x0 = _initial(o, seen, seen_styles, masks, gen) if x is None else resize_tensor(x, tuple(seen.shape[-2:]))
        image = parametrize(o.parametrization, x0.to(device))
        yield from _optimise(objective, image, o, steps, level, len(levels), c, start, info)
        x = image.image().detach().float().cpu()


def _first_lr(grads: list[torch.Tensor]) -> float:
    """The lr that makes L-BFGS's first trial step move the steepest parameter by ``FIRST_STEP``.

    The parameters are the pixels (or, for ``parametrization="pyramid"``,
    the pyramid's coefficients). torch tries t = min(1, 1 / Σ|g|) · lr
    first. With our normalised loss Σ|g| is large, so t is tiny and the
    strong-Wolfe search spends 4-12 evaluations growing it (≤ 10× each); a
    step of max|t g| = FIRST_STEP is usually accepted at once, whatever
    the scale of the loss.
    """
    g_max = max(g.abs().max().item() for g in grads)
    g_sum = sum(g.abs().sum().item() for g in grads)
    if not (math.isfinite(g_max) and g_max > 0):
        return 1.0  # a flat or broken start: torch's own rule (the NaN guard deals with the rest)
    return FIRST_STEP / g_max / min(1.0, 1.0 / g_sum)


def _sized_first_step(optimizer: torch.optim.Optimizer, closure: Callable, params: list[torch.Tensor]) -> None:
    """L-BFGS's first step with its trial sized by :func:`_first_lr`; later steps get lr 1 back."""
    with torch.enable_grad():  # as LBFGS.step runs its closure: a caller may iterate under no_grad
        closure()  # the first evaluation, cached: L-BFGS's own first one is then free
    optimizer.param_groups[0]["lr"] = _first_lr([p.grad for p in params])
    optimizer.step(closure)
    optimizer.param_groups[0]["lr"] = 1.0  # later steps: L-BFGS's curvature sets the scale


def _optimise(objective: Objective, image, o: Options, steps: int, level: int, levels: int, photo: torch.Tensor,
              start: float, info: dict) -> Iterator[Iterate]:
    """L-BFGS or Adam on one size; yields an Iterate per step."""
    optimizer = _make_optimizer(o, image.params)
    last: dict = {}
    cache: list[dict] = []

    def closure() -> torch.Tensor:
        # L-BFGS's step() starts by evaluating the point its previous line
        # search ended on; answer that from the cache, halving the work.
        for seen in cache:
            if all(torch.equal(a, b) for a, b in zip(seen["params"], image.params)):
                for p, g in zip(image.params, seen["grads"]):
                    p.grad = g.clone()
                last.update(seen)
                return seen["loss"]
        optimizer.zero_grad(set_to_none=True)
        x = image.image()
        loss, terms, raw = objective(x)
        loss.backward()
        # Work in a unit that no machine changes: evaluations, each weighted by its pixels over the result's.
        info["evaluations"][str(level)] = info["evaluations"].get(str(level), 0) + 1
        info["work"] += x.shape[-2:].numel() / math.prod(info["content_size"])
        last.update(loss=loss.detach(), terms=terms, raw=raw)
        if o.optimizer == "lbfgs":
            point = dict(last, params=[p.detach().clone() for p in image.params],
                         grads=[p.grad.clone() for p in image.params])
            cache[:] = [point] + cache[:2]
        return loss

    def result() -> torch.Tensor:
        out = image.image().detach().float().clamp(0, 1).cpu().contiguous()
        return color.finish(out, photo, o.preserve_color)

    scaled_first = o.optimizer == "lbfgs" and o.lr is None and FIRST_STEP > 0
    good, failures, history = [p.detach().clone() for p in image.params], 0, []
    # MRF matches jump as the image changes, which makes the objective
    # discontinuous; a line search on it wasted ~9 evaluations per step.
    # So L-BFGS matches once at the start of each step and keeps the
    # matches for that step's line search (Li & Wand rematch every step).
    objective.freeze_matches = o.optimizer == "lbfgs"
    step = 0
    while step < steps:
        step += 1
        if objective.mrf_layers:
            objective.rematch = True
            cache.clear()  # the cached point was scored with the old matches
        # the first step at each size (a new L-BFGS per size); after a NaN the fresh optimiser keeps torch's
        # cautious tiny first step, as the step count does not start again
        if scaled_first and step == 1:
            _sized_first_step(optimizer, closure, image.params)
        else:
            optimizer.step(closure)
        if o.optimizer == "adam":
            image.clamp_()  # Adam steps may leave [0, 1]; L-BFGS's line search must not be disturbed
        if not (torch.isfinite(last["loss"]) and all(torch.isfinite(p).all() for p in image.params)):
            # Back to the last finite image with a fresh optimiser; give up after 3 tries.
            failures += 1
            if failures > 3:
                raise FloatingPointError(f"the loss became NaN/inf at step {step}; lower lr or the weights")
            with torch.no_grad():
                for p, g in zip(image.params, good):
                    p.copy_(g)
            optimizer = _make_optimizer(o, image.params)
            continue
        good = [p.detach().clone() for p in image.params]
        history.append(last["loss"].item())
        if o.stop_tol and _flat(history, o.stop_window, o.stop_tol) and step < steps:
            info["stopped_early"][str(level)] = step  # the recipe records where the rule stopped
            steps = step
        if step == steps:  # the final terms, at the final image (MRF: with matches made for it)
            objective.rematch = True
            with torch.no_grad():
                loss, terms, raw = objective(image.image())
            last.update(loss=loss, terms=terms, raw=raw)
        preview = step == steps or (o.preview_every and step % o.preview_every == 0)
        yield Iterate(
            step=step, steps=steps, loss=last["loss"].item(),
            terms={k: v.item() for k, v in last["terms"].items()}, raw={k: v.item() for k, v in last["raw"].items()},
            seconds=time.perf_counter() - start, image=result() if preview else None,
            scale=level, scales=levels, final=step == steps and level == levels, info=info,
        )


def _flat(history: list[float], window: int, tol: float) -> bool:
    """The stop rule: over the last ``window`` steps the loss fell by less than ``tol`` of its value."""
    if len(history) <= window:
        return False
    before, now = history[-window - 1], history[-1]
    return before - now < tol * abs(before)


def stylize(content: Painting, style: Painting | Sequence[Painting], options: Options | None = None, *,
            callback: Callable[[Iterate], None] | None = None, **kwargs) -> torch.Tensor:
    """Run :func:`stylize_iter` to the end; returns the result, (1, 3, H, W) in [0, 1].

    ``callback`` is called with every :class:`Iterate` (e.g. a progress bar).
    """
    result = None
    for it in stylize_iter(content, style, options, **kwargs):
        if callback is not None:
            callback(it)
        if it.final:
            result = it.image
    assert result is not None
    return result
