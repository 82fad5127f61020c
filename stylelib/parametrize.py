"""What the optimiser changes: the pixels, or a Laplacian pyramid of them (lesson 05).

Gatys et al. optimise the pixels directly. A pixel's gradient only says
how that pixel should move; a smooth region that should brighten as a
whole is a long, thin valley for the optimiser. Writing the image as a
Laplacian pyramid, x = Σ_k up_k(L_k) with L_k at 1/2^k of the size,
gives every coarse coefficient the summed gradient of the pixels it
covers, so large-scale changes take a few steps instead of many (a
better-conditioned problem; Burt & Adelson 1983 for the pyramid). The
minimum is the same: every image has a pyramid.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .choices import PARAMETRIZATIONS


class Pixels:
    """x itself is the parameter."""

    def __init__(self, image: torch.Tensor) -> None:
        self.params = [image.detach().clone().contiguous().requires_grad_(True)]  # L-BFGS flattens: contiguous

    def image(self) -> torch.Tensor:
        return self.params[0]

    def clamp_(self) -> None:
        with torch.no_grad():
            self.params[0].clamp_(0, 1)


class Pyramid:
    """x = Σ_k up(L_k), k = 0 (full size, the finest detail) ... levels-1 (the coarsest)."""

    def __init__(self, image: torch.Tensor, levels: int = 4) -> None:
        sizes = [tuple(image.shape[-2:])]
        while len(sizes) < levels and min(sizes[-1]) >= 16:
            sizes.append(tuple((s + 1) // 2 for s in sizes[-1]))
        self.sizes = sizes
        bands, current = [], image.detach()
        for k in range(len(sizes) - 1):
            down = F.interpolate(current, size=sizes[k + 1], mode="bilinear", align_corners=False, antialias=True)
            bands.append(current - self._up(down, sizes[k]))  # the detail lost by halving
            current = down
        bands.append(current)  # the coarsest image
        self.params = [b.contiguous().requires_grad_(True) for b in bands]

    @staticmethod
    def _up(x: torch.Tensor, size: tuple) -> torch.Tensor:
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)

    def image(self) -> torch.Tensor:
        x = self.params[-1]
        for k in range(len(self.params) - 2, -1, -1):
            x = self._up(x, self.sizes[k]) + self.params[k]  # (1, 3, H_k, W_k)
        return x

    def clamp_(self) -> None:
        pass  # the loss's TV and the final clamp keep the image in range; a band has no [0, 1]


def parametrize(kind: str, image: torch.Tensor):
    """The optimiser's view of ``image``: ``Pixels`` or ``Pyramid``."""
    if kind not in PARAMETRIZATIONS:
        raise ValueError(f"parametrization must be one of {', '.join(PARAMETRIZATIONS)}; got {kind!r}")
    return Pixels(image) if kind == "pixels" else Pyramid(image)
