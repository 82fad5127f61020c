"""The s19 probe of noise inputs, run as it was (docs/fast_recipe.md, s19).

    python scripts/noise_probe.py train BASE K STYLELIB-TRAIN-ARGS...   # BASE: baked or coded; K noise channels
    python scripts/noise_probe.py judge BASE K MODEL PAINTING             # relative errors, six photos, 384 px

The network is the kit's with K noise inputs (``stylelib train --noise K``,
:func:`stylelib.style_transformer.with_noise`), on the baked network
(``--network pretrained``) or the photo-coded one, trained through
``widen_probe.train_swapped``. Not bit for bit the s19 rows: those ran with
this script's first version (commit a21f754), which added the inputs with
a hook and so drew other numbers from the seeded generator before the
first step; the network and the settings are the same. The files it
writes record no noise, so only ``judge`` reads them (it reads the s19
files too).
"""

from __future__ import annotations

import json
import sys

from widen_probe import command_and_base, empty_base, judge_net, load_weights, train_swapped

from stylelib import photo_coded, pretrained
from stylelib.style_transformer import with_noise


def noisy(base: str, k: int, baked, painting):
    if base == "baked":
        return pretrained.BakedStyle(with_noise(baked.transformer, k)).requires_grad_(True)
    return photo_coded.from_painting(painting, noise=k)


def judge(base: str, k: int, model: str, painting: str) -> dict:
    net = load_weights(empty_base(base, noise=k).eval(), model)
    w = net.transformer.contract[0].conv.weight  # (8, 3 + K, 9, 9)
    return {**judge_net(net, model, painting), "base": base, "noise_channels": k,
            "noise_weight_norm": w[:, 3:].norm().item(), "photo_weight_norm": w[:, :3].norm().item()}


if __name__ == "__main__":
    command, base, rest = command_and_base(sys.argv)
    k, rest = int(rest[0]), rest[1:]
    if command == "train":
        sys.exit(train_swapped(lambda baked, painting: noisy(base, k, baked, painting), ["train", *rest],
                               f"{base}+noise", check_batch=2))
    print(json.dumps(judge(base, k, *rest)))
