"""The style prediction network of Ghiasi et al. (2017): a painting -> a 100-d style vector S (lesson 11).

Ghiasi et al. predict the transformer's (γ, β) from a painting with an
Inception-v3 whose pooled features are projected to a 100-d bottleneck S.
The released, distilled model replaces Inception with MobileNet-v2
(Sandler et al. 2018), which this module implements:

    c3s2-32, bottleneck blocks (t, c, n, s):
      (1, 16, 1, 1) (6, 24, 2, 2) (6, 32, 3, 2) (6, 64, 4, 2)
      (6, 96, 3, 1) (6, 160, 3, 2) (6, 320, 1, 1),
    c1-1280, mean over positions, 1x1 conv -> 100

A bottleneck block expands its input t times (1x1 conv, ReLU6), filters
each channel alone (3x3 depthwise conv, ReLU6), projects back (1x1 conv,
no activation) and adds its input when the shapes allow. Batch norm is
folded into the convolutions' biases, as in the released file. Strided
convolutions pad as TensorFlow's "SAME" does (more on the bottom and
right), so any painting size gives the released numbers. The painting
comes in as it is, in [0, 1].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .architecture import MOBILENET_V2

BLOCKS = MOBILENET_V2  # (t, c, n, s), the table above
STYLE_DIM = 100


def conv_same(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """``conv`` with TensorFlow's SAME padding: the output is ceil(in / stride), the extra pixel at the end."""
    k, s = conv.kernel_size[0], conv.stride[0]
    pads = []
    for n in (x.shape[-1], x.shape[-2]):  # F.pad takes the last dimension first
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    return conv(F.pad(x, pads))


class Bottleneck(nn.Module):
    """Expand (1x1, ReLU6) -> depthwise 3x3 (ReLU6) -> project (1x1), plus the input when shapes match."""

    def __init__(self, c_in: int, c_out: int, expand: int, stride: int) -> None:
        super().__init__()
        hidden = c_in * expand
        self.expand = nn.Conv2d(c_in, hidden, 1) if expand != 1 else None
        self.depthwise = nn.Conv2d(hidden, hidden, 3, stride, groups=hidden)
        self.project = nn.Conv2d(hidden, c_out, 1)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self.expand(x)) if self.expand is not None else x  # (B, t·C_in, H, W)
        h = F.relu6(conv_same(self.depthwise, h))  # (B, t·C_in, H/s, W/s)
        h = self.project(h)  # (B, C_out, H/s, W/s)
        return x + h if self.residual else h


class StylePredictor(nn.Module):
    """(B, 3, H, W) paintings in [0, 1], any size -> (B, 100) style vectors S."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, 2)
        blocks, c_in = [], 32
        for t, c, n, s in BLOCKS:
            for i in range(n):
                blocks.append(Bottleneck(c_in, c, t, s if i == 0 else 1))
                c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Conv2d(c_in, 1280, 1)
        self.bottleneck = nn.Conv2d(1280, STYLE_DIM, 1)

    def forward(self, paintings: torch.Tensor) -> torch.Tensor:
        x = F.relu6(conv_same(self.stem, paintings))  # (B, 32, H/2, W/2)
        x = F.relu6(self.head(self.blocks(x)))  # (B, 1280, H/32, W/32)
        return self.bottleneck(x.mean((2, 3), keepdim=True)).flatten(1)  # (B, 100)
