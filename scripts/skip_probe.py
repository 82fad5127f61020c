"""A probe, not a feature: skip connections that carry the photo's fine detail past the bottleneck (docs/fast_recipe.md, s21).

    python scripts/skip_probe.py train BASE STYLELIB-TRAIN-ARGS...  # BASE: baked or coded
    python scripts/skip_probe.py judge BASE MODEL PAINTING          # six photos, 384 px

Both of the judge's figures hang on pixel-scale detail: a Gaussian blur of
σ = 0.7 px, invisible at a glance, takes Gatys' picture of Machu Picchu
from a relative style error of 0.14 to 0.43 (relu5_1 0.23 to 0.55) and a
blur of 1 px costs the untouched photo 0.22 of content. The transformer
sees the photo's full-resolution detail only through its first layer; its
output is rebuilt from a quarter-size stream by two nearest-neighbour
upsamplings. The skips add, as a U-Net does, each contract layer's output
to the expand layer of the same size, through a 1 x 1 convolution whose
weights start at 0, so step 0 paints as the baked network (checked).
"""

from __future__ import annotations

import json
import sys

import torch
from torch import nn
from widen_probe import base_network, command_and_base, empty_base, judge_net, load_weights, train_swapped


class Skips(nn.Module):
    """``net`` (a baked transformer) with contract[i]'s output added to the expand layer of its size."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net, self.kind, self.width = net, net.kind, net.width
        t = net.transformer
        pairs = [(t.contract[1], t.expand[0]), (t.contract[0], t.expand[1])]  # half size, full size
        self.links = nn.ModuleList([nn.Conv2d(a.conv.out_channels, b.conv.out_channels, 1) for a, b in pairs])
        for link in self.links:
            nn.init.zeros_(link.weight)
            nn.init.zeros_(link.bias)
        self._saved: dict[int, torch.Tensor] = {}
        for i, ((source, sink), link) in enumerate(zip(pairs, self.links)):
            source.register_forward_hook(lambda m, inp, out, i=i: self._saved.__setitem__(i, out))
            sink.register_forward_hook(lambda m, inp, out, i=i, link=link: out + link(self._saved.pop(i)).to(out.dtype))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


def start(base: str, baked: nn.Module, painting) -> Skips:
    torch.manual_seed(0)  # Conv2d draws its default weights before they are zeroed: keep the later draws fixed
    return Skips(base_network(base, baked, painting)).train().requires_grad_(True)


def judge(base: str, model: str, painting: str) -> dict:
    net = load_weights(Skips(empty_base(base)).eval(), model)
    return {**judge_net(net, model, painting), "base": base,
            "link_norms": [link.weight.norm().item() for link in net.links]}


if __name__ == "__main__":
    command, base, rest = command_and_base(sys.argv)
    if command == "train":
        sys.exit(train_swapped(lambda baked, painting: start(base, baked, painting), ["train", *rest], "skip"))
    print(json.dumps(judge(base, *rest)))
