"""VGG's 3×3 convolutions by NNPACK's Winograd transform, on CPUs that run the network in fp32.

Lavin & Gray (2016), "Fast Algorithms for Convolutional Neural Networks":
Winograd's minimal filtering computes a 6×6 tile of a 3×3 convolution with
64 multiplications per channel pair instead of 324. NNPACK (built into
torch) picks that transform for 3×3 kernels. Where the CPU has no fast
bf16, stylelib runs VGG in fp32, and there oneDNN's direct convolutions
are the slowest part of every evaluation: one evaluation of the default
objective at 512² took 2.75–2.79 s with oneDNN and 1.38–1.46 s with NNPACK
on an AMD EPYC with AVX2 only, 1.98 s and 1.34 s (medians) on one with
AVX-512 (README, "Speed").

The loss network is frozen, so only the gradient to the input is needed,
and it is again a 3×3 convolution with padding 1: the output's gradient
convolved with the weights' in/out channels swapped and the kernel turned
by 180°. NNPACK serves both directions.

Deviation from oneDNN's fp32: Winograd rounds differently. The default
objective agreed to 1e-7 relative and its gradient to 5e-4 at 256², 7e-3 at
512² (bf16 is 8–10% off); tests/test_winograd.py holds it to 1e-4 and 5e-3.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from .runtime import cpu_flags

# Below this side NNPACK lost to oneDNN (per layer, forward and backward to the input; bench/winograd_speed.py
# --layers): with AVX2 only, at 16² (512 channels: 28 ms against 9.6); with AVX-512, whose direct convolutions
# are twice as wide, at 32² too (128 -> 256 channels: 7.9 ms against 5.7; docs/winograd_layers_avx512_*.json).
# At 48² (VGG's fourth block at 384 px) it won there: one evaluation took 0.94 s from 48² on, 1.06 s from 64².
MIN_SIDE = 32
MIN_SIDE_AVX512 = 48


def min_side() -> int:
    """The smallest feature map NNPACK takes on this CPU."""
    return MIN_SIDE_AVX512 if "avx512f" in cpu_flags() else MIN_SIDE


def wanted(device: str, dtype: torch.dtype | None) -> bool:
    """Where NNPACK was measured faster: fp32 on an x86 CPU with AVX2 (its fast kernels need AVX2 and FMA).

    Measured per evaluation of the default objective: on an AMD EPYC with
    AVX2 only, 1.9–2.0× faster at 512² and 1.1–1.3× at 256²; on one with
    AVX-512, 1.5× at 512², 1.2× at 384² and the same at 256² (README,
    "Speed"). Where the CPU has fast bf16, stylelib runs bf16 unless told fp32.

    ``STYLELIB_WINOGRAD=0`` keeps oneDNN everywhere; ``=1`` uses NNPACK on
    any CPU that has it (to compare).
    """
    choice = os.environ.get("STYLELIB_WINOGRAD", "auto")
    if choice == "0" or device != "cpu" or dtype not in (None, torch.float32):
        return False
    # flags first: asking NNPACK on a CPU without AVX2 makes torch print a warning
    return (choice == "1" or {"avx2", "fma"} <= cpu_flags()) and _ready()


def _ready() -> bool:
    """NNPACK is in this torch, initialised (the call does it; its convolution needs it first) and not disabled."""
    return torch._nnpack_available() and torch._C._get_nnpack_enabled()


def turn(weight: torch.Tensor) -> torch.Tensor:
    """W (C_out, C_in, 3, 3) -> its channels swapped and kernel turned by 180°: (C_in, C_out, 3, 3), for dL/dx."""
    return weight.transpose(0, 1).flip(2, 3).contiguous()


class _Conv3x3(torch.autograd.Function):
    """y = conv(x, W) + b, and dL/dx = conv(dL/dy, turn(W)); W and b stay frozen."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, turned: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(turned)
        return torch._nnpack_spatial_convolution(x, weight, bias, [1, 1])  # (B, C_out, H, W)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (turned,) = ctx.saved_tensors
        return torch._nnpack_spatial_convolution(grad.contiguous(), turned, None, [1, 1]), None, None, None


class WinogradConv2d(nn.Conv2d):
    """A frozen 3×3, stride-1, padding-1 convolution that runs through NNPACK where it can.

    Anything else (another dtype or device, a batch of several images, maps
    under :func:`min_side`, weights that need a gradient, ``torch.compile``)
    takes ``nn.Conv2d``'s own path: a copy cast to fp64 for a parity test
    still works.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # batch > 1 (training): NNPACK's batched path lost to oneDNN (4 × 256²: 2.68 s against 2.05);
        # under torch.compile: its fake tensors cannot run NNPACK's op, so the compiled graph keeps torch's conv
        if (torch.compiler.is_compiling() or x.dtype != torch.float32 or x.device.type != "cpu"
                or x.shape[0] != 1 or min(x.shape[-2:]) < min_side() or self.weight.dtype != torch.float32
                or self.weight.requires_grad or (self.bias is not None and self.bias.requires_grad) or not _ready()):
            return super().forward(x)
        return _Conv3x3.apply(x.contiguous(), self.weight.contiguous(), self.bias, self._turned())

    def _turned(self) -> torch.Tensor:
        """turn(W), made once rather than at every backward (up to 9 MB a layer); remade if W was replaced or edited."""
        key = (self.weight.data_ptr(), self.weight._version)
        if getattr(self, "_turned_key", None) != key:
            self._turned_weight, self._turned_key = turn(self.weight.detach()), key
        return self._turned_weight


def use_winograd(net: nn.Sequential) -> nn.Sequential:
    """Swap ``net``'s 3×3 convolutions for :class:`WinogradConv2d`, in place; keep ``net`` in NCHW, NNPACK's layout.

    The first (3 channels in) too with AVX2 only, where NNPACK beat oneDNN there (s25); with AVX-512 it lost at
    every size (3 -> 64 at 256²: 16.1 ms against 12.8 in NCHW), so that one stays torch's.
    """
    for name, conv in net.named_children():
        if type(conv) is nn.Conv2d and conv.kernel_size == (3, 3):
            assert conv.stride == (1, 1) and conv.padding == (1, 1) and conv.groups == 1 and conv.dilation == (1, 1)
            assert conv.bias is not None and conv.padding_mode == "zeros"
            if conv.in_channels == 3 and "avx512f" in cpu_flags():
                continue
            swapped = WinogradConv2d(conv.in_channels, conv.out_channels, 3, padding=1,
                                     device=conv.weight.device, dtype=conv.weight.dtype)
            swapped.load_state_dict(conv.state_dict())
            swapped.weight.requires_grad_(conv.weight.requires_grad)
            swapped.bias.requires_grad_(conv.bias.requires_grad)
            setattr(net, name, swapped)
    return net
