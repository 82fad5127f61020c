"""Make docs/models.jpg: held-out photos (never seen in training) through every bundled fast model.

Run from the repository root: python scripts/make_models_figure.py [SIZE]
"""

import sys

from figures import grid

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
canvas = grid(rows, 200)
canvas.save("docs/models.jpg", quality=88, optimize=True)
print("wrote docs/models.jpg", canvas.size, "columns: photo,", ", ".join(m.name for m in models))
