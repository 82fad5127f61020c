"""Make docs/polish.jpg: each painting's fast model in one pass, then polished (`apply MODEL --refine 10`).

Run from the repository root: python scripts/make_polish_figure.py [SIZE]

One row per bundled model named after its painting: the painting, then
for Chelsea the cat and Machu Picchu (the photos whose content and style
errors are the hardest, README) the model's picture and the same after
the polish preset's steps.
"""

import sys

from figures import grid  # scripts/figures.py

import stylelib
from stylelib.data import list_examples, resolve_image
from stylelib.fast import Stylizer
from stylelib.images import to_pil
from stylelib.models import list_models
from stylelib.options import polish_options

size = int(sys.argv[1]) if len(sys.argv) > 1 else 384
photos = [stylelib.load_example(name, size=size) for name in ("chelsea-the-cat", "machu-picchu")]
paintings = {e.name for e in list_examples("style")}
rows = []
for model in [m.name for m in list_models() if m.name in paintings]:
    painting = str(resolve_image(model))
    polish = polish_options(model, size=size, preview_every=0)
    row = [to_pil(stylelib.load_example(model, size=size))]
    for x in photos:
        row += [to_pil(Stylizer(model)(x)), to_pil(stylelib.stylize(x, painting, polish))]
    rows.append(row)
canvas = grid(rows, 160)
canvas.save("docs/polish.jpg", quality=85, optimize=True)
print("wrote docs/polish.jpg", canvas.size, "rows:", ", ".join(m.name for m in list_models() if m.name in paintings))
