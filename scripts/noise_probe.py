"""A probe, not a feature: give the one-painting network noise to paint from (docs/fast_recipe.md, s19).

    python scripts/noise_probe.py train BASE K STYLELIB-TRAIN-ARGS...   # BASE: baked or coded; K noise channels
    python scripts/noise_probe.py judge BASE K MODEL PAINTING             # relative errors, six photos, 384 px

The bundled models miss the style target on photos with large flat areas
(the kingfisher's blurred background, Machu Picchu's haze and sky, s17's
pyramids under an empty sky). A network of convolutions and instance
norms maps a flat region to a flat output, away from its edges: it has no
variation there to turn into brush strokes, where Gatys' optimisation can
put strokes anywhere. Ulyanov et al.'s texture networks (2016) fed noise
for this; Johnson et al. dropped it. Here K channels of Gaussian noise join
the photo at the first convolution, whose weights from them start at 0,
so step 0 paints as before. Training draws fresh noise every step; in
eval mode the noise is drawn from a generator seeded with 0 (the same
picture every run, and the same pattern for every frame of a video).
"""

from __future__ import annotations

import copy
import json
import sys

import torch
from torch import nn

from photo_code_probe import PhotoCoded
from widen_probe import judge_net, train_swapped

from stylelib import pretrained
from stylelib.anystyle import AnyStyle


def add_noise(net: nn.Module, k: int) -> nn.Module:
    """``net`` (its ``transformer``'s first layer) with K zero-weighted noise inputs; changed in place."""
    layer = net.transformer.contract[0]
    old = layer.conv
    new = nn.Conv2d(old.in_channels + k, old.out_channels, old.kernel_size, old.stride, bias=old.bias is not None)
    with torch.no_grad():
        new.weight.zero_()
        new.weight[:, : old.in_channels] = old.weight
        if old.bias is not None:
            new.bias.copy_(old.bias)
    layer.conv = new

    def noisy(module, args):
        x, code = args  # x: (B, 3, H, W), padded
        shape = (x.shape[0], k, *x.shape[-2:])
        if module.training:
            noise = torch.randn(shape, dtype=x.dtype, device=x.device)
        else:
            noise = torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(x)
        return torch.cat([x, noise], 1), code  # (B, 3 + K, H, W)

    layer.register_forward_pre_hook(noisy)
    return net


def train(base: str, k: int, argv: list[str]) -> int:
    def make(baked, painting):  # a copy: the swap checks the noisy network against the one it came from
        if base == "baked":
            return add_noise(copy.deepcopy(baked), k)
        return add_noise(PhotoCoded(AnyStyle(device="cpu", precision="fp32").style_vector(painting)), k)

    return train_swapped(make, argv, f"{base}+noise", check_batch=2)


def judge(base: str, k: int, model: str, painting: str) -> dict:
    from safetensors.torch import load_file

    state = {key: v.float() for key, v in load_file(model).items()}
    net = add_noise(PhotoCoded(state["painting"]) if base == "coded" else pretrained.empty(), k).eval()
    net.load_state_dict(state)
    w = net.transformer.contract[0].conv.weight
    return {**judge_net(net, model, painting), "base": base, "noise_channels": k,
            "noise_weight_norm": w[:, 3:].norm().item(), "photo_weight_norm": w[:, :3].norm().item()}


if __name__ == "__main__":
    command, base, k, rest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    if base not in ("baked", "coded"):
        raise SystemExit(f"BASE must be baked or coded; got {base}")
    if command == "train":
        sys.exit(train(base, k, ["train", *rest]))
    print(json.dumps(judge(base, k, *rest)))
