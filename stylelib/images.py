"""Images <-> float tensors in [0, 1], shape (B, 3, H, W) (lesson 01).

``load_image`` accepts what people actually upload: EXIF-rotated JPEGs,
16-bit, CMYK, palette or alpha images (composited on white), grayscale,
animated GIFs (first frame). Anything it cannot use raises :class:`ImageError`
with a one-line reason. Large files are decoded at reduced size where the
format allows (JPEG draft mode), never at full size when a smaller one is
asked for.

torch is imported by the functions that make or read tensors, not by the
module: the command line decodes and saves images before torch has loaded
(:mod:`stylelib.anystyle_np`).
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps

from .files import write_atomic

if TYPE_CHECKING:
    import torch

ImageSource = Union[str, os.PathLike, BinaryIO, bytes, Image.Image]
MAX_PIXELS = 64_000_000  # more than a 50-megapixel photo; a decompression bomb is far above


class ImageError(ValueError):
    """An input that is not a usable image; the message says why in one line.

    ``reason`` is the message without the file name, for interfaces that
    should not echo server paths.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.reason = reason


def _open(source: ImageSource) -> Image.Image:
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    name = str(source) if isinstance(source, (str, os.PathLike)) else "upload"
    if isinstance(source, (str, os.PathLike)):
        if not Path(source).is_file():
            raise ImageError(name, "no such file")
        source = io.BytesIO(Path(source).read_bytes())  # no file handle left open on errors
    if source.seek(0, io.SEEK_END) == 0:
        raise ImageError(name, "the file is empty")
    source.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(name, f"too many pixels (limit {MAX_PIXELS:,}); refusing a possible decompression bomb") from None
    except Exception:
        raise ImageError(name, "not an image Pillow can read (JPEG, PNG, WebP, GIF, BMP, TIFF...)") from None
    if image.width * image.height > MAX_PIXELS:
        raise ImageError(name, f"{image.width}x{image.height} has too many pixels (limit {MAX_PIXELS:,})")
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(image, dtype=np.float64)  # (H, W)
        top = 65535.0 if image.mode.startswith("I;16") or a.max() > 255 else 255.0
        image = Image.fromarray(np.clip(a / top * 255 + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def load_pil(source: ImageSource, *, size: int | None = None, min_side: int = 1) -> Image.Image:
    """Open, decode, rotate upright and convert to RGB; longest side ``size``.

    An image whose shorter side is below ``min_side`` px is refused rather
    than blown up from a few pixels.
    """
    name = str(source) if isinstance(source, (str, os.PathLike)) else "upload"
    image = _open(source)
    if min(image.size) < min_side:
        raise ImageError(name, f"{image.width}x{image.height} px is too small; each side needs at least {min_side} px")
    try:
        if size is not None and image.format == "JPEG":
            image.draft("RGB", (size, size))  # decode a JPEG at 1/2, 1/4, 1/8 scale
        image.seek(0)  # the first frame of an animation
        image.load()
        image = ImageOps.exif_transpose(image)
        image = _to_rgb(image)
    except ImageError:
        raise
    except Exception as err:
        raise ImageError(name, f"cannot decode the image ({err.__class__.__name__}: {err}); is the file truncated?") from None
    if size is not None:
        image = resize_long_side(image, size)
    return image


def resize_long_side(image: Image.Image, size: int) -> Image.Image:
    """Scale so the longest side is ``size`` px (down or up), keeping the aspect ratio."""
    w, h = image.size
    new = fit_size(h, w, size)[::-1]  # PIL sizes are (w, h)
    if new == image.size:
        return image
    return image.resize(new, Image.Resampling.LANCZOS, reducing_gap=3.0)


def to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL RGB -> (1, 3, H, W) float32 in [0, 1]."""
    import torch

    a = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0  # (H, W, 3)
    return torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0).contiguous()  # (1, 3, H, W)


def to_pil(images: torch.Tensor) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) tensor in [0, 1] -> PIL RGB (values clamped, rounded)."""
    import torch

    x = images.detach().float().cpu()
    if x.dim() == 4:
        if x.shape[0] != 1:
            raise ValueError(f"to_pil takes one image; got a batch of {x.shape[0]}")
        x = x[0]
    a = (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()  # (H, W, 3)
    return Image.fromarray(a)


def load_image(source: ImageSource, *, size: int | None = None, min_side: int = 1) -> torch.Tensor:
    """Any image source -> (1, 3, H, W) float tensor in [0, 1], longest side ``size``."""
    return to_tensor(load_pil(source, size=size, min_side=min_side))


def save_image(images: torch.Tensor, path: str | os.PathLike) -> None:
    """Write one image tensor in [0, 1] as a file (format from the suffix; PNG is lossless).

    Atomically: a viewer watching ``path`` (``stylelib stylize --live``), or
    a run killed half-way, never sees half an image.
    """
    buffer = io.BytesIO()
    to_pil(images).save(buffer, format=image_format(path))
    write_atomic(path, buffer.getvalue())


def image_format(path: str | os.PathLike) -> str:
    """PIL's name of the format ``path``'s suffix asks for (``"PNG"``); ValueError if none can be written."""
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt not in Image.SAVE:  # unknown, or a format PIL only reads (.psd)
        raise ValueError(f"can't write an image named {path.name!r}: use .png or .jpg")
    return fmt


def fit_size(h: int, w: int, size: int, *, side: str = "long") -> tuple[int, int]:
    """(h, w) scaled so the longest (``side="long"``) or shorter (``"short"``) side is ``size`` px."""
    s = size / (max(h, w) if side == "long" else min(h, w))
    return max(1, round(h * s)), max(1, round(w * s))


def resize_tensor(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize (B, 3, H, W) to (h, w) with antialiased bicubic interpolation."""
    import torch

    if tuple(images.shape[-2:]) == tuple(size):
        return images
    out = torch.nn.functional.interpolate(images, size=size, mode="bicubic", align_corners=False, antialias=True)
    return out.clamp(0, 1)


def as_image(source: ImageSource | torch.Tensor, size: int | None, min_side: int = 1, what: str = "image") -> torch.Tensor:
    """Any image source, or a (1, 3, H, W) tensor in [0, 1] (never modified), with the longest side ``size``.

    Originals smaller than ``min_side`` on a side are refused, not blown up;
    errors name ``what`` ("content image ...") in one line.
    """
    import torch

    if isinstance(source, torch.Tensor):
        x = source.detach().float().cpu()
        x = x[None] if x.dim() == 3 else x
        if x.dim() != 4 or x.shape[:2] != (1, 3):
            raise ValueError(f"{what} tensors must be (1, 3, H, W) in [0, 1]; got {tuple(source.shape)}")
        h, w = x.shape[-2:]
        if min(h, w) < min_side:
            raise ValueError(f"the {what} is {w}x{h} px, too small; each side needs at least {min_side} px")
        if size is None or max(h, w) == size:
            return x.clone()
        return resize_tensor(x, fit_size(h, w, size))
    try:
        return load_image(source, size=size, min_side=min_side)
    except ImageError as err:
        named = not isinstance(source, (bytes, Image.Image)) and not hasattr(source, "read")
        raise ImageError(f"{what} {source}" if named else what, err.reason) from None

