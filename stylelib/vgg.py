"""VGG-16 and VGG-19 feature extractors with layers named by string.

Simonyan & Zisserman (2015), "Very Deep Convolutional Networks for
Large-Scale Image Recognition". Gatys et al. used VGG-19; the blog this kit
grew from used VGG-16. Lessons 01 and 06.

Layers are named as in :mod:`stylelib.architecture` (``relu4_2``: the ReLU
after the second convolution of the fourth block). The extractor is built
only as deep as the deepest layer asked for, so asking for ``relu2_2``
costs two blocks, not five.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from typing import Sequence

import torch
from torch import nn

from . import weights as _weights
from . import winograd as _winograd
from .architecture import ARCHS, POOLINGS, check_layers, conv_shapes, layer_names, min_side  # noqa: F401
from .validate import check_choice

class VGGFeatures(nn.Module):
    """Frozen VGG that returns ``{layer_name: features}`` for the layers asked for.

    Takes images in [0, 1], shape (B, 3, H, W); the preprocessing that the
    weights were trained with (Caffe: BGR, 0-255, minus the mean pixel;
    torchvision: RGB minus mean over std) happens inside ``forward``.

    ``pooling="avg"`` swaps max pooling for average pooling, as Gatys et al.
    did ("improves the gradient flow and one obtains slightly more appealing
    results"); the weights were trained with max pooling either way.
    """

    def __init__(
        self,
        layers: Sequence[str],
        *,
        arch: str = "vgg19",
        weights: str = "auto",
        pooling: str = "max",
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__()
        check_choice("arch", arch, ARCHS)
        check_choice("pooling", pooling, POOLINGS)
        if not layers:
            raise ValueError("ask for at least one layer")
        check_layers(layers, arch)
        names = layer_names(arch)
        self.layers = tuple(dict.fromkeys(layers))
        self.arch, self.pooling = arch, pooling
        depth = max(names.index(layer) for layer in self.layers) + 1
        shapes = conv_shapes(arch)
        convs = [n for n in names[:depth] if n.startswith("conv")]
        loaded = _weights.load(arch, weights, convs)
        self.weights = loaded.name  # what was actually loaded, for recipes
        self.weights_note = loaded.note

        modules: OrderedDict[str, nn.Module] = OrderedDict()
        for name in names[:depth]:
            if name.startswith("conv"):
                conv = nn.Conv2d(*shapes[name], kernel_size=3, padding=1)
                conv.weight.data.copy_(loaded.state[f"{name}.weight"])
                conv.bias.data.copy_(loaded.state[f"{name}.bias"])
                modules[name] = conv
            elif name.startswith("relu"):
                # Not inplace: the conv output before it may be a requested layer.
                modules[name] = nn.ReLU()
            else:
                pool = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
                modules[name] = pool(kernel_size=2, stride=2)
        self.net = nn.Sequential(modules)
        # plain floats, not buffers: a bf16 copy of the network still preprocesses in fp32
        self.mean, self.std = tuple(map(float, loaded.mean)), tuple(map(float, loaded.std))
        self.bgr = loaded.bgr
        self.requires_grad_(False)
        self.eval()
        self.to(device)

    @property
    def conv_algorithm(self) -> str:
        """How the convolutions run, for recipes: "winograd (NNPACK)" once swapped, else "torch's default"."""
        swapped = any(isinstance(m, _winograd.WinogradConv2d) for m in self.net)
        return "winograd (NNPACK)" if swapped else "torch's default"

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """[0, 1] RGB -> what the weights expect (a new tensor; input untouched)."""
        x = images.flip(1) if self.bgr else images  # (B, 3, H, W)
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{layer: features}``, in the network's own dtype (a bf16 copy returns bf16 features)."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images of shape (B, 3, H, W); got {tuple(images.shape)}")
        need = min_side(self.layers)
        if min(images.shape[-2:]) < need:
            h, w = images.shape[-2:]
            raise ValueError(
                f"image {w}x{h} is too small for layer(s) {', '.join(self.layers)}: "
                f"each side needs at least {need} px"
            )
        weight = self.net[0].weight
        x = self.preprocess(images.float()).to(weight.dtype)
        if weight.is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)  # NHWC convs are faster on CPU and GPU
        out = {}
        for name, module in self.net.named_children():
            x = module(x)
            if name in self.layers:
                out[name] = x
        return out


@lru_cache(maxsize=4)  # a few configurations at once (a server's runs, its Look inside, a judge)
def get_extractor(layers: tuple, arch: str, weights: str, pooling: str, device: str,
                  dtype: torch.dtype | None = None, winograd: bool = True) -> VGGFeatures:
    """One frozen extractor per configuration, reused across calls (it holds no state).

    ``dtype`` (e.g. bf16) casts a copy of the weights once: the network then
    runs in that arithmetic with no per-call conversion (autocast would
    convert every layer's weights and inputs at every evaluation). In fp32
    on an x86 CPU with AVX2, the convolutions run by Winograd's transform
    (:mod:`stylelib.winograd`; ``winograd=False`` for batches, which it
    does not take, to keep channels_last); ``conv_algorithm`` says which.
    """
    net = VGGFeatures(layers, arch=arch, weights=weights, pooling=pooling, device=device)
    if winograd and _winograd.wanted(device, dtype):
        # NCHW throughout: conv1_1 alone in channels_last cost more in layout changes than it saved
        _winograd.use_winograd(net.net)
        return net
    if device != "mps":
        net = net.to(memory_format=torch.channels_last)
    return net.to(dtype) if dtype is not None else net
