"""Benchmark: VGG's convolutions by oneDNN (torch's default) against NNPACK's Winograd transform, in fp32.

Two views, both forward and backward to the input, as the optimisation needs:

- per evaluation (default): the default objective (Caffe VGG-19 to relu5_1,
  Gram matrices and all) through oneDNN in NHWC (its faster layout), oneDNN
  in NCHW, and NNPACK from maps of 32², 48² and 64² on; the paths interleaved round by round in one
  process, so that a busy host slows them alike.
- ``--layers``: every VGG convolution shape alone, at each map side: where
  NNPACK wins (the rule in ``stylelib.winograd.min_side``).

Prints JSON; name the CPU beside the figures (``machine``). Usage:

    python bench/winograd_speed.py [--sizes 256 512] [--rounds 6]
    python bench/winograd_speed.py --layers [--sides 16 32 64 128 256]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch
from gatys_speed import machine, square

from stylelib import winograd
from stylelib.objective import Objective
from stylelib.options import DEFAULTS
from stylelib.runtime import keep_freed_memory
from stylelib.vgg import VGGFeatures

SHAPES = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 512), (512, 512)]


def seconds(fn, n: int) -> float:
    """Best of ``n`` calls after two warm-ups: the least disturbed."""
    fn(), fn()
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def evaluation(module, x: torch.Tensor, value=lambda y: y.sum()):
    def run():
        xx = x.detach().requires_grad_(True)
        value(module(xx)).backward()
    return run


def layers(sides: list[int], n: int) -> list[dict]:
    rows = []
    for cin, cout in SHAPES:
        for side in sides:
            conv = torch.nn.Conv2d(cin, cout, 3, padding=1).requires_grad_(False)
            fast = winograd.use_winograd(torch.nn.Sequential(copy.deepcopy(conv)))[0]
            turned = winograd.turn(conv.weight)
            fast.forward = lambda x, f=fast, t=turned: winograd._Conv3x3.apply(x, f.weight, f.bias, t)  # every side
            x = torch.rand(1, cin, side, side)
            nhwc = copy.deepcopy(conv).to(memory_format=torch.channels_last)
            ms = {"onednn_nchw": seconds(evaluation(conv, x), n),
                  "onednn_nhwc": seconds(evaluation(nhwc, x.contiguous(memory_format=torch.channels_last)), n),
                  "nnpack": seconds(evaluation(fast, x), n)}
            rows.append({"channels": f"{cin}->{cout}", "side": side, **{k: round(v * 1e3, 2) for k, v in ms.items()},
                         "onednn_best_over_nnpack": round(min(ms["onednn_nchw"], ms["onednn_nhwc"]) / ms["nnpack"], 2)})
    return rows


def objective(sizes: list[int], rounds: int) -> list[dict]:
    o = DEFAULTS
    names = tuple(dict.fromkeys(o.content_layers + o.style_layers))
    base = VGGFeatures(names, weights="caffe")
    fast = copy.deepcopy(base)
    winograd.use_winograd(fast.net)
    here = winograd.min_side()
    paths = {"onednn_nhwc": (copy.deepcopy(base).to(memory_format=torch.channels_last), here),
             "onednn_nchw": (base, here), **{f"nnpack_from_{side}": (fast, side) for side in (32, 48, 64)}}
    rows, saved = [], (winograd.MIN_SIDE, winograd.MIN_SIDE_AVX512)
    for size in sizes:
        content, style = square("grace-hopper", size), square("starry-night", size)
        objs = {k: (Objective(net, content, [style], content_layers=o.content_layers, style_layers=o.style_layers,
                              style_weight=o.style_weight), side) for k, (net, side) in paths.items()}
        times: dict[str, list[float]] = {k: [] for k in objs}
        try:
            for r in range(rounds + 1):  # round 0 warms every path up and is not counted
                for k, (obj, side) in objs.items():
                    winograd.MIN_SIDE = winograd.MIN_SIDE_AVX512 = side
                    t = time.perf_counter()
                    evaluation(obj, content, lambda out: out[0])()
                    if r:
                        times[k].append(time.perf_counter() - t)
        finally:
            winograd.MIN_SIDE, winograd.MIN_SIDE_AVX512 = saved
        rows.append({"size": f"{size}x{size}", **{k: {"best_s": round(min(v), 3), "median_s": round(
            statistics.median(v), 3)} for k, v in times.items()}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--layers", action="store_true", help="each convolution shape alone")
    parser.add_argument("--sides", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    args = parser.parse_args()
    kept = keep_freed_memory()
    torch._nnpack_available()  # initialises NNPACK
    report = {"machine": {**machine(), "freed_memory_kept": kept, "nnpack": torch._nnpack_available(),
                          "winograd_min_side_here": winograd.min_side()}}
    if args.layers:
        report["layers_ms"] = layers(args.sides, max(args.rounds, 1))
    else:
        report["objective"] = objective(args.sizes, args.rounds)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
