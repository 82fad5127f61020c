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
