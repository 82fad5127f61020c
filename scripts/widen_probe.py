"""A probe, not a feature: fine-tune the any-painting network with FACTOR times its channels (docs/fast_recipe.md, s14).

    python scripts/widen_probe.py train FACTOR  STYLELIB-TRAIN-ARGS...   # e.g. 2 starry-night --data ... -o M
    python scripts/widen_probe.py judge FACTOR MODEL PAINTING            # relative errors, six photos, 384 px

The released transformer (widths 8, 16, 32 / 16, 8) is widened before
training so that it still paints exactly as before: each layer gets
FACTOR times the channels, the old channels keep their weights and get
zero weights from the new ones (so they compute what they did), the new
channels start from PyTorch's default initialisation with γ = 1, β = 0,
and reach the output only as fine-tuning grows their zero weights. The
training loop is ``stylelib train --network pretrained`` with its
``from_painting`` swapped for the widened one; the model file it writes
records width 8, so only ``judge`` (which builds the widened shape) can
read it back.
"""

from __future__ import annotations

import json
import sys
from typing import Callable

import torch

from stylelib import cli, photo_coded, pretrained
from stylelib.data import resolve_image
from stylelib.evaluate import relative_errors
from stylelib.images import load_image
from stylelib.style_transformer import StyleTransformer

PHOTOS = ["grace-hopper", "astronaut", "chelsea-the-cat", "neuschwanstein", "machu-picchu", "kingfisher"]


def wide_dims(dims: dict, factor: int) -> dict:
    return {**dims, "contract": tuple(c * factor for c in dims["contract"]),
            "expand": tuple(c * factor for c in dims["expand"])}


def widen(baked: pretrained.BakedStyle, factor: int) -> pretrained.BakedStyle:
    old = baked.transformer
    torch.manual_seed(0)  # the new channels' initialisation
    new = StyleTransformer(1, **wide_dims(old.dims, factor), code_bias=False)
    state = new.state_dict()
    for name, value in old.state_dict().items():
        w = state[name]
        if name.endswith("conv.weight"):  # (out, in, k, k)
            out, inp = value.shape[:2]
            w[:out, :inp] = value
            w[:out, inp:] = 0  # old outputs never see the new inputs
        elif name.endswith(("conv.bias", "beta.weight")):
            w.zero_()
            w[: value.shape[0]] = value
        elif name.endswith("gamma.weight"):
            w.fill_(1.0)
            w[: value.shape[0]] = value
        else:
            raise KeyError(name)
    new.load_state_dict(state)
    return pretrained.BakedStyle(new).requires_grad_(True)


def train_with(make: Callable, argv: list[str]) -> int:
    """``stylelib train`` with the baked network swapped for ``make(baked, painting)``."""
    released = pretrained.from_painting
    pretrained.from_painting = lambda painting, **kwargs: make(released(painting, **kwargs), painting)
    return cli.main(argv)


def train_swapped(make: Callable, argv: list[str], what: str, check_batch: int = 1) -> int:
    """:func:`train_with`, checking that ``make(baked, painting)`` paints as the baked network."""
    def checked(baked, painting):
        net = make(baked, painting)
        x = torch.rand(check_batch, 3, 64, 64)  # (its size draws from the seeded generator: kept per probe)
        with torch.no_grad():
            gap = (baked(x) - net(x)).abs().max().item()
        if gap > 1e-5:
            raise RuntimeError(f"the {what} network paints differently (by {gap})")
        return net

    return train_with(checked, argv)


BASES = ("baked", "coded")  # the painting baked in (stylelib.pretrained), or a code per photo (stylelib.photo_coded)


def command_and_base(argv: list[str]) -> tuple[str, str, list[str]]:
    """(COMMAND, BASE, the rest) of ``probe.py COMMAND BASE ...``, BASE checked."""
    command, base, rest = argv[1], argv[2], argv[3:]
    if base not in BASES:
        raise SystemExit(f"BASE must be {' or '.join(BASES)}; got {base}")
    return command, base, rest


def base_network(base: str, baked: pretrained.BakedStyle, painting) -> torch.nn.Module:
    """The network a probe builds on: the baked one, or the photo-coded one for the same painting."""
    return baked if base == "baked" else photo_coded.from_painting(painting)


def empty_base(base: str, **kwargs) -> torch.nn.Module:
    """An untrained network of BASE's shape (for reading a probe's model file)."""
    return (pretrained.empty if base == "baked" else photo_coded.empty)(**kwargs)


def load_weights(net: torch.nn.Module, model: str) -> torch.nn.Module:
    """``net`` with a probe's model file loaded into it (every weight, as float32)."""
    from safetensors.torch import load_file

    net.load_state_dict({k: v.float() for k, v in load_file(model).items()})
    return net


def train(factor: int, argv: list[str]) -> int:
    return train_swapped(lambda baked, painting: widen(baked, factor), argv, "widened")


def judge(factor: int, model: str, painting: str) -> dict:
    dims = wide_dims(pretrained.ARBITRARY_DIMS, factor)
    net = load_weights(pretrained.BakedStyle(StyleTransformer(1, **dims, code_bias=False)), model)
    return {**judge_net(net, model, painting), "factor": factor}


def judge_net(net: torch.nn.Module, model: str, painting: str) -> dict:
    """Relative content and style errors of ``net`` on the six bundled photos at 384 px, with their summary."""
    rows = {}
    for name in PHOTOS:
        x = load_image(resolve_image(name), size=384)
        with torch.no_grad():
            rows[name] = relative_errors(net(x), x, resolve_image(painting))
    c, s = [r["content"] for r in rows.values()], [r["style"] for r in rows.values()]
    return {"model": model, "content_mean": sum(c) / len(c), "content_max": max(c),
            "style_mean": sum(s) / len(s), "style_max": max(s), "photos": rows}


if __name__ == "__main__":
    command, factor, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    if command == "train":
        sys.exit(train(factor, ["train", *rest]))
    print(json.dumps(judge(factor, *rest)))
