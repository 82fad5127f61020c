"""Looking inside: feature-map grids, Gram matrices, and where MRF patches come from.

Used by the lessons (01, 03, 07) and the app's "Look inside" tab. Everything
returns tensors in [0, 1] or plain numbers; drawing is the caller's job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .losses import gram_matrix
from .mrf import extract_patches, match_patches, patch_grid
from .architecture import downsampling
from .vgg import VGGFeatures


def feature_grid(features: torch.Tensor, count: int = 16, columns: int = 4) -> torch.Tensor:
    """The first ``count`` maps of (1, C, H, W) features tiled as a (rows*H, columns*W) image in [0, 1].

    Each map is scaled to its own range, so weak maps stay visible.
    """
    maps = features[0, :count].detach().float()  # (n, H, W)
    lo = maps.flatten(1).min(1).values.view(-1, 1, 1)
    hi = maps.flatten(1).max(1).values.view(-1, 1, 1)
    maps = (maps - lo) / (hi - lo).clamp_min(1e-8)
    rows = math.ceil(maps.shape[0] / columns)
    h, w = maps.shape[-2:]
    grid = torch.ones(rows * (h + 1) - 1, columns * (w + 1) - 1)
    for i, m in enumerate(maps):
        r, c = divmod(i, columns)
        grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = m
    return grid


def gram_per_position(features: torch.Tensor, size: int = 64) -> torch.Tensor:
    """G / M for the first ``size`` channels: (N, N), comparable across image sizes."""
    f = features[:, :size].detach().float()
    return gram_matrix(f)[0] / (f.shape[2] * f.shape[3])  # (N, N)


def position_colors(rows: int, cols: int) -> torch.Tensor:
    """A colour for every grid position: red grows left to right, green top to bottom. (rows, cols, 3)."""
    y = torch.linspace(0, 1, rows).view(-1, 1).expand(rows, cols)
    x = torch.linspace(0, 1, cols).view(1, -1).expand(rows, cols)
    return torch.stack([x, y, 1 - (x + y) / 2], -1)


@dataclass
class MatchMap:
    """Which painting patch each patch of the result matched, at one layer."""

    layer: str
    index: torch.Tensor  # (rows, cols): flat index of the matched style patch
    score: torch.Tensor  # (rows, cols): its normalised cross-correlation
    colors: torch.Tensor  # (rows, cols, 3): the colour of the matched patch's position in the painting
    style_colors: torch.Tensor  # (style_rows, style_cols, 3): the key, the painting's positions coloured
    style_grid: tuple[int, int]
    stride: int  # pixels per feature position at this layer
    patch_size: int

    def source(self, row: int, col: int) -> tuple[int, int]:
        """Grid position (row, col) in the painting that the result's patch (row, col) matched."""
        return divmod(int(self.index[row, col]), self.style_grid[1])

    def pixel_box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) in image pixels of the patch at grid position (row, col)."""
        s, k = self.stride, self.patch_size
        return row * s, col * s, (row + k) * s, (col + k) * s


def match_map(
    extractor: VGGFeatures, image: torch.Tensor, style: torch.Tensor, layer: str = "relu3_1", patch_size: int = 3
) -> MatchMap:
    """Match every patch of ``image`` to ``style`` at ``layer`` (dense, stride 1) and colour-code the sources."""
    with torch.no_grad():
        f, fs = extractor(image)[layer].float(), extractor(style)[layer].float()
    style_patches = extract_patches(fs, patch_size)[0]  # (P, C, k, k)
    idx, score = match_patches(f, style_patches)
    rows, cols = patch_grid(f.shape[2], f.shape[3], patch_size)
    s_rows, s_cols = patch_grid(fs.shape[2], fs.shape[3], patch_size)
    key = position_colors(s_rows, s_cols)  # (s_rows, s_cols, 3)
    index = idx[0].view(rows, cols)
    return MatchMap(
        layer, index, score[0].view(rows, cols), key.reshape(-1, 3)[index], key, (s_rows, s_cols),
        2 ** downsampling(layer), patch_size,
    )


def upscale(colors: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(h, w, 3) colour map -> (1, 3, height, width), nearest neighbour (blocks stay blocks)."""
    return F.interpolate(colors.permute(2, 0, 1)[None], size=(height, width), mode="nearest")


def period2_energy(images: torch.Tensor) -> torch.Tensor:
    """Share of an image's spectral energy at period 2 (the checkerboard frequency): (B, C, H, W) -> (B,).

    The grey image's mean is removed, its 2-D power spectrum taken, and the
    energy on the Nyquist row (period 2 vertically) and column (period 2
    horizontally) divided by the total. Natural photos score well under 1%;
    the checkerboard of transposed convolutions (Odena et al. 2016) scores high.
    """
    gray = images.float().mean(1)  # (B, H, W)
    gray = gray - gray.mean((1, 2), keepdim=True)
    power = torch.fft.fft2(gray).abs().pow(2)  # (B, H, W)
    h, w = gray.shape[-2:]
    nyquist = power[:, h // 2, :].sum(1) + power[:, :, w // 2].sum(1) - power[:, h // 2, w // 2]
    return nyquist / power.sum((1, 2)).clamp_min(1e-12)


def high_frequency_share(images: torch.Tensor, cutoff: float = 0.1) -> torch.Tensor:
    """Share of an image's spectral energy above ``cutoff`` cycles per pixel: (B, C, H, W) -> (B,).

    A measure of how fine the texture is (lesson 11's brush-size experiment):
    the grey image's mean is removed and its power at radial frequencies
    above the cutoff (0.1: periods shorter than 10 pixels, where brush
    strokes live; 0.5 is the finest a pixel grid holds) divided by the total.
    """
    gray = images.float().mean(1)  # (B, H, W)
    power = torch.fft.rfft2(gray - gray.mean((1, 2), keepdim=True)).abs().pow(2)  # (B, H, W//2 + 1)
    fy = torch.fft.fftfreq(gray.shape[1]).abs()[:, None]
    fx = torch.fft.rfftfreq(gray.shape[2])[None]
    high = (fx**2 + fy**2).sqrt() > cutoff  # (H, W//2 + 1)
    return (power * high).sum((1, 2)) / power.sum((1, 2)).clamp_min(1e-12)
