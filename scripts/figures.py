"""Shared by the scripts that make the README's figures."""

from PIL import Image


def side_by_side(panels: list[Image.Image], height: int, gap: int = 8) -> Image.Image:
    """Panels scaled to ``height`` and set in a row on white, ``gap`` pixels apart."""
    panels = [p if p.height == height else p.resize((round(p.width * height / p.height), height),
                                                   Image.Resampling.LANCZOS) for p in panels]
    canvas = Image.new("RGB", (sum(p.width for p in panels) + gap * (len(panels) - 1), height), "white")
    x = 0
    for p in panels:
        canvas.paste(p, (x, 0))
        x += p.width + gap
    return canvas


def grid(rows: list[list[Image.Image]], height: int, gap: int = 6) -> Image.Image:
    """Rows of panels scaled to ``height``, each column as wide as its widest panel, on white."""
    rows = [[p.resize((round(p.width * height / p.height), height), Image.Resampling.LANCZOS) for p in r]
            for r in rows]
    widths = [max(r[i].width for r in rows) for i in range(len(rows[0]))]
    canvas = Image.new("RGB", (sum(widths) + gap * (len(widths) - 1), height * len(rows) + gap * (len(rows) - 1)),
                       "white")
    for j, r in enumerate(rows):
        x = 0
        for i, p in enumerate(r):
            canvas.paste(p, (x, j * (height + gap)))
            x += widths[i] + gap
    return canvas
