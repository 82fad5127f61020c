"""A probe, not a feature: a coarse branch that widens what the network sees (docs/fast_recipe.md, s20).

    python scripts/coarse_probe.py train BASE STYLELIB-TRAIN-ARGS...  # BASE: baked or coded
    python scripts/coarse_probe.py judge BASE MODEL PAINTING          # six photos, 384 px

Per layer, the bundled Starry Night leaves Machu Picchu's style error at
0.10 / 0.28 / 0.36 / 0.48 / 0.84 of the photo's own on relu1_1 ... relu5_1
(docs/fast_recipe.md, s20): the coarsest layer hardly moves. A relu5_1 unit sees about 200 px of a 384 px picture;
the transformer's output pixel sees about 100 (two stride-2 layers, then
ten 3 x 3 convolutions at a quarter of the size), so it cannot paint
shapes as large as the painting's swirls. The branch here takes the
quarter-size stream after the contract, halves it twice more (1/8, 1/16),
runs residual blocks there, brings it back up and adds it to the stream
through a 1 x 1 convolution whose weights start at 0, so step 0 paints as
the baked network (checked), and the branch's first gradient is not 0
(the stream it reads is not). Its six 3 x 3 convolutions at 1/16 of the
picture's size add about 200 px to what an output pixel sees.
"""

from __future__ import annotations

import json
import sys

import torch
import torch.nn.functional as F
from torch import nn
from style_per_layer import per_layer
from widen_probe import base_network, command_and_base, empty_base, judge_net, load_weights, train_with

from stylelib.data import resolve_image
from stylelib.images import load_image


def conv_in(c_in: int, c_out: int, stride: int = 1, relu: bool = True) -> nn.Sequential:
    layers = [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3, stride), nn.InstanceNorm2d(c_out, affine=True)]
    return nn.Sequential(*layers, *([nn.ReLU()] if relu else []))


class Block(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_in(c, c), conv_in(c, c, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Branch(nn.Module):
    """(B, C, h, w) -> (B, C, h, w): down to h/4, ``blocks`` residual blocks, back up, a zero 1 x 1 out."""

    def __init__(self, c: int, width: int = 64, blocks: int = 3) -> None:
        super().__init__()
        self.down = nn.Sequential(conv_in(c, width, 2), conv_in(width, width, 2))
        self.blocks = nn.Sequential(*[Block(width) for _ in range(blocks)])
        self.up1, self.up2 = conv_in(width, width), conv_in(width, width)
        self.out = nn.Conv2d(width, c, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.down(x))  # (B, W, h/4, w/4)
        h = self.up1(F.interpolate(h, scale_factor=2, mode="nearest"))  # (B, W, h/2, w/2)
        h = self.up2(F.interpolate(h, size=x.shape[-2:], mode="nearest"))  # (B, W, h, w)
        return self.out(h)


class Coarse(nn.Module):
    """``net`` with the branch's output added to its quarter-size stream (contract's last layer)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net, self.kind, self.width = net, net.kind, net.width
        last = net.transformer.contract[-1]
        self.branch = Branch(last.conv.out_channels)
        last.register_forward_hook(lambda module, inputs, out: out + self.branch(out).to(out.dtype))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


def start(base: str, baked, painting) -> Coarse:
    x = load_image(resolve_image("grace-hopper"), size=256)
    with torch.no_grad():
        before = baked(x)  # before the branch's hook goes on (the baked base is the same module)
    torch.manual_seed(0)  # the branch's initialisation
    net = Coarse(base_network(base, baked, painting))
    with torch.no_grad():
        gap = (before - net(x)).abs().max().item()
    if gap > 1e-5:
        raise RuntimeError(f"the probe network paints differently at step 0 (by {gap})")
    return net.train().requires_grad_(True)


def judge(base: str, model: str, painting: str) -> dict:
    net = load_weights(Coarse(empty_base(base)).eval(), model)
    x = load_image(resolve_image("machu-picchu"), size=384)
    with torch.no_grad():
        y = net(x)
    return {**judge_net(net, model, painting), "base": base, "branch_out_norm": net.branch.out.weight.norm().item(),
            "machu_style_per_layer": per_layer(y, x, resolve_image(painting))["ratio"]}


if __name__ == "__main__":
    command, base, rest = command_and_base(sys.argv)
    if command == "train":
        sys.exit(train_with(lambda baked, painting: start(base, baked, painting), ["train", *rest]))
    print(json.dumps(judge(base, *rest)))
