"""How much of a picture's figures hangs on pixel-exact detail (docs/fast_recipe.md, s21).

    python scripts/grid_probe.py MODEL [--gatys BETA | --refine N] [--photos NAME...]

For each photo at 384 px, the judge's figures (content, style and the
relu5_1 ratio, as ``scripts/style_per_layer.py``) for the model's picture,
Gatys' at β = BETA, or the model's picture polished by N steps, three ways:

- as it is;
- shifted: the first k rows and columns cut from the picture *and* the
  photo (k = 1, 2, 4, 8, 16), so both are judged on the same pixels, with
  VGG's pooling grid (four stride-2 max pools: a 16 px period) moved
  against them;
- blurred: the picture alone through a Gaussian of σ = 0.7 or 1 px.

A picture whose figures come from what it looks like changes little. A
picture optimised through VGG at one position of that grid can carry
detail that only counts there: on Machu Picchu, Gatys' picture at β = 3
has a style error of 0.14 as it is and 0.19 one pixel off, and its
relu5_1 ratio goes from 0.23 to 0.44. Prints JSON.
"""

from __future__ import annotations

import json

import torch
import torch.nn.functional as F
from style_per_layer import arguments, per_layer, pictures

SHIFTS = (1, 2, 4, 8, 16)
SIGMAS = (0.7, 1.0)


def blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """A separable Gaussian blur of ``image`` (1, 3, H, W), 7 taps, reflection at the borders."""
    taps = torch.arange(-3, 4, dtype=image.dtype)
    k = torch.exp(-taps**2 / (2 * sigma**2))
    k = (k / k.sum()).repeat(3, 1)  # (3, 7): one kernel per channel
    out = F.conv2d(F.pad(image, (3, 3, 0, 0), mode="reflect"), k[:, None, None, :], groups=3)
    return F.conv2d(F.pad(out, (0, 0, 3, 3), mode="reflect"), k[:, None, :, None], groups=3)


def figures(y: torch.Tensor, x: torch.Tensor, painting) -> dict:
    r = per_layer(y, x, painting)
    return {"content": r["content"], "style": r["style"], "relu5_1": r["ratio"]["relu5_1"]}


def grid_row(y: torch.Tensor, x: torch.Tensor, painting) -> dict:
    y = y.float().clamp(0, 1)
    return {"as_is": figures(y, x, painting),
            "shifted": {k: figures(y[..., k:, k:], x[..., k:, k:], painting) for k in SHIFTS},
            "blurred": {s: figures(blur(y, s), x, painting) for s in SIGMAS}}


if __name__ == "__main__":
    args = arguments("the judge's figures for a picture shifted against VGG's grid, or blurred")
    rows = {name: grid_row(y, x, painting)
            for name, x, y, painting in pictures(args.model, args.gatys, args.photos, args.refine)}
    print(json.dumps({"model": args.model, "gatys": args.gatys, "refine": args.refine, "photos": rows}))
