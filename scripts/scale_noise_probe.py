"""A probe, not a feature: noise at every scale of the decoder (docs/fast_recipe.md, s20).

    python scripts/scale_noise_probe.py train BASE EPS STYLELIB-TRAIN-ARGS...  # BASE: baked or coded
    python scripts/scale_noise_probe.py judge BASE MODEL PAINTING              # six photos, 384 px

s19's noise inputs (``stylelib train --noise K``) sat beside the photo at
the first layer with weights 0, and the network hardly used them. Two
reasons: a flat region's noise has to survive two stride-2 layers and five
residual blocks before it can become a stroke, and at weight 0 the
expected gradient of the loss with respect to a zero-mean noise's weight
is 0 (a saddle: d/dg E[L(y + g n)] = g E[nᵀ H n] + O(g²)), so Adam only
random-walks it. Here, as in StyleGAN (Karras et al. 2019), one
single-channel Gaussian map per layer is added to the output of each
convolution at every scale of the decoder (the five residual blocks' first
convolutions at quarter size, then the two upsampling convolutions), before
its instance norm, scaled per channel by a learnt gain g_c. The gains start
at EPS times each channel's standard deviation on a photo, not at 0, so the
gradient is first order from the start; at EPS = 0.1 the noise adds 1% to
each channel's variance and the picture barely moves. Training draws fresh
noise each step; eval uses one seeded pattern per layer.
"""

from __future__ import annotations

import json
import sys

import torch
from torch import nn
from widen_probe import base_network, command_and_base, empty_base, judge_net, load_weights, train_with

from stylelib.data import resolve_image
from stylelib.images import load_image


def noisy_convs(transformer) -> list[nn.Conv2d]:
    return [block.conv1.conv for block in transformer.residual] + [layer.conv for layer in transformer.expand[:2]]


class ScaleNoise(nn.Module):
    """``net`` with g_c · n(H, W) added to each decoder convolution's output (B, C, H, W)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net, self.kind, self.width = net, net.kind, net.width
        convs = noisy_convs(net.transformer)
        self.gains = nn.ParameterList([nn.Parameter(torch.zeros(c.out_channels)) for c in convs])  # (C,) each
        for i, conv in enumerate(convs):
            conv.register_forward_hook(self._hook(i))

    def _hook(self, i: int):
        def add_noise(module, inputs, out):
            b, _, h, w = out.shape
            if self.training:
                n = torch.randn(b, 1, h, w, dtype=out.dtype, device=out.device)  # (B, 1, H, W)
            else:
                g = torch.Generator().manual_seed(i)
                n = torch.randn(1, 1, h, w, generator=g).to(out).expand(b, 1, h, w)
            return out + self.gains[i].to(out.dtype)[:, None, None] * n
        return add_noise

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


def start(base: str, eps: float, baked, painting) -> ScaleNoise:
    inner = base_network(base, baked, painting)
    net = ScaleNoise(inner)
    stds = []
    hooks = [c.register_forward_hook(lambda m, i, o: stds.append(o.std(dim=(0, 2, 3))))
             for c in noisy_convs(inner.transformer)]
    with torch.no_grad():  # gains at 0 here: the network must paint as the baked one
        x = load_image(resolve_image("grace-hopper"), size=256)
        gap = (baked(x) - net.eval()(x)).abs().max().item()
    for h in hooks:
        h.remove()
    if gap > 1e-5:
        raise RuntimeError(f"the probe network paints differently at gain 0 (by {gap})")
    with torch.no_grad():
        for gain, std in zip(net.gains, stds):
            gain.copy_(eps * std)
    return net.train().requires_grad_(True)


def judge(base: str, model: str, painting: str) -> dict:
    net = load_weights(ScaleNoise(empty_base(base)).eval(), model)
    stats = {f"gain{i}_rms": g.pow(2).mean().sqrt().item() for i, g in enumerate(net.gains)}
    return {**judge_net(net, model, painting), "base": base, **stats}


if __name__ == "__main__":
    command, base, rest = command_and_base(sys.argv)
    if command == "train":
        eps = float(rest[0])
        sys.exit(train_with(lambda baked, painting: start(base, eps, baked, painting), ["train", *rest[1:]]))
    print(json.dumps(judge(base, *rest)))
