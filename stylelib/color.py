"""Keep the photo's colours (Gatys, Bethge, Hertzmann & Shechtman 2016,
"Preserving Color in Neural Artistic Style Transfer"; lesson 08).

Three ways, each named for what it does:

- ``luminance-only``: the paper's *luminance-only transfer*. Style is
  transferred between luminance channels only: the photo's luminance Y
  and the painting's, first matched to the photo's mean and standard
  deviation (the paper's luminance matching, L_s' = σ_c/σ_s (L_s − μ_s) +
  μ_c), are each replicated to three channels for the network; the
  result's luminance is then given the photo's chroma (Cb, Cr).
- ``recombine``: stylise in colour, then keep the result's luminance and
  take the chroma from the photo, as neural-style's ``-original_colors 1``
  does: simpler, but the network saw (and matched) the painting's colours.
- ``match``: before stylising, give the painting the photo's colour mean
  and covariance (the paper's colour histogram matching, linear variant,
  with symmetric matrix square roots); the result is then stylised in
  colour as usual.

YCbCr is ITU-R BT.601 full range, Y in [0, 1] and Cb, Cr centred on 0.
"""

from __future__ import annotations

import torch

from .choices import PRESERVE_COLOR

_RGB2YCC = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def rgb_to_ycbcr(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> YCbCr with Y in [0, 1] and Cb, Cr centred on 0."""
    return torch.einsum("ij,bjhw->bihw", _RGB2YCC.to(images), images)


def ycbcr_to_rgb(images: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_RGB2YCC).to(images), images)


def luminance(images: torch.Tensor) -> torch.Tensor:
    """Y of (B, 3, H, W) RGB images: (B, 1, H, W)."""
    return rgb_to_ycbcr(images)[:, :1]


def gray3(y: torch.Tensor) -> torch.Tensor:
    """A luminance (B, 1, H, W) as an RGB image the network can see: Y in all three channels."""
    return y.expand(-1, 3, -1, -1).contiguous()  # (B, 3, H, W)


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """L_s' = σ_c / σ_s (L_s − μ_s) + μ_c: the painting's luminance with the photo's mean and spread."""
    mu_s, sd_s = style_y.mean(), style_y.std().clamp_min(1e-6)
    return ((style_y - mu_s) * content_y.std() / sd_s + content_y.mean()).clamp(0, 1)


def with_chroma(y: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Luminance ``y`` (B, 1, H, W) with the chroma of ``content`` (B or 1, 3, H, W): RGB in [0, 1]."""
    cbcr = rgb_to_ycbcr(content)[:, 1:].expand(y.shape[0], -1, -1, -1)  # (B, 2, H, W)
    return ycbcr_to_rgb(torch.cat([y, cbcr], 1)).clamp(0, 1)


def recombine(result: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Y from ``result``, Cb and Cr from ``content`` (same size), clamped to [0, 1]."""
    return with_chroma(luminance(result), content)


def _sqrtm(cov: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(cov)
    vals = vals.clamp_min(1e-8)
    return vecs @ torch.diag(vals.rsqrt() if inverse else vals.sqrt()) @ vecs.T


def _moments(x: torch.Tensor, weight: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The colour mean (3, 1) and covariance (3, 3) of an image (1, 3, H, W), in float64, weighted per pixel."""
    px = x.double().flatten(2)[0]  # (3, N)
    if weight is None:
        return px.mean(1, keepdim=True), torch.cov(px)
    w = weight.double().flatten() / weight.double().sum().clamp_min(1e-12)  # (N,), sums to 1
    mean = px @ w[:, None]  # (3, 1)
    centred = px - mean
    # unbiased (torch.cov for equal weights); a region of one pixel has no spread, not an infinite one
    return mean, (centred * w) @ centred.T / (1 - w.pow(2).sum()).clamp_min(1e-12)


def _affine(x: torch.Tensor, src: tuple, dst: tuple, ridge: float) -> torch.Tensor:
    """x's pixels mapped so that moments ``src`` become ``dst``: Σ_d^½ Σ_s^-½ (x − μ_s) + μ_d, in [0, 1]."""
    (mu_s, cov_s), (mu_d, cov_d) = src, dst
    eye = ridge * torch.eye(3, dtype=torch.float64)  # keeps Σ_s^-½ finite for a flat or grey image
    px = x.double().flatten(2)[0]  # (3, N)
    mapped = _sqrtm(cov_d) @ _sqrtm(cov_s + eye, inverse=True) @ (px - mu_s) + mu_d  # (3, N)
    return mapped.reshape(x.shape).to(x.dtype).clamp(0, 1)


def match_colors(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Affinely map ``style``'s pixels so their mean and covariance equal ``content``'s."""
    return _affine(style, _moments(style), _moments(content), 1e-5)


def painting_colors(content: torch.Tensor, styles: list[torch.Tensor], weights: list[float] | None = None,
                    masks: list[torch.Tensor] | None = None) -> torch.Tensor:
    """The photo in the paintings' colours: the optimiser's default start (``init="matched"``).

    The reverse of ``match``: each pixel x of the photo becomes
    x' = Σ_s^½ Σ_c^-½ (x − μ_c) + μ_s, so that the photo's colour mean μ_c
    and covariance Σ_c become the painting's μ_s, Σ_s (symmetric square
    roots; a ridge of 1% of the photo's mean colour variance keeps a grey
    photo's faint colour noise from being blown up). Several paintings
    are blended by ``weights`` (default: equal); with ``masks`` (1, 1, H,
    W) at the photo's size, each painting recolours its own region, with
    μ_c, Σ_c taken over that region, and the photo stays where no mask
    is. Why: relu1_1's Gram matrix is mostly the colour covariance, which
    one affine map sets at once where L-BFGS would move every pixel over
    many steps.
    """
    def recolour(style: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        src = _moments(content, mask)
        return _affine(content, src, _moments(style), 1e-5 + 0.01 * src[1].trace().item() / 3)

    if masks is None:
        w = weights or [1.0] * len(styles)
        return sum(wi * recolour(s) for wi, s in zip(w, styles)) / sum(w)
    cover = torch.stack([m.float() for m in masks]).sum(0).clamp_min(1.0)  # (1, 1, H, W): overlaps share
    return content + sum(m * (recolour(s, m) - content) for m, s in zip(masks, styles)) / cover


def prepare(content: torch.Tensor, styles: list[torch.Tensor], method: str) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """What the network should see for ``method``: (photo, paintings), before stylising."""
    if method == "luminance-only":
        y = luminance(content)
        return gray3(y), [gray3(match_luminance(luminance(s), y)) for s in styles]
    if method == "match":
        return content, [match_colors(s, content) for s in styles]
    return content, styles


def finish(result: torch.Tensor, content: torch.Tensor, method: str) -> torch.Tensor:
    """The stylised result, given back the photo's colours for ``method`` (``content``: the original photo)."""
    if method in ("luminance-only", "recombine"):
        return recombine(result, content)
    return result
