"""Make docs/masks.jpg: spatial control, The Starry Night on the left and The Great Wave on the right.

Run from the repository root: python scripts/make_mask_figure.py [SIZE]
Panels: the photo, the left painting's mask (the right one is its inverse), the result.
"""

import sys

import torch

import stylelib
from stylelib.data import example_path

from figures import side_by_side  # scripts/figures.py

size = int(sys.argv[1]) if len(sys.argv) > 1 else 384
photo = stylelib.load_image(example_path("neuschwanstein"), size=size)  # (1, 3, H, W)
h, w = photo.shape[-2:]
# A soft edge over the middle fifth, so the two paintings meet without a seam.
ramp = ((0.6 * w - torch.arange(w)) / (0.2 * w)).clamp(0, 1)  # (W,): 1 on the left, 0 on the right
left = ramp.expand(1, 1, h, w)
styles = [example_path("starry-night"), example_path("great-wave")]
result = stylelib.stylize(photo, styles, style_masks=[left, 1 - left], size=size)
panels = [stylelib.to_pil(photo), stylelib.to_pil(left.expand(1, 3, h, w)), stylelib.to_pil(result)]
canvas = side_by_side(panels, h)
canvas.save("docs/masks.jpg", quality=90, optimize=True)
print("wrote docs/masks.jpg", canvas.size)
