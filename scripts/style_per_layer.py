"""Where a picture's relative style error comes from, layer by layer (docs/fast_recipe.md, s20).

    python scripts/style_per_layer.py MODEL [--gatys BETA] [--photos NAME...]

The judge's style figure (``bench/fast_quality.py``) is S(y) / S(x): the
style error of the picture y over the photo x's own, each a sum over the
five layers relu1_1 ... relu5_1. For each photo at 384 px this prints, per
layer l, the layer's own ratio S_l(y) / S_l(x) and its share of the
judge's figure, S_l(y) / S(x) (the shares add up to the figure), for the
model's picture or for Gatys' optimisation as ``bench/fast_quality.py
--gatys`` runs it (from the photo, 100 L-BFGS steps). Prints JSON.
"""

from __future__ import annotations

import argparse
import json

import torch

import stylelib
from stylelib.data import resolve_image
from stylelib.fast import Stylizer
from stylelib.images import as_image, load_image
from stylelib.models import model_path
from stylelib.objective import Objective
from stylelib.options import DEFAULTS, polish_options
from stylelib.vgg import get_extractor


def per_layer(y: torch.Tensor, x: torch.Tensor, painting) -> dict:
    layers = tuple(dict.fromkeys((*DEFAULTS.content_layers, *DEFAULTS.style_layers)))
    extractor = get_extractor(layers, DEFAULTS.arch, DEFAULTS.weights, "max", "cpu")
    objective = Objective(extractor, x, [as_image(painting, max(x.shape[-2:]), what="painting")],
                          content_layers=DEFAULTS.content_layers, style_layers=DEFAULTS.style_layers,
                          content_weight=1.0, style_weight=1.0)  # as stylelib.evaluate.relative_errors
    with torch.no_grad():
        _, picture, _ = objective(y.float())
        _, photo, _ = objective(x)
    keys = [k for k in photo if k.startswith("style:")]
    total = sum(photo[k].item() for k in keys)  # S(x)
    return {"content": round(picture["content"].item(), 3),
            "style": round(sum(picture[k].item() for k in keys) / total, 3),
            "ratio": {k[6:]: round(picture[k].item() / photo[k].item(), 3) for k in keys},  # S_l(y) / S_l(x)
            "share": {k[6:]: round(picture[k].item() / total, 3) for k in keys}}  # S_l(y) / S(x)


def pictures(model: str, gatys: float | None, photos: list[str], refine: int = 0):
    """(name, photo, picture, painting) at 384 px for each photo: the model's picture, or Gatys' at β = ``gatys``,
    or the model's picture polished by ``refine`` steps (the polish preset)."""
    path = model_path(model)
    painting = resolve_image(json.loads(path.with_suffix(".json").read_text())["style"])
    network = Stylizer(str(path)) if gatys is None and not refine else None  # loaded once for every photo
    for name in photos:
        x = load_image(resolve_image(name), size=384)
        if refine:
            y = stylelib.stylize(x, painting, polish_options(str(path), steps=refine, size=max(x.shape[-2:]),
                                                             preview_every=0))
        elif network is not None:
            with torch.no_grad():
                y = network(x)
        else:
            y = stylelib.stylize(x, painting, size=max(x.shape[-2:]), preview_every=0, style_weight=gatys,
                                 init="content", steps=100)
        yield name, x, y, painting


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("model")
    parser.add_argument("--gatys", type=float, default=None, metavar="BETA")
    parser.add_argument("--refine", type=int, default=0, metavar="N", help="the model's picture polished by N steps")
    parser.add_argument("--photos", nargs="+", default=["machu-picchu", "kingfisher", "chelsea-the-cat"])
    return parser.parse_args()


if __name__ == "__main__":
    args = arguments("the judge's style figure split by layer")
    rows = {name: per_layer(y, x, painting)
            for name, x, y, painting in pictures(args.model, args.gatys, args.photos, args.refine)}
    print(json.dumps({"model": args.model, "gatys": args.gatys, "refine": args.refine, "photos": rows}))
