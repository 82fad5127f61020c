"""Images and videos on disk through any one-pass stylizer: frames in batches, audio kept (lessons 10, 11).

A *stylizer* is any callable that maps (B, 3, H, W) in [0, 1] to the same
shape: a :class:`stylelib.fast.Stylizer` (a network trained per painting)
or :meth:`stylelib.anystyle.AnyStyle.frames` (any painting).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable

import torch

from .images import ImageError, load_image, resize_tensor, save_image

Frames = Callable[[torch.Tensor], torch.Tensor]
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".gif")
MAX_VIDEO_SIDE = 4096
MIN_SIDE = 16  # px: smaller photos are refused, not blown up


def temporal_blend(frames: torch.Tensor, smooth: float, previous: torch.Tensor | None = None) -> torch.Tensor:
    """y_t = smooth * y_{t-1} + (1 - smooth) * f_t over (T, 3, H, W) frames; ``previous`` is y_0's predecessor."""
    out = []
    for f in frames:
        previous = f if previous is None else smooth * previous + (1 - smooth) * f
        out.append(previous)
    return torch.stack(out)


def check_smooth(smooth: float) -> float:
    smooth = float(smooth)
    if not 0.0 <= smooth < 1.0:  # also refuses NaN
        raise ValueError(f"smooth must be from 0 up to (not including) 1; got {smooth}")
    return smooth


def stylize_video(
    run: Frames, source: str | os.PathLike, target: str | os.PathLike, *, size: int | None = None,
    batch: int = 8, smooth: float = 0.0, callback: Callable[[int, int], None] | None = None,
) -> Path:
    """Stylise a video frame by frame, in batches, keeping its audio. Returns ``target``.

    ``size`` scales frames so the longest side is ``size`` (even numbers, as
    H.264 needs). ``smooth`` in [0, 1) blends each output frame with the
    previous one (y_t = smooth * y_{t-1} + (1 - smooth) * f(x_t)), a simple
    remedy for flicker (lesson 10). ``callback(done, total)`` reports frames.
    """
    import av

    smooth = check_smooth(smooth)
    target = Path(target)
    try:
        src = av.open(str(source))
    except Exception as err:
        raise ImageError(str(source), f"not a video that can be read ({type(err).__name__})") from None
    with src:
        if not src.streams.video:
            raise ImageError(str(source), "has no video stream")
        vin = src.streams.video[0]
        ain = src.streams.audio[0] if src.streams.audio else None
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        total = vin.frames or 0
        height, width = _scaled(vin.codec_context.height, vin.codec_context.width, size)
        if min(height, width) < 2 or max(height, width) > MAX_VIDEO_SIDE:
            raise ImageError(str(source), f"frames of {width}x{height} px; each side must be 2 to {MAX_VIDEO_SIDE}")
        with av.open(str(target), "w") as dst:
            # every stream must exist before the first packet is written
            vout = dst.add_stream("libx264", rate=rate)
            vout.width, vout.height, vout.pix_fmt = width - width % 2, height - height % 2, "yuv420p"
            aout = dst.add_stream("aac", rate=ain.rate or 44100) if ain is not None else None
            previous, done = None, 0
            pending: list[torch.Tensor] = []

            def flush() -> None:
                nonlocal previous, done
                frames = run(torch.cat(pending))
                pending.clear()
                if smooth:
                    frames = temporal_blend(frames, smooth, previous)
                for y in frames:
                    previous = y
                    for packet in vout.encode(_frame(y)):
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
            _finish(dst, vout, aout)
    return target


def write_video(frames: torch.Tensor, path: str | os.PathLike, *, fps: int = 25) -> Path:
    """(T, 3, H, W) frames in [0, 1] -> an H.264 MP4 (cropped to even sides)."""
    import av

    frames = _even(frames, None)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[-1], frames.shape[-2], "yuv420p"
        for y in frames:
            for packet in stream.encode(_frame(y)):
                out.mux(packet)
        _finish(out, stream)
    return Path(path)


def _frame(y: torch.Tensor):
    import av

    rgb = (y.clamp(0, 1).permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()  # (H, W, 3)
    return av.VideoFrame.from_ndarray(rgb, format="rgb24")


def _finish(container, *streams) -> None:
    """Flush every encoder (the last frames sit in its buffers)."""
    for stream in streams:
        if stream is not None:
            for packet in stream.encode(None):
                container.mux(packet)


def _scaled(h: int, w: int, size: int | None) -> tuple[int, int]:
    """(h, w) scaled to the longest side ``size`` (if given)."""
    if size is None or max(h, w) == size:
        return h, w
    s = size / max(h, w)
    return max(2, round(h * s)), max(2, round(w * s))


def _even(frame: torch.Tensor, size: int | None) -> torch.Tensor:
    """Scale to the longest side ``size`` (if given) and crop to even sides (yuv420p needs them)."""
    h, w = _scaled(*frame.shape[-2:], size)
    frame = resize_tensor(frame, (h, w))
    return frame[..., : h - h % 2, : w - w % 2]


def is_video(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def apply_to_files(
    run: Frames, inputs: Iterable[str | os.PathLike], outdir: str | os.PathLike, *, size: int | None = None,
    batch: int = 8, smooth: float = 0.0, callback: Callable[[str, int, int], None] | None = None,
) -> list[Path]:
    """Stylise image and video files into ``outdir``: ``<stem>.png`` for images, ``<stem>.mp4`` for videos."""
    check_smooth(smooth)
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
            save_image(run(load_image(path, size=size, min_side=MIN_SIDE)), target)
            if callback:
                callback(str(path), 1, 1)
        written.append(target)
    return written
