"""VGG-16 and VGG-19 feature extractors with layers named by string.

Simonyan & Zisserman (2015), "Very Deep Convolutional Networks for
Large-Scale Image Recognition". Gatys et al. used VGG-19; the blog this kit
grew from used VGG-16. Lessons 01 and 06.

Layers are named ``conv{block}_{i}``, ``relu{block}_{i}`` and
``pool{block}``: ``relu4_2`` is the ReLU after the second convolution of the
fourth block. The extractor is built only as deep as the deepest layer asked
for, so asking for ``relu2_2`` costs two blocks, not five.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
from torch import nn

from . import weights as _weights

ARCHS = ("vgg19", "vgg16")
POOLINGS = ("max", "avg")
_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
_WIDTHS = (64, 128, 256, 512, 512)


def check_choice(name: str, value: object, allowed: Sequence) -> None:
    """Raise ValueError naming the allowed values (the tuple the code uses)."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}")


def layer_names(arch: str = "vgg19") -> tuple[str, ...]:
    """All layer names of ``arch`` in forward order: conv1_1, relu1_1, ..., pool5."""
    check_choice("arch", arch, ARCHS)
    names: list[str] = []
    for block, convs in enumerate(_BLOCKS[arch], start=1):
        for i in range(1, convs + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return tuple(names)


def conv_shapes(arch: str = "vgg19") -> dict[str, tuple[int, int]]:
    """(in_channels, out_channels) of every conv layer, keyed by name."""
    shapes, c_in = {}, 3
    for block, convs in enumerate(_BLOCKS[arch], start=1):
        for i in range(1, convs + 1):
            shapes[f"conv{block}_{i}"] = (c_in, _WIDTHS[block - 1])
            c_in = _WIDTHS[block - 1]
    return shapes


def check_layers(layers: Sequence[str], arch: str = "vgg19") -> None:
    """Raise ValueError for a layer name ``arch`` does not have."""
    names = layer_names(arch)
    for layer in layers:
        if layer not in names:
            raise ValueError(
                f"unknown layer {layer!r} for {arch}; layers are named like "
                f"relu4_2, conv1_1, pool3: one of {', '.join(names)}"
            )


def downsampling(layer: str) -> int:
    """How many 2x poolings come before ``layer`` (relu4_2 -> 3, pool4 -> 4)."""
    block = int(layer[4] if layer.startswith("pool") else layer.split("_")[0][-1])
    return block if layer.startswith("pool") else block - 1


def min_side(layers: Sequence[str]) -> int:
    """Smallest image side for which every layer still has a 1x1 feature map."""
    return 2 ** max(downsampling(layer) for layer in layers)


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
        self.register_buffer("mean", torch.tensor(loaded.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(loaded.std).view(1, 3, 1, 1))
        self.bgr = loaded.bgr
        self.requires_grad_(False)
        self.eval()
        self.to(device)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """[0, 1] RGB -> what the weights expect (a new tensor; input untouched)."""
        x = images.flip(1) if self.bgr else images  # (B, 3, H, W)
        return (x - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images of shape (B, 3, H, W); got {tuple(images.shape)}")
        need = min_side(self.layers)
        if min(images.shape[-2:]) < need:
            h, w = images.shape[-2:]
            raise ValueError(
                f"image {w}x{h} is too small for layer(s) {', '.join(self.layers)}: "
                f"each side needs at least {need} px"
            )
        x = self.preprocess(images)
        if self.net[0].weight.is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)  # NHWC convs are faster on CPU and GPU
        out = {}
        for name, module in self.net.named_children():
            x = module(x)
            if name in self.layers:
                out[name] = x
        return out
