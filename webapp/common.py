"""What every tab shares: the device, limits, the upload component, example galleries, run folders."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import gradio as gr
import torch

from stylelib.data import list_examples
from stylelib.images import ImageError, load_image
from stylelib.runtime import resolve_device

DEVICE = resolve_device("auto")
ON_GPU = DEVICE.type != "cpu"
CONCURRENCY = 2 if ON_GPU else 1  # two CPU runs at once would each take twice as long
MAX_SIZE = 2048 if ON_GPU else 1024
UPLOAD_LIMIT = "20mb"
OUT_DIR = Path(os.environ.get("GRADIO_TEMP_DIR", tempfile.gettempdir())) / "stylelib-app"
KEEP_RUNS, KEEP_SECONDS = 50, 3600  # run folders kept: the newest 50, none older than an hour


class UploadImage(gr.Image):
    """A gr.Image whose upload reaches stylelib's loader as a path, undecoded.

    Gradio's own preprocessing opens the file with PIL, so a broken upload
    would fail there with a message naming a server path; ours decodes it
    once, at the size asked for, and explains what is wrong.
    """

    def get_block_name(self) -> str:
        return "image"  # the same front-end component as gr.Image

    def preprocess(self, payload):
        if payload is None or payload.path is None:
            return super().preprocess(payload)
        return str(payload.path)


def load_input(path: str | None, what: str, size: int | None, min_side: int) -> torch.Tensor:
    if not path:
        raise gr.Error(f"Choose a {what} image: click one of the examples or upload your own.")
    try:
        return load_image(path, size=size, min_side=min_side)
    except ImageError as err:
        raise gr.Error(f"The {what} image can't be used: {err.reason}.") from None


def cli_name(path: str) -> str:
    """A bundled example's name, else the uploaded file's name (for the CLI line)."""
    stem = Path(path).stem
    names = {e.name for e in list_examples()}
    return stem if stem in names else Path(path).name


def example_gallery(kind: str, elem_id: str | None = None, label: str | None = None) -> gr.Gallery:
    items = [(str(e.path), e.name) for e in list_examples(kind)]
    return gr.Gallery(items, label=label or f"Examples ({'photos' if kind == 'content' else 'paintings'}), click to use",
                      columns=6, height=150, allow_preview=False, object_fit="cover",
                      elem_id=elem_id or f"{kind}-examples", elem_classes="stylelib-gallery")


def pick_example(kind: str):
    paths = [str(e.path) for e in list_examples(kind)]

    def pick(evt: gr.SelectData) -> str:
        return paths[evt.index]

    return pick


def new_run_dir() -> Path:
    """A fresh folder for one run's files; old ones are removed (bounded disk in a long-running demo)."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    runs = sorted((p for p in OUT_DIR.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    now = time.time()
    for i, old in enumerate(runs):
        if len(runs) - i >= KEEP_RUNS or now - old.stat().st_mtime > KEEP_SECONDS:
            shutil.rmtree(old, ignore_errors=True)
    path = OUT_DIR / uuid.uuid4().hex[:12]
    path.mkdir()
    return path


def release_memory() -> None:
    """Hand freed memory back to the OS after a run (glibc keeps it per thread otherwise, and a
    long-running server's resident size creeps up run after run)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim


def as_numpy(image: torch.Tensor):
    """(1, 3, H, W) in [0, 1] -> (H, W, 3) for gr.Image."""
    return image[0].permute(1, 2, 0).numpy()


CSS = """
.stylelib-title h1 {margin-bottom: 0}
.stylelib-status {min-height: 2.2em}
.stylelib-gallery .caption-label {white-space: normal; overflow: visible; font-size: 11px; line-height: 1.1}
#result-image img, #instant-result img {width: 100%; height: 100%; object-fit: contain}
"""
