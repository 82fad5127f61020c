"""A probe, not a feature: train on windows of photos at the judge's scale (docs/fast_recipe.md, s21).

    python scripts/judge_scale_probe.py STYLELIB-TRAIN-ARGS...   # --batch-size 1: windows differ in shape

``scripts/one_photo_probe.py`` fitted the network to Machu Picchu alone:
on windows of the photo as the judge sees it (longest side 384 px, not
scaled, not flipped) it reached a style error of 0.14, on ``stylelib
train``'s crops (80-100 % of the shorter side scaled to 256 px, which is
1.2-1.5 times the judge's scale for that wide photo) 0.25. Here every
training photo is seen that way: scaled once so its longest side is
``--image-size`` x 1.5 (384 px for 256), then a window of ``--image-size``
px a side (or the photo's side where shorter) at a random place, with
the random draws of ``stylelib train``'s crops (a function of the seed
and the step). The model file is an ordinary ``pretrained`` model.
"""

from __future__ import annotations

import sys

import torch

from stylelib import cli, train
from stylelib.images import load_pil, to_tensor


class JudgeScale(train.Crops):
    """(index, seed) -> a window of photo ``index`` at the judge's scale, unscaled and unflipped."""

    def photo(self, index: int) -> torch.Tensor:
        if index not in self.cache:
            self.cache[index] = to_tensor(load_pil(self.files[index], size=self.size * 3 // 2))[0]  # (3, H, W)
        return self.cache[index]

    def __getitem__(self, item: tuple[int, int]) -> torch.Tensor:
        index, seed = item
        g = torch.Generator().manual_seed(seed)
        x = self.photo(index)
        h, w = (min(self.size, side) for side in x.shape[1:])
        top = int(torch.randint(0, x.shape[1] - h + 1, (), generator=g))
        left = int(torch.randint(0, x.shape[2] - w + 1, (), generator=g))
        return x[:, top : top + h, left : left + w]


if __name__ == "__main__":
    train.Crops = JudgeScale  # train_iter builds its dataset from this name
    sys.exit(cli.main(["train", *sys.argv[1:]]))
