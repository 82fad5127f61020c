"""Make docs/result.jpg: content | style | result, with the library's defaults.

Run from the repository root: python scripts/make_readme_figure.py [SIZE]
The result is exactly what `stylelib stylize grace-hopper starry-night --size SIZE`
writes (same defaults, same seed).
"""

import sys

from PIL import Image

import stylelib
from stylelib.data import example_path
from stylelib.images import load_pil

size = int(sys.argv[1]) if len(sys.argv) > 1 else 512
content, style = example_path("grace-hopper"), example_path("starry-night")
result = stylelib.to_pil(stylelib.stylize(content, style, size=size))
panels = [load_pil(content, size=size), load_pil(style, size=size), result]
height = result.height
panels = [p.resize((round(p.width * height / p.height), height), Image.Resampling.LANCZOS) for p in panels]
gap = 8
canvas = Image.new("RGB", (sum(p.width for p in panels) + gap * 2, height), "white")
x = 0
for p in panels:
    canvas.paste(p, (x, 0))
    x += p.width + gap
canvas.save("docs/result.jpg", quality=90, optimize=True)
print("wrote docs/result.jpg", canvas.size)
