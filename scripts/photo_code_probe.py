"""The s18 and s19 probes of a code per photo, run as they were (docs/fast_recipe.md, s18).

    python scripts/photo_code_probe.py train STYLELIB-TRAIN-ARGS...   # e.g. starry-night --data ... -o M
    python scripts/photo_code_probe.py judge MODEL PAINTING            # relative errors, six photos, 384 px

The network is the kit's ``photo-coded`` one (:mod:`stylelib.photo_coded`:
z(x) = S_p + A (S(x) - S_p), A = 0 at step 0). These probes ran before it
was an option of ``stylelib train``, through ``widen_probe.train_swapped``,
whose check draws from the seeded generator before the first step; this
script keeps that order, so it trains each probe's model bit for bit.
``stylelib train --network photo-coded`` trains the same network from
another draw of the crops. The files it wrote record the kind
``pretrained``, so only ``judge`` reads them.
"""

from __future__ import annotations

import json
import sys

from widen_probe import judge_net, load_weights, train_swapped  # scripts/: the same swap, check and judge

from stylelib import photo_coded


def train(argv: list[str]) -> int:
    return train_swapped(lambda baked, painting: photo_coded.from_painting(painting), argv, "photo-coded",
                         check_batch=2)


def judge(model: str, painting: str) -> dict:
    net = load_weights(photo_coded.empty().eval(), model)
    return {**judge_net(net, model, painting), "mix_norm": net.mix.detach().norm().item()}


if __name__ == "__main__":
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "train":
        sys.exit(train(["train", *rest]))
    print(json.dumps(judge(*rest)))
