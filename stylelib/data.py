"""The bundled example photos and paintings, by name, offline (lesson 01).

Public-domain paintings and CC0/public-domain photos copied (downscaled)
from Debian and PyPI packages; ``assets/examples/CREDITS.csv`` credits each.
Names work anywhere a path does: ``stylelib stylize grace-hopper starry-night``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .images import load_image

if TYPE_CHECKING:  # the tensors come from images.load_image, which imports torch when called
    import torch

EXAMPLES_DIR = Path(__file__).parent / "assets" / "examples"
KINDS = ("content", "style")


@dataclass(frozen=True)
class Example:
    name: str
    kind: str  # "content" (a photo) or "style" (a painting)
    path: Path
    title: str
    creator: str
    year: str
    licence: str

    @property
    def credit(self) -> str:
        year = f", {self.year}" if self.year else ""
        return f"{self.title}, {self.creator}{year} ({self.licence})"


@lru_cache(maxsize=1)
def _examples() -> dict[str, Example]:
    with open(EXAMPLES_DIR / "CREDITS.csv", encoding="utf-8") as f:
        return {
            row["name"]: Example(
                row["name"], row["kind"], EXAMPLES_DIR / row["file"],
                row["title"], row["creator"], row["year"], row["licence"],
            )
            for row in csv.DictReader(f)
        }


def list_examples(kind: str | None = None) -> list[Example]:
    """All examples, or only ``kind`` ("content" photos or "style" paintings)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    return [e for e in _examples().values() if kind is None or e.kind == kind]


def example_path(name: str) -> Path:
    """The file of the example called ``name``."""
    examples = _examples()
    if name not in examples:
        raise KeyError(f"no example called {name!r}; examples are: {', '.join(examples)}")
    return examples[name].path


def load_example(name: str, *, size: int | None = None) -> torch.Tensor:
    """The example ``name`` as a (1, 3, H, W) tensor in [0, 1], longest side ``size``."""
    return load_image(example_path(name), size=size)


def resolve_image(name_or_path: str) -> Path | str:
    """A bundled example's file for a name, else the string unchanged (a path)."""
    if not Path(name_or_path).exists() and name_or_path in _examples():
        return _examples()[name_or_path].path
    return name_or_path
