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

from widen_probe import judge_net, load_weights, train_swapped

from stylelib import photo_coded, pretrained
from stylelib.style_transformer import with_noise


def noisy(base: str, k: int, baked, painting):
    if base == "baked":
        return pretrained.BakedStyle(with_noise(baked.transformer, k)).requires_grad_(True)
    return photo_coded.from_painting(painting, noise=k)


def judge(base: str, k: int, model: str, painting: str) -> dict:
    net = load_weights((pretrained.empty(noise=k) if base == "baked" else photo_coded.empty(noise=k)).eval(), model)
    w = net.transformer.contract[0].conv.weight  # (8, 3 + K, 9, 9)
    return {**judge_net(net, model, painting), "base": base, "noise_channels": k,
            "noise_weight_norm": w[:, 3:].norm().item(), "photo_weight_norm": w[:, :3].norm().item()}


if __name__ == "__main__":
    command, base, k, rest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    if base not in ("baked", "coded"):
        raise SystemExit(f"BASE must be baked or coded; got {base}")
    if command == "train":
        sys.exit(train_swapped(lambda baked, painting: noisy(base, k, baked, painting), ["train", *rest],
                               f"{base}+noise", check_batch=2))
    print(json.dumps(judge(base, k, *rest)))
