"""Keep the photo's colours (Gatys, Bethge, Hertzmann & Shechtman 2016,
"Preserving Color in Neural Artistic Style Transfer").

- ``luminance``: stylise, then keep the result's luminance Y and take the
  chroma (Cb, Cr) from the content photo. The paper transfers luminance only
  and matches luminance statistics first; we recombine afterwards, as
  neural-style's ``-original_colors 1`` does, which is simpler and close.
- ``match``: before stylising, give the painting the photo's colour mean and
  covariance (the paper's "colour histogram matching", linear variant, with
  symmetric matrix square roots).
"""

from __future__ import annotations

import torch

PRESERVE_COLOR = ("none", "luminance", "match")

# ITU-R BT.601 full-range RGB <-> YCbCr, for values in [0, 1].
_RGB2YCC = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def rgb_to_ycbcr(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> YCbCr with Y in [0, 1] and Cb, Cr centred on 0."""
    return torch.einsum("ij,bjhw->bihw", _RGB2YCC.to(images), images)


def ycbcr_to_rgb(images: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_RGB2YCC).to(images), images)


def keep_luminance(result: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Y from ``result``, Cb and Cr from ``content`` (same size), clamped to [0, 1]."""
    y = rgb_to_ycbcr(result)[:, :1]  # (B, 1, H, W)
    cbcr = rgb_to_ycbcr(content)[:, 1:]  # (B, 2, H, W)
    return ycbcr_to_rgb(torch.cat([y, cbcr], 1)).clamp(0, 1)


def _sqrtm(cov: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(cov)
    vals = vals.clamp_min(1e-8)
    return vecs @ torch.diag(vals.rsqrt() if inverse else vals.sqrt()) @ vecs.T


def match_colors(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Affinely map ``style``'s pixels so their mean and covariance equal ``content``'s."""
    s = style.double().flatten(2)[0]  # (3, M_s)
    c = content.double().flatten(2)[0]  # (3, M_c)
    mu_s, mu_c = s.mean(1, keepdim=True), c.mean(1, keepdim=True)
    cov_s = torch.cov(s) + 1e-5 * torch.eye(3, dtype=s.dtype)
    cov_c = torch.cov(c) + 1e-5 * torch.eye(3, dtype=s.dtype)
    mapped = _sqrtm(cov_c) @ _sqrtm(cov_s, inverse=True) @ (s - mu_s) + mu_c  # (3, M_s)
    return mapped.reshape(style.shape).to(style.dtype).clamp(0, 1)
