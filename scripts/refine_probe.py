"""A probe, not a feature: a few optimisation steps from a one-pass picture (docs/fast_recipe.md, s21).

    python scripts/refine_probe.py MODEL [--beta B] [--steps N...] [--photos NAME...]

``scripts/one_photo_probe.py`` found that the optimisation's lead over the
networks is detail fitted to one picture at one size, which a network that
paints every photo does not learn. This measures what a little per-picture
work buys: Gatys' optimisation (``stylelib.stylize``, L-BFGS, the judge's
layers, β = ``--beta``) started from the fast model's picture, or from the
any-painting network's (``init="instant"``), for N steps, judged at 384 px
as ``bench/fast_quality.py`` judges the models. Prints JSON: each start,
steps, photo -> content, style and seconds. The kit now does the first of
these itself (s22: ``init="model"``, the ``polish`` preset, ``stylelib apply
MODEL --refine N``); this probe keeps its own start so that any picture can
be tried.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from style_per_layer import pictures

import stylelib
from stylelib import optimize
from stylelib.evaluate import relative_errors
from stylelib.images import resize_tensor


def refine(y: torch.Tensor, x: torch.Tensor, painting, *, beta: float, steps: int, init: str) -> torch.Tensor:
    """``steps`` of the optimisation from ``y`` (init "picture") or from the any-painting network ("instant")."""
    if init != "picture":
        return stylelib.stylize(x, painting, size=max(x.shape[-2:]), preview_every=0, style_weight=beta,
                                init=init, steps=steps)
    start = optimize._initial  # the library starts from one of its own inits; here, from the given picture
    optimize._initial = lambda o, seen, *rest: resize_tensor(y.float().clamp(0, 1), tuple(seen.shape[-2:]))
    try:
        return stylelib.stylize(x, painting, size=max(x.shape[-2:]), preview_every=0, style_weight=beta,
                                init="content", steps=steps)
    finally:
        optimize._initial = start


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--beta", type=float, default=1.2)
    parser.add_argument("--steps", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--photos", nargs="+", default=["grace-hopper", "astronaut", "chelsea-the-cat",
                                                         "neuschwanstein", "machu-picchu", "kingfisher"])
    args = parser.parse_args()
    rows: dict = {"model": args.model, "beta": args.beta, "picture": {}, "instant": {}}
    for name, x, y, painting in pictures(args.model, None, args.photos):
        rows["picture"].setdefault(0, {})[name] = relative_errors(y.float().clamp(0, 1), x, painting)
        for init in ("picture", "instant"):
            for steps in args.steps:
                clock = time.perf_counter()
                z = refine(y, x, painting, beta=args.beta, steps=steps, init=init)
                seconds = time.perf_counter() - clock
                rows[init].setdefault(steps, {})[name] = {**relative_errors(z, x, painting), "seconds": seconds}
    print(json.dumps(rows))
