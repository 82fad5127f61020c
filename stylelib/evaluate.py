"""Judging a result: the seed's errors as fractions of a baseline (lessons 04, 09, 11).

Every method in the kit (optimisation, fast networks, the arbitrary-style
network) is judged by the same numbers, through the same extractor and
losses as the optimiser:

    content error  c = E_c(x) / E_c(0)                    at relu4_2
    style error    s = S(x) / S(photo),   S = Σ_l w_l E_s^l / E_s^l(0)

c is 0 for the photo itself and 1 for blank features; s is 1 for the
untouched photo and 0 at the painting's Gram matrices, so "s = 0.4" reads
"the result has covered 60% of the way from the photo's style to the
painting's". The painting is seen at the result's size (``style_scale``
1) and the network runs in fp32, so the figures do not depend on the CPU.
"""

from __future__ import annotations

from typing import Sequence

import torch

from .images import ImageSource
from .options import DEFAULTS


def relative_errors(
    result: torch.Tensor,
    content: torch.Tensor,
    style: ImageSource | torch.Tensor | Sequence[ImageSource | torch.Tensor],
    *,
    arch: str = DEFAULTS.arch,
    weights: str = DEFAULTS.weights,
    content_layers: Sequence[str] = DEFAULTS.content_layers,
    style_layers: Sequence[str] = DEFAULTS.style_layers,
    style_blend: Sequence[float] | None = None,
    style_scale: float = 1.0,
) -> dict[str, float]:
    """{"content": c, "style": s} for a result (1, 3, H, W) of the photo ``content`` (same size).

    The painting is seen at ``style_scale`` times the result's size (1: the same size).
    """
    from .objective import Objective
    from .images import as_image
    from .vgg import get_extractor

    if result.shape != content.shape:
        raise ValueError(f"result {tuple(result.shape)} and photo {tuple(content.shape)} must have the same shape")
    layers = tuple(dict.fromkeys(tuple(content_layers) + tuple(style_layers)))
    extractor = get_extractor(layers, arch, weights, "max", "cpu")
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    size = max(1, round(max(content.shape[-2:]) * style_scale))
    objective = Objective(
        extractor, content.float(), [as_image(s, size, what="painting") for s in styles], content_layers=content_layers,
        style_layers=style_layers, style_blend=style_blend, content_weight=1.0, style_weight=1.0,
    )
    with torch.no_grad():
        _, terms, _ = objective(result.float())
        _, base, _ = objective(content.float())
    style_of = lambda t: sum(v.item() for k, v in t.items() if k.startswith("style:"))  # noqa: E731
    return {"content": terms["content"].item(), "style": style_of(terms) / style_of(base)}


def objective_value(
    result: torch.Tensor,
    content: torch.Tensor,
    style: ImageSource | torch.Tensor | Sequence[ImageSource | torch.Tensor],
    *,
    content_weight: float = 1.0,
    style_weight: float = DEFAULTS.style_weight,
) -> float:
    """The seed's objective as stylelib scales it, α E_c/E_c(0) + β Σ_l w_l E_s^l/E_s^l(0), no TV, in fp32.

    An independent judge for benchmarks: the same number whichever way the
    result was made (any optimiser, precision or parametrization).
    """
    from .images import as_image
    from .objective import Objective
    from .vgg import get_extractor

    layers = tuple(dict.fromkeys(DEFAULTS.content_layers + DEFAULTS.style_layers))
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    objective = Objective(get_extractor(layers, "vgg19", "caffe", "max", "cpu"), content.float(),
                          [as_image(s, max(content.shape[-2:]), what="painting") for s in styles],
                          content_layers=DEFAULTS.content_layers, style_layers=DEFAULTS.style_layers,
                          content_weight=content_weight, style_weight=style_weight)
    with torch.no_grad():
        return objective(result.float())[0].item()
