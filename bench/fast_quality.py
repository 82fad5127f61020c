"""How strongly a fast-style model paints: the kit's relative errors on held-out photos, as JSON.

    python bench/fast_quality.py                         # every bundled model
    python bench/fast_quality.py my.safetensors --style my-painting.jpg
    python bench/fast_quality.py starry-night --gatys     # the same judge on Gatys' optimisation (β 20, photo start)
    python bench/fast_quality.py starry-night --gatys 5 --photos chelsea-the-cat   # ... at β = 5
    python bench/fast_quality.py starry-night --mix 0.8   # 80% of the way from the photo to the model's result
    python bench/fast_quality.py starry-night --refine 10 # the model's picture, then 10 steps (`apply --refine 10`)
    python bench/fast_quality.py --refine 5 --beta 1.2    # ... 5 steps at style weight 1.2

For each model and each photo (default: the six bundled photos, which no
bundled model was trained on) at ``--size`` px: the relative content error
c = E_c/E_c(0) at relu4_2 and the relative style error s = S(result)/S(photo)
against the model's painting (``stylelib.evaluate.relative_errors``).
``--gatys [BETA]`` judges ``stylelib.stylize`` (from the photo, 100 steps, at
its default style weight or at BETA) on the same photos and painting instead of the model: what
optimising each photo reaches, the bar a one-pass network is measured
against. ``--refine N`` judges what ``stylelib apply MODEL --refine N`` makes:
the model's picture polished by N optimisation steps (the ``polish`` preset).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import torch

import stylelib
from stylelib.data import list_examples, resolve_image
from stylelib.evaluate import relative_errors
from stylelib.fast import Stylizer
from stylelib.options import DEFAULTS, PRESETS, polish_options
from stylelib.models import list_models, model_path
from stylelib.images import load_image


def judge(model: str, style: str | None, photos: list[str], size: int, gatys: float | None = None,
          mix: float = 1.0, refine: int = 0, beta: float | None = None) -> dict:
    path = model_path(model)
    recipe = json.loads(path.with_suffix(".json").read_text()) if path.with_suffix(".json").exists() else {}
    style = style or recipe.get("style")
    if gatys is not None:
        def run(x: torch.Tensor) -> torch.Tensor:
            # from the photo, 100 steps: how the recorded bar (docs/gatys_bound_384.json) was measured
            return stylelib.stylize(x, resolve_image(style), size=max(x.shape[-2:]), preview_every=0,
                                    style_weight=gatys, init="content", steps=100)
    elif refine:
        polish = polish_options(str(path), steps=refine, style_weight=beta, preview_every=0)

        def run(x: torch.Tensor) -> torch.Tensor:
            return stylelib.stylize(x, resolve_image(style), dataclasses.replace(polish, size=max(x.shape[-2:])))
    else:
        run = Stylizer(str(path))
    rows = {}
    for name in photos:
        x = load_image(resolve_image(name), size=size)
        clock = time.perf_counter()
        y = (x + mix * (run(x) - x)).clamp(0, 1)  # mix < 1: part of the way from the photo to the result
        ms = 1000 * (time.perf_counter() - clock)
        rows[name] = {**relative_errors(y, x, resolve_image(style)), "ms": round(ms, 1)}
    cs, ss = [r["content"] for r in rows.values()], [r["style"] for r in rows.values()]
    label = f"gatys (stylelib.stylize, style_weight {gatys:g})" if gatys is not None else str(model)
    label += f", then {refine} steps (polish, style_weight {polish.style_weight:g})" if refine else ""
    label += f", mixed {mix:g} with the photo" if mix != 1 else ""
    polished = {"refine": refine, "refine_style_weight": polish.style_weight} if refine else {}
    return {"model": label, "style": style, "size": size, **polished, "photos": rows,
            "content_mean": sum(cs) / len(cs), "content_max": max(cs),
            "style_mean": sum(ss) / len(ss), "style_max": max(ss)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="model files or bundled names (default: all bundled)")
    parser.add_argument("--style", help="the painting to judge against (default: the model's recipe)")
    parser.add_argument("--photos", nargs="+", default=[e.name for e in list_examples("content")])
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--gatys", nargs="?", type=float, const=DEFAULTS.style_weight, metavar="BETA",
                        help="judge Gatys' optimisation of each photo instead (at style weight BETA; default: "
                             "stylize's)")
    parser.add_argument("--mix", type=float, default=1.0, metavar="S",
                        help="judge photo + S (result - photo) instead: is there a blend that meets both targets?")
    parser.add_argument("--refine", type=int, default=0, metavar="N",
                        help="judge the model's picture polished by N optimisation steps (apply --refine N)")
    parser.add_argument("--beta", type=float, help="with --refine: the style weight of the steps (default: the "
                                                   f"polish preset's, {PRESETS['polish'][1]['style_weight']:g})")
    args = parser.parse_args()
    if args.gatys is not None and args.refine:
        parser.error("--gatys judges the optimisation from the photo, --refine from the model's picture: give one")
    torch.manual_seed(0)
    models = args.models or [m.name for m in list_models()]
    print(json.dumps([judge(m, args.style, args.photos, args.size, args.gatys, args.mix, args.refine, args.beta)
                      for m in models], indent=1))


if __name__ == "__main__":
    main()
