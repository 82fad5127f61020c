"""Where each painting goes: region masks from painted strokes or from a simple rule (lesson 08).

A mask is (1, 1, H, W) in [0, 1]: 1 where its painting goes, 0 where it
does not, in between for a partial weight (a soft edge). Masks reach the
loss as guided Gram matrices (:func:`stylelib.losses.guided_style_loss`).

- :func:`masks_from_strokes` turns a painted layer (RGBA, one brush colour
  per painting) into one mask per painting: the app's brush.
- :func:`sky_mask` is a rule, not a segmentation network: the bright,
  blue part of the photo, softened. Its names ``"sky"`` and ``"ground"``
  (its complement) work wherever a mask file does: ``--style-masks sky``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F


def sky_mask(photo: torch.Tensor, *, soften: int = 9) -> torch.Tensor:
    """(1, 3, H, W) photo -> (1, 1, H, W): 1 on bright blue pixels (blue > red + 0.15 and > 0.55), edges softened."""
    red, _, blue = photo[0]
    sky = ((blue > red + 0.15) & (blue > 0.55)).float()[None, None]  # (1, 1, H, W)
    return F.avg_pool2d(sky, soften, 1, soften // 2, count_include_pad=False)


GENERATED: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sky": sky_mask,
    "ground": lambda photo: 1 - sky_mask(photo),
}


def masks_from_strokes(strokes: torch.Tensor, colors: Sequence[tuple[float, float, float]]) -> list[torch.Tensor]:
    """A painted RGBA layer (1, 4, H, W) in [0, 1] -> one mask (1, 1, H, W) per brush colour.

    Each painted pixel belongs to the brush colour nearest to its own
    colour, with the stroke's opacity as its weight (a soft brush gives
    soft edges); unpainted pixels (alpha 0) belong to none.
    """
    rgb, alpha = strokes[:, :3], strokes[:, 3:]  # (1, 3, H, W), (1, 1, H, W)
    palette = torch.tensor(colors, dtype=rgb.dtype)[:, :, None, None]  # (K, 3, 1, 1)
    distance = (rgb - palette).pow(2).sum(1)  # (K, H, W)
    nearest = distance.argmin(0)  # (H, W)
    return [((nearest == k).to(rgb.dtype) * alpha[0, 0])[None, None] for k in range(len(colors))]


def as_mask(source, photo: torch.Tensor) -> torch.Tensor:
    """A mask image, tensor, or the name of a generated one ("sky", "ground") -> (1, 1, H, W) at the photo's size.

    Grey levels are partial weights; a mask black everywhere is refused.
    """
    from pathlib import Path

    from .images import as_image, resize_tensor

    size = tuple(photo.shape[-2:])
    if isinstance(source, str) and source in GENERATED and not Path(source).exists():
        m = GENERATED[source](photo)
    elif isinstance(source, torch.Tensor):
        m = source.detach().float().cpu()
        m = m.reshape(1, 1, *m.shape[-2:]) if m.dim() == 2 or m.shape[-3] == 1 else m.reshape(1, -1, *m.shape[-2:])
    else:
        m = as_image(source, max(size), what="mask image")
    m = resize_tensor(m.mean(1, keepdim=True), size).clamp(0, 1)  # (1, 1, H, W)
    if m.max() <= 0:
        raise ValueError("a style mask is black everywhere: white marks where its painting goes")
    return m

