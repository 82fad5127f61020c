"""VGG-16 and VGG-19 as tables: their layers by name, their convolutions' shapes (lessons 01, 06); MobileNet-v2's.

Simonyan & Zisserman (2015). Layers are named ``conv{block}_{i}``,
``relu{block}_{i}`` and ``pool{block}``: ``relu4_2`` is the ReLU after the
second convolution of the fourth block. A leaf module: the extractor
(:mod:`stylelib.vgg`) and the weight loaders (:mod:`stylelib.weights`) both
read it. MobileNet-v2's block table is here too, torch-free, for its torch
(:mod:`stylelib.mobilenet`) and NumPy (:mod:`stylelib.anystyle_np`) versions.
"""

from __future__ import annotations

from typing import Sequence

from .validate import check_choice

ARCHS = ("vgg19", "vgg16")
POOLINGS = ("max", "avg")
_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
_WIDTHS = (64, 128, 256, 512, 512)
# Sandler et al.'s bottleneck blocks (expansion t, channels c, repeats n, first stride s), after a c3s2-32 stem
MOBILENET_V2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1))


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
