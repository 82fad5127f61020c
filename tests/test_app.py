"""The app through gradio_client: streaming, bad uploads, several users, Stop, file serving."""

import io
import json
import os
import struct
import threading
import time
import urllib.request
import zlib

import numpy as np
import pytest
from PIL import Image

from stylelib.data import example_path

from gradio_client import Client, handle_file
from gradio_client.utils import Status

# The Gradio server runs inside this process, so its own (pandas, asyncio)
# deprecation warnings would become errors under the suite's "error" filter
# and break requests; here they are reported, not raised.
pytestmark = pytest.mark.filterwarnings("default")



@pytest.fixture(scope="module")
def app_module():
    import app  # GRADIO_TEMP_DIR is set by conftest, before Gradio is imported

    return app


def read_json(files):
    with open(next(f for f in files if f.endswith(".json"))) as f:
        return json.load(f)


def png_size(files):
    with Image.open(next(f for f in files if f.endswith(".png"))) as im:
        return im.size


@pytest.fixture(scope="module")
def url(app_module):
    _, local_url, _ = app_module.demo.launch(prevent_thread_lock=True, quiet=True, **app_module.launch_options())
    yield local_url
    app_module.demo.close()


@pytest.fixture(scope="module")
def client(url):
    return Client(url, verbose=False)


def args(app_module, content, style, **overrides):
    """Positional arguments for /stylize: the images, then every control at its default."""
    d = app_module.DEFAULTS
    values = {n: getattr(d, n) if hasattr(d, n) else 1.0 for n in app_module.CONTROL_NAMES}
    values.update({"size": 64, "steps": 4, **overrides})
    return [handle_file(str(content)), handle_file(str(style)), *[values[n] for n in app_module.CONTROL_NAMES]]


def test_run_streams_images_and_progress_then_png_and_recipe(app_module, client):
    job = client.submit(*args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=40),
                        api_name="/stylize")
    codes = set()
    while not job.done():
        status = job.status()
        codes.add(status.code)
        time.sleep(0.02)
    outputs = job.outputs()
    images = [o[0] for o in outputs if o[0]]
    assert len(images) >= 3, "expected several preview images"
    assert Status.PROGRESS in codes
    image, curves, status, files, command = outputs[-1]
    assert "Done" in status and curves is not None
    recipe = read_json(files)
    assert max(png_size(files)) == 64
    assert recipe["options"]["steps"] == 40 and recipe["seed"] == 0
    assert command.startswith("stylelib stylize grace-hopper starry-night -o stylized.png")
    assert "--size 64" in command and "--steps 40" in command
    # the time note now predicts from this run: for the same size and steps, about its own duration
    note = app_module.time_note(64, 40, 1)
    assert "measured from the last" in note and app_module.MEASURED
    predicted = float(note.split("about **")[1].split(" s**")[0])
    assert 0.5 * recipe["seconds"] <= predicted <= 2 * recipe["seconds"], (note, recipe["seconds"])


def _png(image):
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _bomb():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b""))


BAD = {
    "text.jpg": (lambda: b"this is a text file, not a JPEG", "not an image"),
    "truncated.png": (lambda: _png(Image.new("RGB", (300, 300), "red"))[:200], "truncated"),
    "empty.png": (lambda: b"", "empty"),
    "one-pixel.png": (lambda: _png(Image.new("RGB", (1, 1), "red")), "too small"),
    "tiny.png": (lambda: _png(Image.new("RGB", (12, 12), "red")), "at least 16 px"),
    "bomb.png": (_bomb, "too many pixels"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_upload_is_a_clear_error_and_the_app_keeps_serving(app_module, client, tmp_path, name):
    make, message = BAD[name]
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(Exception) as info:
        client.predict(*args(app_module, path, example_path("starry-night"), steps=1), api_name="/stylize")
    assert message in str(info.value) and "content image" in str(info.value)
    assert str(tmp_path) not in str(info.value) and "/tmp/" not in str(info.value)  # no server paths
    good = client.predict(*args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=1),
                          api_name="/stylize")
    assert "Done" in good[2]


def test_region_mask_runs_and_is_recorded_and_a_bad_one_is_a_clear_error(app_module, client, tmp_path):
    mask = Image.new("L", (60, 40), 0)
    mask.paste(255, (30, 0, 60, 40))  # the painting on the right half only
    mask.save(tmp_path / "right.png")
    out = client.predict(*args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=2,
                               style_masks=handle_file(str(tmp_path / "right.png"))), api_name="/stylize")
    assert "Done" in out[2]
    recipe = read_json(out[3])
    assert recipe["options"]["style_masks"] == ["right.png"] and "--style-masks right.png" in out[4]
    (tmp_path / "bad.png").write_bytes(b"not a mask")
    with pytest.raises(Exception) as info:
        client.predict(*args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=1,
                             style_masks=handle_file(str(tmp_path / "bad.png"))), api_name="/stylize")
    assert "region mask" in str(info.value) and "not an image" in str(info.value)


def _odd_images(tmp_path):
    out = {}
    sixteen = Image.fromarray((np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16))
    out["sixteen.png"] = sixteen
    out["cmyk.jpg"] = Image.new("CMYK", (80, 60), (0, 200, 200, 0))
    pal = Image.new("P", (80, 60), 1)
    pal.putpalette([0, 0, 255, 255, 0, 0] + [0] * 762)
    pal.info["transparency"] = 0
    out["palette.png"] = pal
    out["gray.png"] = Image.new("L", (80, 60), 100)
    for name, image in out.items():
        image.save(tmp_path / name)
    frames = [Image.new("RGB", (80, 60), c) for c in ("red", "blue")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    rotated = Image.new("RGB", (80, 40), "white")
    exif = rotated.getexif()
    exif[0x0112] = 6
    rotated.save(tmp_path / "exif.jpg", exif=exif)
    Image.new("RGB", (6000, 4000), "green").save(tmp_path / "huge.jpg", quality=40)
    return ["sixteen.png", "cmyk.jpg", "palette.png", "gray.png", "anim.gif", "exif.jpg", "huge.jpg"]


def test_odd_but_valid_uploads_work(app_module, client, tmp_path):
    for name in _odd_images(tmp_path):
        out = client.predict(*args(app_module, tmp_path / name, example_path("starry-night"), steps=1),
                             api_name="/stylize")
        assert "Done" in out[2], name
        size = png_size(out[3])
        assert max(size) == 64, (name, size)  # downscaled to the chosen size
        if name == "exif.jpg":
            assert size[1] > size[0]  # rotated upright: taller than wide


def test_two_clients_at_once_get_their_own_results(app_module, url):
    results = {}

    def run(key, content):
        c = Client(url, verbose=False)
        out = c.predict(*args(app_module, example_path(content), example_path("great-wave"), steps=3),
                        api_name="/stylize")
        results[key] = read_json(out[3])

    threads = [threading.Thread(target=run, args=(k, c)) for k, c in (("a", "chelsea-the-cat"), ("b", "kingfisher"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert results["a"]["content"] == "chelsea-the-cat" and results["b"]["content"] == "kingfisher"


def test_cancel_stops_a_run_and_frees_the_worker(app_module, client):
    job = client.submit(*args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=1000),
                        api_name="/stylize")
    while job.status().code != Status.PROGRESS:
        time.sleep(0.05)
    time.sleep(0.5)
    start = time.perf_counter()
    job.cancel()
    while not job.done() and time.perf_counter() - start < 10:
        time.sleep(0.05)
    assert job.done()
    # the worker is free: a short run starts and finishes promptly
    start = time.perf_counter()
    out = client.predict(*args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=1),
                         api_name="/stylize")
    assert "Done" in out[2] and time.perf_counter() - start < 30


def test_look_inside(app_module, client):
    out = client.predict(handle_file(str(example_path("grace-hopper"))), handle_file(str(example_path("great-wave"))),
                         "relu2_1", "relu3_1", api_name="/inspect")
    features, grams, match, note, match_image = out
    assert all(p is not None for p in (features, grams, match))
    with Image.open(match_image) as im:
        assert im.size[0] > 0


def test_serves_no_files_outside_its_folders(url):
    for target in ("/etc/passwd", os.path.abspath("app.py"), os.path.abspath("pyproject.toml")):
        try:
            with urllib.request.urlopen(f"{url}gradio_api/file={target}") as r:
                status = r.status
        except urllib.error.HTTPError as err:
            status = err.code
        assert status in (403, 404), target


def test_local_by_default_with_an_upload_limit(app_module):
    opts = app_module.launch_options()
    assert opts["server_name"] == "127.0.0.1" and opts["max_file_size"]


def test_instant_tab_image_and_video(app_module, client, tmp_path):
    from stylelib.fast import list_models

    name = list_models()[0].name
    out = client.predict(handle_file(str(example_path("kingfisher"))), name, 128, api_name="/instant")
    image, note = out
    with Image.open(image) as im:
        assert max(im.size) == 128
    assert "ms" in note and name in note
    from tests.test_fast import _synthetic_video

    _synthetic_video(tmp_path / "clip.mp4", frames=6)
    video, note = client.predict(handle_file(str(tmp_path / "clip.mp4")), name, 128, 0.3,
                                 api_name="/instant_video")
    assert str(video["video"] if isinstance(video, dict) else video).endswith(".mp4") and "Done" in note
