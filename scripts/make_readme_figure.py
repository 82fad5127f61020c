"""Make docs/result.jpg: content | style | result, with the library's defaults.

Run from the repository root: python scripts/make_readme_figure.py [SIZE]
The result is exactly what `stylelib stylize grace-hopper starry-night --size SIZE`
writes (same defaults, same seed).
"""

import sys

import stylelib
from stylelib.data import example_path
from stylelib.images import load_pil

from figures import side_by_side  # scripts/figures.py

size = int(sys.argv[1]) if len(sys.argv) > 1 else 512
content, style = example_path("grace-hopper"), example_path("starry-night")
result = stylelib.to_pil(stylelib.stylize(content, style, size=size))
canvas = side_by_side([load_pil(content, size=size), load_pil(style, size=size), result], result.height)
canvas.save("docs/result.jpg", quality=90, optimize=True)
print("wrote docs/result.jpg", canvas.size)
