"""Using trained fast-style networks: save, load, list, and apply to images and videos (lessons 09, 10).

A model file is fp16 safetensors holding the TransformerNet weights, with
its training config in the metadata; ``MODEL.json`` beside it is the
recipe (style image, steps, batch, size, weights, seconds, device).
Bundled models live in ``assets/models`` and are used by name.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable

import torch

from .images import ImageSource, load_image
from .optimize import resolve_device, resolve_precision
from .transformer_net import TransformerNet

MODELS_DIR = Path(__file__).parent / "assets" / "models"
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".gif")


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    recipe: dict


def save_model(net: TransformerNet, path: str | os.PathLike, config, *, seconds: float, info: dict) -> None:
    """fp16 safetensors + the recipe JSON next to it."""
    from safetensors.torch import save_file

    path = Path(path)
    state = {k: v.detach().half().contiguous().cpu() for k, v in net.state_dict().items()}
    cfg = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    meta = {"network": net.kind, "width": net.width, "config": cfg}
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(state, tmp, metadata={"stylelib": json.dumps(meta)})
    os.replace(tmp, path)
    recipe = {
        "style": cfg.get("style"), "network": net.kind, "width": net.width, "steps": cfg.get("steps"),
        "batch_size": cfg.get("batch_size"), "image_size": cfg.get("image_size"), "config": cfg,
        "seconds": round(seconds, 1), **info,
    }
    path.with_suffix(".json").write_text(json.dumps(recipe, indent=2) + "\n")


def list_models() -> list[ModelInfo]:
    """The bundled models (name = file stem), with their recipes."""
    out = []
    for path in sorted(MODELS_DIR.glob("*.safetensors")):
        recipe_path = path.with_suffix(".json")
        recipe = json.loads(recipe_path.read_text()) if recipe_path.exists() else {}
        out.append(ModelInfo(path.stem, path, recipe))
    return out


def model_path(name_or_path: str | os.PathLike) -> Path:
    """A bundled model's file for a name, else the path itself."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = {m.name: m.path for m in list_models()}
    if str(name_or_path) in bundled:
        return bundled[str(name_or_path)]
    raise ValueError(f"no model file or bundled model {str(name_or_path)!r}; bundled: {', '.join(bundled) or 'none'}")


def load_model(name_or_path: str | os.PathLike, *, device: str = "cpu") -> TransformerNet:
    """A trained TransformerNet in eval mode, float32 weights, on ``device``."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = model_path(name_or_path)
    with safe_open(path, "pt") as f:
        meta = json.loads((f.metadata() or {}).get("stylelib", "{}"))
    if "network" not in meta:
        raise ValueError(f"{path} is not a stylelib model (no 'stylelib' metadata)")
    net = TransformerNet(meta["network"], meta.get("width", 32))
    net.load_state_dict({k: v.float() for k, v in load_file(path).items()})
    return net.eval().to(resolve_device(device))


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

    def __init__(self, model: TransformerNet | str | os.PathLike, *, device: str = "auto",
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
    model: TransformerNet | Stylizer | str, images: torch.Tensor | ImageSource, *, size: int | None = None,
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


def temporal_blend(frames: torch.Tensor, smooth: float, previous: torch.Tensor | None = None) -> torch.Tensor:
    """y_t = smooth * y_{t-1} + (1 - smooth) * f_t over (T, 3, H, W) frames; ``previous`` is y_0's predecessor."""
    out = []
    for f in frames:
        previous = f if previous is None else smooth * previous + (1 - smooth) * f
        out.append(previous)
    return torch.stack(out)


def stylize_video(
    model: TransformerNet | Stylizer | str, source: str | os.PathLike, target: str | os.PathLike, *,
    size: int | None = None, batch: int = 8, precision: str = "auto", compile: bool = False, smooth: float = 0.0,
    callback: Callable[[int, int], None] | None = None,
) -> Path:
    """Stylise a video frame by frame, in batches, keeping its audio. Returns ``target``.

    ``size`` scales frames so the longest side is ``size`` (even numbers, as
    H.264 needs). ``smooth`` in [0, 1) blends each output frame with the
    previous one (y_t = smooth * y_{t-1} + (1 - smooth) * f(x_t)), a simple
    remedy for flicker (lesson 10). ``callback(done, total)`` reports frames.
    """
    import av

    run = model if isinstance(model, Stylizer) else Stylizer(model, precision=precision, compile=compile)
    target = Path(target)
    with av.open(str(source)) as src:
        vin = src.streams.video[0]
        ain = src.streams.audio[0] if src.streams.audio else None
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        total = vin.frames or 0
        with av.open(str(target), "w") as dst:
            # every stream must exist before the first packet is written
            height, width = _scaled(vin.codec_context.height, vin.codec_context.width, size)
            vout = dst.add_stream("libx264", rate=rate)
            vout.width, vout.height, vout.pix_fmt = width - width % 2, height - height % 2, "yuv420p"
            aout = dst.add_stream("aac", rate=ain.rate or 44100) if ain is not None else None
            previous, done = None, 0
            pending: list[torch.Tensor] = []

            def flush() -> None:
                nonlocal previous, done
                frames = run(torch.cat(pending), batch=batch)
                pending.clear()
                if smooth:
                    frames = temporal_blend(frames, smooth, previous)
                for y in frames:
                    previous = y
                    rgb = (y.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
                    for packet in vout.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                        dst.mux(packet)
                    done += 1
                    if callback:
                        callback(done, total)

            streams = [vin] + ([ain] if ain is not None else [])
            for frame in src.decode(*streams):
                if isinstance(frame, av.AudioFrame):
                    frame.pts = None  # let the encoder time the audio
                    for packet in aout.encode(frame):
                        dst.mux(packet)
                    continue
                x = torch.from_numpy(frame.to_ndarray(format="rgb24")).permute(2, 0, 1).float() / 255
                pending.append(_even(x[None], size))
                if len(pending) == batch:
                    flush()
            if pending:
                flush()
            for stream in (vout, aout):
                if stream is not None:
                    for packet in stream.encode(None):
                        dst.mux(packet)
    return target


def _scaled(h: int, w: int, size: int | None) -> tuple[int, int]:
    """(h, w) scaled to the longest side ``size`` (if given)."""
    if size is None or max(h, w) == size:
        return h, w
    s = size / max(h, w)
    return max(2, round(h * s)), max(2, round(w * s))


def _even(frame: torch.Tensor, size: int | None) -> torch.Tensor:
    """Scale to the longest side ``size`` (if given) and crop to even sides (yuv420p needs them)."""
    from .images import resize_tensor

    h, w = _scaled(*frame.shape[-2:], size)
    frame = resize_tensor(frame, (h, w))
    return frame[..., : h - h % 2, : w - w % 2]


def is_video(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def apply_to_files(
    model: str | os.PathLike, inputs: Iterable[str | os.PathLike], outdir: str | os.PathLike, *,
    size: int | None = None, batch: int = 8, precision: str = "auto", device: str = "auto", compile: bool = False,
    smooth: float = 0.0, callback: Callable[[str, int, int], None] | None = None,
) -> list[Path]:
    """Stylise image and video files into ``outdir`` (images as PNG, videos as MP4); returns the outputs."""
    run = Stylizer(model, device=device, precision=precision, compile=compile)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in map(Path, inputs):
        if is_video(path):
            target = outdir / f"{path.stem}.mp4"
            stylize_video(run, path, target, size=size, batch=batch, smooth=smooth,
                          callback=(lambda d, t, p=path: callback(str(p), d, t)) if callback else None)
        else:
            target = outdir / f"{path.stem}.png"
            from .images import save_image

            save_image(run(load_image(path, size=size)), target)
            if callback:
                callback(str(path), 1, 1)
        written.append(target)
    return written


def write_video(frames: torch.Tensor, path: str | os.PathLike, *, fps: int = 25) -> Path:
    """(T, 3, H, W) frames in [0, 1] -> an H.264 MP4 (cropped to even sides)."""
    import av

    frames = _even(frames, None)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[-1], frames.shape[-2], "yuv420p"
        for y in frames:
            rgb = (y.clamp(0, 1).permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return Path(path)
