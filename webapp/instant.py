"""The Instant tab: one pass through a network, for any painting, the 26 built-in styles, or a trained model.

Any painting (Ghiasi et al. 2017) with strength, a second painting to
blend, the brush size and colour options; the 26 styles (Dumoulin et al.
2017) as a clickable contact sheet; the bundled Johnson models; images,
videos and the live webcam; and the *style space*: the paintings' style
vectors in 2-D, where a click between two paintings stylises with their
interpolated vector.
"""

from __future__ import annotations

import time
from functools import lru_cache

import gradio as gr
import numpy as np
import torch
from PIL import Image, ImageDraw

from stylelib import anystyle
from stylelib.color import PRESERVE_COLOR
from stylelib.data import list_examples
from stylelib.images import ImageError, load_image, resize_long_side
from stylelib.models import describe, list_models

from .common import (CONCURRENCY, DEVICE, MAX_SIZE, UploadImage, as_numpy, example_gallery, load_input,
                     new_run_dir, pick_example)

MODES = ("Any painting", "Built-in styles", "Trained model")
VIDEO_LIMIT_S = 60  # a public demo: bound the work one upload can ask for
LIVE_SIZE = 256
SHEET_SIZE = 160
CANVAS = (560, 420)  # the style-space picture, px
DEFAULTS = {k: v.default for k, v in __import__("inspect").signature(anystyle.AnyStyle.frames).parameters.items()}


@lru_cache(maxsize=1)
def engine() -> anystyle.AnyStyle:
    return anystyle.AnyStyle(device=str(DEVICE))


@lru_cache(maxsize=8)
def fast_model(name: str):
    """The model, loaded and cast for inference once (webcam frames arrive four times a second)."""
    from stylelib.fast import Stylizer

    return Stylizer(name, device=str(DEVICE))


def model_note(name: str) -> str:
    info = next((m for m in list_models() if m.name == name), None)
    return f"**{name}**: " + (describe(info) if info else "unknown model") + "."


def stylizer(mode, painting, painting2, blend, strength, style_size, preserve_color, builtin, model):
    """The chosen network as a batch stylizer, and a note saying what it is."""
    try:
        if mode == MODES[0]:
            if not painting:
                raise gr.Error("Choose a painting: click one of the examples or upload your own.")
            paintings = [painting] + ([painting2] if painting2 and float(blend) > 0 else [])
            weights = [1 - float(blend), float(blend)] if len(paintings) == 2 else None
            run = engine().frames(paintings, weights=weights, strength=float(strength),
                                  style_size=int(style_size), preserve_color=preserve_color)
            mix = f", blended {1 - float(blend):.2f} : {float(blend):.2f}" if weights else ""
            return run, f"any painting (Ghiasi et al.), strength {float(strength):.2f}{mix}"
        if mode == MODES[1]:
            index = int(builtin)
            run = engine().builtin_frames(index, strength=float(strength),
                                          preserve_color="none" if preserve_color == "match" else preserve_color)
            return run, f"built-in style {index} of 26 (Dumoulin et al.)"
        if mode == MODES[2]:
            if not model:
                raise gr.Error("No trained model is installed.")
            return fast_model(model), model_note(model)
    except ImageError as err:
        raise gr.Error(f"The painting can't be used: {err.reason}.") from None
    except ValueError as err:
        raise gr.Error(str(err)) from None
    raise gr.Error(f"mode must be one of {', '.join(MODES)}")


def instant(photo, mode=MODES[0], painting=None, painting2=None, blend=0.5, strength=DEFAULTS["strength"],
            style_size=DEFAULTS["style_size"], preserve_color="none", builtin=0, model=None, size=512):
    """One pass through the chosen network; returns (image, note)."""
    if not photo:
        return None, "Upload a photo, take one with the webcam, or click an example."
    x = load_input(photo, "photo", int(size), 16)
    run, what = stylizer(mode, painting, painting2, blend, strength, style_size, preserve_color, builtin, model)
    start = time.perf_counter()
    y = run(x)
    ms = 1000 * (time.perf_counter() - start)
    h, w = x.shape[-2:]
    return as_numpy(y), f"{w}×{h} px in **{ms:.0f} ms** on {DEVICE.type.upper()} · {what}"


def instant_video(video, mode=MODES[0], painting=None, painting2=None, blend=0.5, strength=DEFAULTS["strength"],
                  style_size=DEFAULTS["style_size"], preserve_color="none", builtin=0, model=None, size=512,
                  smooth=0.0, progress=gr.Progress()):
    from stylelib.media import stylize_video

    if not video:
        raise gr.Error("Upload a video first.")
    try:
        import av

        with av.open(video) as f:
            stream = f.streams.video[0]
            seconds = float(stream.duration * stream.time_base) if stream.duration else 0.0
    except Exception:
        raise gr.Error("That file is not a video we can read.") from None
    if seconds > VIDEO_LIMIT_S:
        raise gr.Error(f"Videos up to {VIDEO_LIMIT_S} s, please (this one is {seconds:.0f} s).")
    run, what = stylizer(mode, painting, painting2, blend, strength, style_size, preserve_color, builtin, model)
    target = new_run_dir() / "stylized.mp4"
    start = time.perf_counter()
    try:
        stylize_video(run, video, target, size=int(size), smooth=float(smooth),
                      callback=lambda done, total: progress((done, total or None), desc="frames"))
    except (ValueError, ImageError) as err:
        raise gr.Error(str(err)) from None
    return str(target), f"Done in {time.perf_counter() - start:.1f} s · {what}"


def live_frame(frame, mode, painting, painting2, blend, strength, style_size, preserve_color, builtin, model):
    """Webcam frames as they arrive, at 256 px."""
    if frame is None:
        return None
    try:
        run, _ = stylizer(mode, painting, painting2, blend, strength, style_size, preserve_color, builtin, model)
    except gr.Error:
        return None  # nothing to paint with yet: keep the stream alive
    x = load_image(resize_long_side(Image.fromarray(frame), LIVE_SIZE))
    return as_numpy(run(x))


@lru_cache(maxsize=1)
def contact_sheet() -> list[tuple[np.ndarray, str]]:
    """The 26 built-in styles on a bundled photo, as (image, caption) for a gallery."""
    x = load_image(str(next(e.path for e in list_examples("content") if e.name == "chelsea-the-cat")),
                   size=SHEET_SIZE)
    run = engine()
    return [(as_numpy(run.builtin(x, i)), f"style {i}") for i in range(anystyle.N_STYLES)]


def pick_builtin(evt: gr.SelectData) -> int:
    return int(evt.index)


# ---- style space -------------------------------------------------------------------------------

def space_points(painting, painting2, style_size):
    """Style vectors (bundled paintings, then the user's) with their names and thumbnails."""
    run, size = engine(), int(style_size)
    items = [(e.name, str(e.path)) for e in list_examples("style")]
    items += [(label, path) for label, path in (("your painting", painting), ("second painting", painting2)) if path]
    vectors, names, thumbs = [], [], []
    for name, path in items:
        try:
            vectors.append(run.style_vector(path, style_size=size))
            thumbs.append(load_image(path, size=56))
            names.append(name)
        except (ImageError, ValueError) as err:
            raise gr.Error(f"The {name} can't be used: {getattr(err, 'reason', err)}.") from None
    return torch.cat(vectors), names, thumbs


def draw_space(coords, names, thumbs, picked=None):
    """Thumbnails at their 2-D coordinates on a canvas; returns (image, pixel mapping)."""
    w, h = CANVAS
    lo, hi = coords.min(0).values, coords.max(0).values
    span = (hi - lo).clamp_min(1e-6)
    margin = 48

    def to_px(p):
        q = (p - lo) / span
        return margin + q[0].item() * (w - 2 * margin), h - margin - q[1].item() * (h - 2 * margin)

    canvas = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(canvas)
    if picked is not None:
        point, i, j = picked
        draw.line([to_px(coords[i]), to_px(coords[j])], fill=(120, 120, 220), width=3)
    for p, name, thumb in zip(coords, names, thumbs):
        x, y = to_px(p)
        tile = Image.fromarray((thumb[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8))
        canvas.paste(tile, (int(x - tile.width / 2), int(y - tile.height / 2)))
        draw.text((x - tile.width / 2, y + tile.height / 2 + 1), name, fill=(0, 0, 0))
    if picked is not None:
        x, y = to_px(picked[0])
        draw.ellipse([x - 7, y - 7, x + 7, y + 7], outline=(220, 30, 30), width=3)
    return np.asarray(canvas), (lo, span, margin)


def style_space_view(painting=None, painting2=None, style_size=DEFAULTS["style_size"]):
    vectors, names, thumbs = space_points(painting, painting2, style_size)
    coords, _, _ = anystyle.style_space(vectors)
    image, mapping = draw_space(coords, names, thumbs)
    note = ("Each painting sits where its 100-number style vector falls on the plane of its two main directions "
            "of variation (PCA). Click between two paintings to paint the photo with their mix.")
    return image, (vectors, names, thumbs, coords, mapping), note


def style_space_pick(state, photo, size, evt: gr.SelectData):
    if state is None:
        raise gr.Error("Press “Show style space” first.")
    if not photo:
        raise gr.Error("Choose a photo first.")
    vectors, names, thumbs, coords, (lo, span, margin) = state
    w, h = CANVAS
    x, y = evt.index
    point = torch.tensor([(x - margin) / (w - 2 * margin), (h - margin - y) / (h - 2 * margin)]) * span + lo
    s, i, j, t = anystyle.interpolate_at(point, coords, vectors)
    photo_t = load_input(photo, "photo", int(size), 16)
    start = time.perf_counter()
    result = engine().transform(photo_t, s)
    ms = 1000 * (time.perf_counter() - start)
    image, _ = draw_space(coords, names, thumbs, picked=(coords[i] + t * (coords[j] - coords[i]), i, j))
    note = f"{1 - t:.2f} × **{names[i]}** + {t:.2f} × **{names[j]}** (interpolated style vector) in {ms:.0f} ms"
    return as_numpy(result), image, note


# ---- the tab -------------------------------------------------------------------------------------

def build() -> None:
    names = [m.name for m in list_models()]
    gr.Markdown("One pass through a network, a fraction of a second. **Any painting**: Ghiasi et al.'s network "
                "predicts how to paint from the painting itself. **Built-in styles**: Dumoulin et al.'s one network "
                "for 26 paintings. **Trained model**: Johnson et al.'s network trained for one painting.")
    with gr.Row():
        with gr.Column(scale=5):
            mode = gr.Radio(list(MODES), value=MODES[0], label="Network", elem_id="instant-mode")
            with gr.Row():
                photo = UploadImage(label="Photo", type="filepath", sources=["upload", "webcam", "clipboard"],
                                    height=260, elem_id="instant-photo")
                painting = UploadImage(label="Painting (any picture)", type="filepath",
                                       sources=["upload", "webcam", "clipboard"], height=260, elem_id="instant-painting")
            photo_gallery = example_gallery("content", "instant-photos")
            painting_gallery = example_gallery("style", "instant-paintings")
            with gr.Row():
                strength = gr.Slider(0, 1, value=DEFAULTS["strength"], step=0.05, label="Strength",
                                     info="0 = the photo in its own style, 1 = the painting's")
                size = gr.Slider(64, MAX_SIZE, value=512, step=32, label="Size (px, longest side)")
            with gr.Accordion("More: a second painting, brush size, colours", open=False):
                with gr.Row():
                    painting2 = UploadImage(label="Second painting (optional)", type="filepath",
                                            sources=["upload", "clipboard"], height=160, elem_id="instant-painting2")
                    blend = gr.Slider(0, 1, value=0.5, step=0.05, label="Share of the second painting")
                with gr.Row():
                    style_size = gr.Slider(96, 768, value=DEFAULTS["style_size"], step=32, label="Brush size",
                                           info="the painting's shorter side as the network sees it (px): smaller = "
                                                "bigger strokes")
                    preserve = gr.Radio(list(PRESERVE_COLOR), value="none", label="Keep the photo's colours",
                                        info="luminance-only: paint the brightness alone (Gatys et al. 2016); "
                                             "recombine: the result's brightness, the photo's colours; match: "
                                             "the painting recoloured to the photo first")
            with gr.Accordion("Built-in styles: click one (used when Network is “Built-in styles”)", open=False):
                sheet = gr.Gallery(label="The 26 styles on a photo", columns=7, height=300, allow_preview=False,
                                   object_fit="cover", elem_id="builtin-sheet")
                builtin = gr.Number(value=0, precision=0, minimum=0, maximum=anystyle.N_STYLES - 1,
                                    label="Built-in style (0-25)")
            model = gr.Dropdown(names, value=names[0] if names else None, label="Trained model (one per painting)")
        with gr.Column(scale=6):
            result = gr.Image(label="Stylised", interactive=False, height=440, format="png", elem_id="instant-result")
            note = gr.Markdown(elem_id="instant-note")
            with gr.Accordion("Style space: where paintings sit, and what lies between them", open=False):
                space_btn = gr.Button("Show style space")
                space = gr.Image(label="Click between two paintings", interactive=False, height=CANVAS[1],
                                 elem_id="style-space")
                space_note = gr.Markdown()
                space_state = gr.State(None)
    with gr.Accordion("Video (audio kept)", open=False):
        with gr.Row():
            video_in = gr.Video(label=f"Video (up to {VIDEO_LIMIT_S} s)", sources=["upload"])
            video_out = gr.Video(label="Stylised video", interactive=False)
        smooth = gr.Slider(0, 0.9, value=0.0, step=0.05, label="Smooth (blend with the last frame, against flicker)")
        video_btn = gr.Button("Stylise video", variant="primary")
        video_note = gr.Markdown()
    with gr.Accordion("Webcam, live", open=False):
        with gr.Row():
            cam = gr.Image(label="Webcam", sources=["webcam"], streaming=True, height=280)
            cam_out = gr.Image(label="Live, stylised", interactive=False, height=280)

    settings = dict(mode=mode, painting=painting, painting2=painting2, blend=blend, strength=strength,
                    style_size=style_size, preserve_color=preserve, builtin=builtin, model=model)
    common = dict(concurrency_limit=CONCURRENCY, concurrency_id="fast")
    triggers = [photo.change, mode.change, painting.change, painting2.change, strength.release, blend.release,
                style_size.release, preserve.change, builtin.change, model.change, size.release]
    for k, trigger in enumerate(triggers):
        trigger(instant, inputs=None, inputs_kwargs=dict(photo=photo, **settings, size=size),
                outputs=[result, note], api_name="instant" if k == 0 else False, **common)
    photo_gallery.select(pick_example("content"), None, photo, api_name=False, queue=False)
    painting_gallery.select(pick_example("style"), None, painting, api_name=False, queue=False)
    sheet.select(pick_builtin, None, builtin, api_name=False, queue=False).then(lambda: MODES[1], None, mode, api_name=False,
                                                                                  queue=False)
    video_btn.click(instant_video, inputs=None, inputs_kwargs=dict(video=video_in, **settings, size=size, smooth=smooth),
                    outputs=[video_out, video_note], api_name="instant_video", concurrency_limit=1,
                    concurrency_id="gpu")
    cam.stream(live_frame, inputs=None, inputs_kwargs=dict(frame=cam, **settings), outputs=cam_out,
               stream_every=0.25, api_name=False, **common)
    space_btn.click(style_space_view, inputs=None,
                    inputs_kwargs=dict(painting=painting, painting2=painting2, style_size=style_size),
                    outputs=[space, space_state, space_note], api_name="style_space", **common)
    space.select(style_space_pick, [space_state, photo, size], [result, space, space_note], api_name=False, **common)
    return sheet
