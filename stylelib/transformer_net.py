"""Johnson et al.'s image transformation network, as in the paper and improved (lesson 09).

J. Johnson, A. Alahi, L. Fei-Fei (2016), "Perceptual Losses for Real-Time
Style Transfer and Super-Resolution", supplementary material, table 1:

    c9s1-32, d64, d128, R128 x 5, u64, u32, c9s1-3

cNsM-K: N x N convolution, stride M, K filters; dK: 3 x 3 stride-2
convolution; RK: residual block of two 3 x 3 convolutions; uK: 3 x 3
fractionally-strided (stride 1/2) convolution. Every convolution but the
last is followed by normalisation and ReLU.

``paper`` follows it exactly: batch norm, zero padding, transposed
convolutions, residual blocks of *unpadded* convolutions whose shortcut is
centre-cropped, the input reflection-padded by 40 px to make up for them,
and a scaled tanh output. Details we had to infer: the transposed
convolutions use padding 1 and output padding 1 (exact doubling); the
output conv has no normalisation; "scaled tanh to [0, 255]" becomes
(tanh + 1) / 2 for our [0, 1] images.

``improved`` has the later fixes for the paper's artifacts: instance norm
(Ulyanov et al. 2016) instead of batch norm, reflection padding everywhere
(no dark borders), and nearest-neighbour upsampling followed by a
convolution instead of a transposed convolution (Odena et al. 2016: no
checkerboard), with a linear output clamped to [0, 1] at inference, as
pytorch/examples' fast_neural_style.

Both return an image the size of the input, for any size: the input is
reflection-padded to a multiple of 4 and the output cropped back.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NETWORKS = ("improved", "paper")
PAPER_PAD = 40  # 5 residual blocks x 2 unpadded 3x3 convs x 1 px x 4 (two stride-2 layers)


def conv(c_in: int, c_out: int, k: int, stride: int = 1, *, reflect: bool) -> nn.Sequential:
    """A k x k convolution keeping the size (before the stride), padded by reflection or zeros."""
    if reflect:
        return nn.Sequential(nn.ReflectionPad2d(k // 2), nn.Conv2d(c_in, c_out, k, stride))
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, padding=k // 2))


def norm(channels: int, kind: str) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=True) if kind == "improved" else nn.BatchNorm2d(channels)


class Residual(nn.Module):
    """x + conv-norm-relu-conv-norm(x). The paper's convs are unpadded and crop the shortcut."""

    def __init__(self, channels: int, kind: str) -> None:
        super().__init__()
        self.paper = kind == "paper"
        make = (lambda: nn.Conv2d(channels, channels, 3)) if self.paper else (
            lambda: conv(channels, channels, 3, reflect=True))
        self.body = nn.Sequential(make(), norm(channels, kind), nn.ReLU(), make(), norm(channels, kind))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        if self.paper:  # the two valid convs took 2 px from each side
            x = x[..., 2:-2, 2:-2]
        return x + y


class Upsample(nn.Module):
    """x2 upsampling: transposed conv (paper) or nearest neighbour + conv (improved)."""

    def __init__(self, c_in: int, c_out: int, kind: str) -> None:
        super().__init__()
        if kind == "paper":
            self.layer = nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)
        else:
            self.layer = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv(c_in, c_out, 3, reflect=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


class TransformerNet(nn.Module):
    """(B, 3, H, W) in [0, 1] -> (B, 3, H, W) stylised. ``kind`` is "improved" or "paper"."""

    def __init__(self, kind: str = "improved", width: int = 32) -> None:
        super().__init__()
        if kind not in NETWORKS:
            raise ValueError(f"network must be one of {', '.join(NETWORKS)}; got {kind!r}")
        self.kind, self.width = kind, width
        reflect = kind == "improved"
        w = width

        def block(c_in, c_out, k, stride=1):
            return nn.Sequential(conv(c_in, c_out, k, stride, reflect=reflect), norm(c_out, kind), nn.ReLU())

        def up(c_in, c_out):
            return nn.Sequential(Upsample(c_in, c_out, kind), norm(c_out, kind), nn.ReLU())

        self.layers = nn.Sequential(
            block(3, w, 9),  # c9s1-32
            block(w, 2 * w, 3, 2),  # d64
            block(2 * w, 4 * w, 3, 2),  # d128
            *[Residual(4 * w, kind) for _ in range(5)],  # R128 x 5
            up(4 * w, 2 * w),  # u64
            up(2 * w, w),  # u32
            conv(w, 3, 9, reflect=reflect),  # c9s1-3
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h, w = images.shape[-2:]
        pad_h, pad_w = -h % 4, -w % 4  # two stride-2 layers: work on a multiple of 4
        pad = PAPER_PAD if self.kind == "paper" else 0
        if pad or pad_h or pad_w:
            # reflection needs the image to be larger than the padding; tiny images repeat their edge
            mode = "reflect" if min(h, w) > pad + 3 else "replicate"
            x = F.pad(images, (pad, pad + pad_w, pad, pad + pad_h), mode=mode)
        else:
            x = images
        y = self.layers(x)  # (B, 3, H + pad_h, W + pad_w)
        y = y[..., :h, :w]
        if self.kind == "paper":
            return (torch.tanh(y) + 1) / 2  # the paper's scaled tanh, to [0, 1]
        return y if self.training else y.clamp(0, 1)
