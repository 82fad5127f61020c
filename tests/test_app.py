"""The app through gradio_client: streaming, bad uploads, several users, Stop, file serving."""

import io
import json
import os
import struct
import threading
import time
import urllib.request
import zlib
from pathlib import Path

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
    """Named arguments for /stylize: the images and a tiny size; every other control keeps its default."""
    return {"content": handle_file(str(content)), "style": handle_file(str(style)), "size": 64, "steps": 4,
            **overrides}


def test_run_streams_images_and_progress_then_png_and_recipe(app_module, client):
    # a first run pays once for loading and caching the networks (6 s for 2 s of work in a fresh clone); the time
    # note below is about the runs after it
    client.predict(**args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=1),
                   api_name="/stylize")
    job = client.submit(**args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=40),
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
    # the first preview is the one-pass network's picture, before the first step
    assert "Starting" in outputs[0][2] and outputs[0][0]
    # the time note (stylelib.cost, calibrated here) predicts about this run's own duration
    note = app_module.stylise.time_note(64, 40, 1)
    predicted = float(note.split("**")[1].split(" s")[0])
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
        client.predict(**args(app_module, path, example_path("starry-night"), steps=1), api_name="/stylize")
    assert message in str(info.value) and "content image" in str(info.value)
    assert str(tmp_path) not in str(info.value) and "/tmp/" not in str(info.value)  # no server paths
    good = client.predict(**args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=1),
                          api_name="/stylize")
    assert "Done" in good[2]


def _strokes(tmp_path, w, h, paint):
    """An RGBA layer the size of the photo, painted by ``paint(draw)``, as the ImageEditor sends it."""
    from PIL import ImageDraw

    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    paint(ImageDraw.Draw(layer))
    layer.save(tmp_path / "layer.png")
    return handle_file(str(tmp_path / "layer.png"))


def test_regions_painted_in_the_browser_reach_the_library(app_module, client, tmp_path):
    photo = example_path("grace-hopper")
    with Image.open(photo) as im:
        w, h = im.size
    red, green = app_module.stylise.BRUSHES[0][0], app_module.stylise.BRUSHES[1][0]
    layer = _strokes(tmp_path, w, h, lambda d: (d.rectangle([0, 0, w // 2, h], fill=red),
                                                d.rectangle([w // 2, 0, w, h], fill=green)))
    editor = {"background": handle_file(str(photo)), "layers": [layer], "composite": None}
    out = client.predict(**args(app_module, photo, example_path("starry-night"), steps=2,
                                style2=handle_file(str(example_path("great-wave"))), regions=editor),
                         api_name="/stylize")
    assert "Done" in out[2]
    recipe = read_json(out[3])
    assert recipe["options"]["style_masks"] == ["region-1.png", "region-2.png"]
    assert recipe["styles"] == ["starry-night", "great-wave"]
    assert "--style-masks region-1.png region-2.png" in out[4]
    masks = sorted((f for f in out[3] if "region-" in f), key=lambda f: Path(f).name)  # each in a hashed folder
    with Image.open(masks[0]) as left, Image.open(masks[1]) as right:
        a, b = np.asarray(left.convert("L"), float) / 255, np.asarray(right.convert("L"), float) / 255
    half = a.shape[1] // 2
    assert a[:, : half - 2].mean() > 0.95 and a[:, half + 2 :].mean() < 0.05  # painting 1 on the left
    assert b[:, half + 2 :].mean() > 0.95 and b[:, : half - 2].mean() < 0.05  # painting 2 on the right
    # nothing painted: the two paintings blend over the whole picture, by weight
    blank = _strokes(tmp_path, w, h, lambda d: None)
    out = client.predict(**args(app_module, photo, example_path("starry-night"), steps=1, weight2=3,
                                style2=handle_file(str(example_path("great-wave"))),
                                regions={"background": handle_file(str(photo)), "layers": [blank], "composite": None}),
                         api_name="/stylize")
    recipe = read_json(out[3])
    assert recipe["options"]["style_masks"] is None and recipe["options"]["style_blend"] == [1.0, 3.0]


def test_presets_apply_and_are_recorded(app_module, client):
    out = client.predict(**args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=1,
                                preset="bold", style_weight=100.0, tv_weight=2.0), api_name="/stylize")
    recipe = read_json(out[3])
    assert recipe["options"]["preset"] == "bold" and recipe["options"]["style_weight"] == 100.0
    assert "--preset bold" in out[4]


def test_polish_starts_from_the_model_named_after_the_painting(app_module, client):
    out = client.predict(**args(app_module, example_path("grace-hopper"), example_path("great-wave"), steps=1,
                                preset="polish"), api_name="/stylize")  # the preset chooses the start
    recipe = read_json(out[3])
    assert recipe["options"]["init"] == "model" and recipe["options"]["init_model"] == "great-wave"
    assert "--init-model great-wave" in out[4]
    out = client.predict(**args(app_module, example_path("grace-hopper"), example_path("great-wave"), steps=1,
                                preset="polish", init_model="starry-night"), api_name="/stylize")  # the menu's model
    assert read_json(out[3])["options"]["init_model"] == "starry-night"
    with pytest.raises(Exception) as info:  # a painting no bundled model is named after
        client.predict(**args(app_module, example_path("grace-hopper"), example_path("kingfisher"), steps=1,
                              init="model"), api_name="/stylize")
    assert "no bundled model is named after the painting 'kingfisher'" in str(info.value)


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
        out = client.predict(**args(app_module, tmp_path / name, example_path("starry-night"), steps=1),
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
        out = c.predict(**args(app_module, example_path(content), example_path("great-wave"), steps=3),
                        api_name="/stylize")
        results[key] = read_json(out[3])

    threads = [threading.Thread(target=run, args=(k, c)) for k, c in (("a", "chelsea-the-cat"), ("b", "kingfisher"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert results["a"]["content"] == "chelsea-the-cat" and results["b"]["content"] == "kingfisher"


def test_cancel_stops_a_run_and_frees_the_worker(app_module, client):
    job = client.submit(**args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=1000),
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
    out = client.predict(**args(app_module, example_path("grace-hopper"), example_path("starry-night"), steps=1),
                         api_name="/stylize")
    assert "Done" in out[2] and time.perf_counter() - start < 30


def test_look_inside(app_module, client):
    out = client.predict(content=handle_file(str(example_path("grace-hopper"))),
                         style=handle_file(str(example_path("great-wave"))), layer="relu2_1", mrf_layer="relu3_1",
                         api_name="/inspect")
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
    from stylelib.models import list_models

    name = list_models()[0].name
    out = client.predict(photo=handle_file(str(example_path("kingfisher"))), mode="Trained model", model=name,
                         size=128, api_name="/instant")
    image, note = out
    with Image.open(image) as im:
        assert max(im.size) == 128
    assert "ms" in note and name in note
    from tests.test_fast import _synthetic_video

    _synthetic_video(tmp_path / "clip.mp4", frames=6)
    video, note = client.predict(video=handle_file(str(tmp_path / "clip.mp4")), mode="Trained model",
                                 model=name, size=128, smooth=0.3, api_name="/instant_video")
    assert str(video["video"] if isinstance(video, dict) else video).endswith(".mp4") and "Done" in note


def test_instant_any_painting_builtin_and_style_space(app_module, client, tmp_path):
    photo, painting = handle_file(str(example_path("kingfisher"))), handle_file(str(example_path("starry-night")))
    image, note = client.predict(photo=photo, mode="Any painting", painting=painting, strength=0.8, size=64,
                                 api_name="/instant")
    with Image.open(image) as im:
        assert max(im.size) == 64
    assert "any painting" in note and "ms" in note
    blended, note = client.predict(photo=photo, mode="Any painting", painting=painting,
                                   painting2=handle_file(str(example_path("great-wave"))), blend=0.5, size=64,
                                   api_name="/instant")
    assert "blended 0.50 : 0.50" in note
    image, note = client.predict(photo=photo, mode="Built-in styles", builtin=7, size=64, api_name="/instant")
    assert "built-in style 7" in note
    (tmp_path / "bad.jpg").write_bytes(b"not a painting")
    with pytest.raises(Exception) as info:
        client.predict(photo=photo, mode="Any painting", painting=handle_file(str(tmp_path / "bad.jpg")), size=64,
                       api_name="/instant")
    assert "painting can't be used" in str(info.value) and "not an image" in str(info.value)
    space, note = client.predict(painting=painting, painting2=None, style_size=256, api_name="/style_space")
    with Image.open(space) as im:
        assert im.size == app_module.instant.CANVAS
    assert "PCA" in note


def test_live_previews_are_shown_smaller_and_the_result_whole(app_module, client):
    """Above PREVIEW_SIDE the live pictures are scaled down (fast to send); the result keeps the asked size."""
    import torch

    side = app_module.stylise.PREVIEW_SIDE
    assert app_module.stylise.shown(torch.rand(1, 3, 1000, 800)).shape == (side, round(800 * side / 1000), 3)
    small = torch.rand(1, 3, 100, 80)
    assert np.array_equal(app_module.stylise.shown(small), small[0].permute(1, 2, 0).numpy())
    job = client.submit(**args(app_module, example_path("grace-hopper"), example_path("starry-night"),
                               size=side + 32, steps=1), api_name="/stylize")
    job.result()
    outputs = job.outputs()
    with Image.open(outputs[0][0]) as first, Image.open(outputs[-1][0]) as result:
        assert max(first.size) == side and max(result.size) == side + 32


def test_warm_up_loads_what_the_first_run_needs(tmp_path):
    # in a fresh process: before warm_up nothing is loaded, after it the networks are and torch's optimiser
    # imports are done, so the first Run pays none of it
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from webapp import instant, stylise\n"
        "from stylelib.vgg import get_extractor\n"
        "state = lambda: ('torch._dynamo' in sys.modules, get_extractor.cache_info().currsize,\n"
        "                 instant.engine.cache_info().currsize)\n"
        "before = state()\n"
        "stylise.warm_up()\n"
        "print(before, state())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[1], env={**os.environ, "GRADIO_TEMP_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[-2] == "(False, 0, 0) (True, 1, 1)"
