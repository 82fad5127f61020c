"""A probe, not a feature: the baked network fitted to one photo, four ways (docs/fast_recipe.md, s21).

    python scripts/one_photo_probe.py MODE [--beta B] [--steps N] [--photo NAME] [--size PX] [--crop PX]

s20 fine-tuned the network on Machu Picchu alone (``stylelib train`` on a
folder of that photo) and it stopped at a relu5_1 ratio of 0.58, where
Gatys' optimisation of the same loss reaches 0.23. The same training
step (``stylelib.train.photo_terms``, the s15 settings: the judge's
layers, the photo's unit, the painting at ``--size``), run here in a plain
loop, on one of:

- ``whole``: the photo at ``--size`` px, exactly as the judge sees it;
- ``crops``: ``stylelib train``'s crops of it (80-100 % of its shorter
  side scaled to ``--crop`` px, flipped or not);
- ``windows``: windows of the photo at ``--size`` px, ``--crop`` px a
  side or the photo's own side if shorter, at random places, not scaled
  or flipped;
- ``regress``: the photo at ``--size`` px, but the loss is the pixels'
  squared distance to Gatys' picture at β (100 L-BFGS steps).

Prints JSON lines: the photo's figures four times during the run, then
the six photos at 384 px, the same photo at 320 and 448 px, and the photo
shifted against VGG's grid or blurred (``scripts/grid_probe.py``).
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from grid_probe import grid_row
from style_per_layer import per_layer
from widen_probe import judge_net

import stylelib
from stylelib import pretrained
from stylelib.data import resolve_image
from stylelib.images import load_image
from stylelib.losses import gram_per_position
from stylelib.train import Crops, TrainConfig, batch_terms, photo_terms
from stylelib.vgg import get_extractor

MODES = ("whole", "crops", "windows", "regress")
LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def inputs(mode: str, x: torch.Tensor, photo: str, crop: int):
    """The training image of each step (1, 3, h, w), from a seeded generator."""
    g = torch.Generator().manual_seed(0)
    crops = Crops([resolve_image(photo)], crop)
    h, w = (min(crop, side) for side in x.shape[-2:])  # Machu Picchu at 384 px is 217 px high
    for step in range(1, 10**9):
        if mode == "crops":
            yield crops[(0, 1000 + step)][None]
        elif mode == "windows":
            top = int(torch.randint(0, x.shape[-2] - h + 1, (), generator=g))
            left = int(torch.randint(0, x.shape[-1] - w + 1, (), generator=g))
            yield x[..., top : top + h, left : left + w]
        else:
            yield x


def run(mode: str, *, beta: float, steps: int, photo: str, painting: str, size: int, crop: int, lr: float):
    torch.manual_seed(0)
    painting = resolve_image(painting)
    x = load_image(resolve_image(photo), size=size)
    net = pretrained.from_painting(painting).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    cfg = TrainConfig(style=str(painting), data=".", network="pretrained", style_weight=beta, style_norm="photo",
                      style_layers=LAYERS, content_layer="relu4_2", style_size=size)
    dtype = torch.bfloat16  # as stylelib train on a CPU with fast bf16
    vgg = get_extractor((cfg.content_layer, *LAYERS), cfg.arch, cfg.weights, "max", "cpu", dtype)
    with torch.no_grad():
        sf = vgg(load_image(painting, size=size))
    grams = {l: gram_per_position(sf[l]) for l in LAYERS}
    if mode == "regress":
        target = stylelib.stylize(x, painting, size=size, preview_every=0, style_weight=beta, init="content",
                                  steps=100)
        yield {"gatys": per_layer(target, x, painting)}
    clock = time.perf_counter()
    for step, image in zip(range(1, steps + 1), inputs(mode, x, photo, crop)):
        with torch.autocast("cpu", dtype=dtype):
            out = net(image)
        if mode == "regress":
            loss = (out.float() - target).square().mean()
        else:
            loss = sum(batch_terms(photo_terms(vgg, out, image, grams, cfg), cfg).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % max(1, steps // 4) == 0:
            net.eval()
            with torch.no_grad():
                r = per_layer(net(x), x, painting)
            net.train()
            yield {"step": step, "loss": loss.item(), "seconds": round(time.perf_counter() - clock),
                   "content": r["content"], "style": r["style"], "relu5_1": r["ratio"]["relu5_1"]}
    net.eval()
    judged = judge_net(net, mode, painting)
    yield {k: v for k, v in judged.items() if k != "photos"} | {
        "photos": {n: (round(r["content"], 3), round(r["style"], 3)) for n, r in judged["photos"].items()}}
    for other in (320, 448):
        xs = load_image(resolve_image(photo), size=other)
        with torch.no_grad():
            r = per_layer(net(xs), xs, painting)
        yield {"size": other, "content": r["content"], "style": r["style"], "relu5_1": r["ratio"]["relu5_1"]}
    with torch.no_grad():
        yield {"grid": grid_row(net(x), x, painting)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--beta", type=float, default=3.0)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--photo", default="machu-picchu")
    parser.add_argument("--painting", default="starry-night")
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--lr", type=float, default=5e-4)
    args = parser.parse_args()
    for line in run(args.mode, beta=args.beta, steps=args.steps, photo=args.photo, painting=args.painting,
                    size=args.size, crop=args.crop, lr=args.lr):
        print(json.dumps(line), flush=True)
