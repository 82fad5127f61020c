"""Loading what people upload: every odd format either works or fails in one line."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylelib.images import ImageError, load_image, load_pil, save_image, to_pil, to_tensor


def png_header_only(width, height):
    """A PNG whose header claims width x height with almost no data (a 'bomb')."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def encoded(image, fmt, **kw):
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def test_round_trip(tmp_path):
    x = torch.rand(1, 3, 5, 7)
    save_image(x, tmp_path / "a.png")
    y = load_image(tmp_path / "a.png")
    assert y.shape == (1, 3, 5, 7) and (x - y).abs().max() <= 0.5 / 255 + 1e-6
    assert to_tensor(to_pil(y)).equal(y)


@pytest.mark.parametrize("make, match", [
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_text("this is not an image"), "not an image"),
    (lambda p: p.write_bytes(encoded(Image.new("RGB", (64, 64), "red"), "PNG")[:60]), "truncated|not an image"),
    (lambda p: p.write_bytes(png_header_only(30000, 30000)), "too many pixels"),
])
def test_bad_files_raise_one_line(tmp_path, make, match):
    path = tmp_path / "upload.jpg"
    make(path)
    with pytest.raises(ImageError, match=match) as info:
        load_image(path)
    assert "\n" not in str(info.value)


def test_missing_file():
    with pytest.raises(ImageError, match="no such file"):
        load_image("/nonexistent/x.png")


def test_odd_modes_become_rgb():
    sixteen = Image.fromarray((np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16))  # I;16
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # red in CMYK
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([0, 0, 255] + [0] * 765)
    palette.info["transparency"] = 0  # fully transparent -> composited on white
    gray = Image.new("L", (8, 8), 128)
    for image, first_pixel in [(cmyk, (1.0, 0.0, 0.0)), (palette, (1.0, 1.0, 1.0)), (gray, (128 / 255,) * 3)]:
        x = load_image(encoded(image, "PNG" if image.mode != "CMYK" else "JPEG"))
        assert x.shape[:2] == (1, 3)
        torch.testing.assert_close(x[0, :, 0, 0], torch.tensor(first_pixel), atol=0.02, rtol=0)
    x = load_image(encoded(sixteen, "PNG"))
    assert x.shape == (1, 3, 64, 64) and x.max() > 0.9  # scaled from 16 bits, not clipped at 255


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "blue")]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    x = load_image(data)
    assert x[0, 0].mean() > 0.9 and x[0, 2].mean() < 0.1


def test_exif_rotation_is_applied():
    image = Image.new("RGB", (40, 20), "white")
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    x = load_image(encoded(image, "JPEG", exif=exif))
    assert x.shape[-2:] == (40, 20)  # upright: taller than wide


def test_large_photo_is_downscaled_without_full_decode():
    big = Image.new("RGB", (6000, 4000), "green")
    data = encoded(big, "JPEG", quality=50)
    image = load_pil(data, size=384)
    assert image.size == (384, 256)


def test_save_image_is_atomic_and_names_what_it_cannot_write(tmp_path):
    x = torch.rand(1, 3, 8, 8)
    for name in ("a.PNG", "b.jpeg", "c.webp"):  # the format from the suffix, any case
        save_image(x, tmp_path / name)
        assert load_image(tmp_path / name).shape == (1, 3, 8, 8)
    for name in ("d.xyz", "e", "f.psd"):  # unknown, none, a format PIL only reads
        with pytest.raises(ValueError, match=f"can't write an image named '{name}'"):
            save_image(x, tmp_path / name)
    with pytest.raises(FileNotFoundError, match="no folder .*missing to write g.png"):
        save_image(x, tmp_path / "missing" / "g.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.PNG", "b.jpeg", "c.webp"]  # no temporary file left


def test_every_write_has_a_temporary_file_of_its_own(tmp_path, monkeypatch):
    """A live preview and the final image may be written at once (threads of one process): no shared name."""
    from stylelib import files

    renamed, real = [], files.os.replace
    monkeypatch.setattr(files.os, "replace", lambda src, dst: (renamed.append(Path(src)), real(src, dst))[1])
    for value in (0.0, 1.0):
        save_image(torch.full((1, 3, 16, 16), value), tmp_path / "out.png")
    assert len(renamed) == 2 and renamed[0] != renamed[1] and renamed[0].parent == tmp_path
    assert load_image(tmp_path / "out.png").min() == 1.0  # the last write, whole
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o666 & ~files._UMASK  # as open() makes files
