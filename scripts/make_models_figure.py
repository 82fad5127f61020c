"""Make docs/models.jpg: held-out photos (never seen in training) through every bundled fast model.

Run from the repository root: python scripts/make_models_figure.py [SIZE]
"""

import sys

from PIL import Image

import stylelib
from stylelib.fast import Stylizer
from stylelib.models import list_models
from stylelib.images import to_pil

size = int(sys.argv[1]) if len(sys.argv) > 1 else 320
photos = ["chelsea-the-cat", "grace-hopper", "neuschwanstein", "kingfisher"]
models = list_models()
runs = [Stylizer(m.name) for m in models]  # each loaded once, not once per photo
rows = []
for name in photos:
    x = stylelib.load_example(name, size=size)
    rows.append([to_pil(x)] + [to_pil(run(x)) for run in runs])
cell_h = 200
rows = [[im.resize((round(im.width * cell_h / im.height), cell_h), Image.Resampling.LANCZOS) for im in r] for r in rows]
widths = [max(r[i].width for r in rows) for i in range(len(rows[0]))]
gap = 6
canvas = Image.new("RGB", (sum(widths) + gap * (len(widths) - 1), cell_h * len(rows) + gap * (len(rows) - 1)), "white")
for j, r in enumerate(rows):
    x = 0
    for i, im in enumerate(r):
        canvas.paste(im, (x, j * (cell_h + gap)))
        x += widths[i] + gap
canvas.save("docs/models.jpg", quality=88, optimize=True)
print("wrote docs/models.jpg", canvas.size, "columns: photo,", ", ".join(m.name for m in models))
