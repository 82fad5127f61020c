"""Running a trained fast-style network: one pass per image, fast (lessons 09, 10).

:class:`Stylizer` makes a trained network (:mod:`stylelib.models`) ready for
inference (low precision, optional ``torch.compile``); model files are in
:mod:`stylelib.models`, images and videos on disk in :mod:`stylelib.media`.
"""

from __future__ import annotations

import copy
import os

import torch

from .images import ImageSource, load_image
from .models import load_model
from .runtime import resolve_precision


class Stylizer:
    """A trained network made ready for inference: ``Stylizer(model)(images)``.

    Low precision (``precision``, "auto": bf16 where the device is fast at
    it) casts a copy of the weights rather than autocasting: on the CPU,
    autocast converts every layer's input and output and made 1080p frames
    twice as slow (bench/fast_speed.py). ``compile=True`` runs the network
    through ``torch.compile``: the first image of each size then costs
    about half a minute on 2 CPU cores, later ones about half the time
    (512 px: 68 instead of 134 ms), so it pays off for videos and folders.
    """

    def __init__(self, model: torch.nn.Module | str | os.PathLike, *, device: str = "auto",
                 precision: str = "auto", compile: bool = False) -> None:
        net = load_model(model, device=device) if isinstance(model, (str, os.PathLike)) else model
        self.device = next(net.parameters()).device
        self.dtype = resolve_precision(precision, self.device) or torch.float32
        if self.dtype != torch.float32:
            net = copy.deepcopy(net).to(self.dtype)  # never change the caller's network
        self.memory = torch.channels_last if self.device.type == "cuda" else torch.contiguous_format
        self.net, self.compiled = (torch.compile(net) if compile else net), compile
        self.shapes: set[tuple] = set()  # the input shapes run so far

    def __call__(self, images: torch.Tensor, *, batch: int = 8) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> the same shape, float32 on the CPU; ``batch`` images per pass."""
        out = []
        with torch.no_grad():
            for chunk in images.split(batch):
                n = len(chunk)
                full = (batch, *chunk.shape[1:])
                if self.compiled and n < batch and full in self.shapes:
                    # a short last batch would be a new shape, and a new half-minute compile
                    chunk = torch.cat([chunk, chunk[-1:].expand(batch - n, -1, -1, -1)])
                self.shapes.add(tuple(chunk.shape))
                x = chunk.to(self.device, self.dtype, memory_format=self.memory)
                out.append(self.net(x)[:n].float().clamp(0, 1).cpu())  # (n, 3, H, W)
        return torch.cat(out)


def stylize_fast(
    model: torch.nn.Module | Stylizer | str, images: torch.Tensor | ImageSource, *, size: int | None = None,
    batch: int = 8, precision: str = "auto", compile: bool = False,
) -> torch.Tensor:
    """One pass through the network: (B, 3, H, W) in [0, 1] (or any image source) -> same shape, stylised.

    Batches of ``batch`` images at a time; the caller's tensor is not changed.
    A ``Stylizer`` is used as it is (its precision and compile win).
    """
    run = model if isinstance(model, Stylizer) else Stylizer(model, precision=precision, compile=compile)
    if not isinstance(images, torch.Tensor):
        images = load_image(images, size=size)
    return run(images, batch=batch)

