"""A probe, not a feature: a one-painting network whose norms also see the photo (docs/fast_recipe.md, s18).

    python scripts/photo_code_probe.py train STYLELIB-TRAIN-ARGS...   # e.g. starry-night --data ... -o M
    python scripts/photo_code_probe.py judge MODEL PAINTING            # relative errors, six photos, 384 px

The bundled models bake the painting's style vector S_p into Ghiasi et
al.'s transformer, so every photo gets the same (γ, β). Their worst
photos are kinds of photo (close-up fur painted too much, bare stone too
little), which one set of strengths cannot serve. Here the transformer
keeps its code and gets, per photo x,

    z(x) = S_p + A (S(x) - S_p),      A (100 x 100), A = 0 at step 0

where S(x) is the frozen predictor's style vector of the photo itself.
At step 0 the network paints exactly as the baked one; fine-tuning (the
same ``stylelib train --network pretrained`` loop, with ``from_painting``
swapped) may learn to move each photo's code towards or away from its
own style. The predictor is not a submodule: it is frozen and not saved.
"""

from __future__ import annotations

import copy
import json
import sys

import torch
from torch import nn

from widen_probe import judge_net, train_swapped  # scripts/: the same swap, check and judge

from stylelib import pretrained
from stylelib.anystyle import STYLE_DIM, STYLE_SIZE, AnyStyle, _short_side, load_network


class PhotoCoded(nn.Module):
    """(B, 3, H, W) in [0, 1] -> stylised, each photo with its own code z(x) = S_p + A (S(x) - S_p)."""

    kind = pretrained.NETWORK
    width = 8

    def __init__(self, painting_code: torch.Tensor) -> None:
        super().__init__()
        arbitrary = load_network("arbitrary")
        self.transformer = copy.deepcopy(arbitrary.transformer).requires_grad_(True)
        self.register_buffer("painting", painting_code.clone())  # (1, 100): S_p
        self.mix = nn.Parameter(torch.zeros(STYLE_DIM, STYLE_DIM))  # A
        object.__setattr__(self, "_predictor", arbitrary.predictor)  # frozen, eval, not in state_dict

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            own = self._predictor(_short_side(images.float(), STYLE_SIZE))  # (B, 100): S(x)
        code = self.painting + (own - self.painting) @ self.mix.T  # (B, 100)
        return self.transformer(images, code.to(images.dtype))


def train(argv: list[str]) -> int:
    def make(baked, painting):
        return PhotoCoded(AnyStyle(device="cpu", precision="fp32").style_vector(painting))

    return train_swapped(make, argv, "photo-coded", check_batch=2)


def judge(model: str, painting: str) -> dict:
    from safetensors.torch import load_file

    state = {k: v.float() for k, v in load_file(model).items()}
    net = PhotoCoded(state["painting"]).eval()
    net.load_state_dict(state)
    return {**judge_net(net, model, painting), "mix_norm": net.mix.detach().norm().item()}


if __name__ == "__main__":
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "train":
        sys.exit(train(["train", *rest]))
    print(json.dumps(judge(*rest)))
