"""The Stylise tab: Gatys et al.'s optimisation with a live preview and live per-layer curves.

Up to three paintings, blended by weight or painted into regions with a
brush over the photo (guided Gram matrices); presets for a class; every
other control's default, range check and help text comes from
stylelib.options.Options. The first preview is the any-painting network's
one-pass picture, shown at once; the optimisation then replaces it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from functools import lru_cache
from types import SimpleNamespace

import gradio as gr
import numpy as np
import torch

from stylelib import plots
from stylelib.calibrate import calibrate
from stylelib.cost import estimate_stylize
from stylelib.data import load_example
from stylelib.fast import Stylizer
from stylelib.images import ImageError, fit_size, resize_tensor, save_image
from stylelib.masks import masks_from_strokes
from stylelib.models import list_models
from stylelib.optimize import stylize_iter, with_init_model
from stylelib.options import DEFAULTS, PRESETS, STYLE_LAYERS, Options
from stylelib.recipe import make_recipe
from stylelib.weights import WEIGHTS, WeightsError

from .common import (CONCURRENCY, DEVICE, MAX_SIZE, UploadImage, as_numpy, cli_name, example_gallery, load_input,
                     new_run_dir, pick_example, release_memory)

FIELDS = {f.name: f for f in dataclasses.fields(Options)}
REDRAW_EVERY = 5  # steps between preview images and curve redraws
# Live previews no larger than this: the panel shows 440 px, and a 1024 px PNG takes ~0.4 s to encode (640: ~0.13 s),
# which made the first picture at 1024 px take ~1 s after Run. The result itself is shown and saved at full size.
PREVIEW_SIDE = 640
BRUSHES = (("#e6194b", (0.902, 0.098, 0.294)), ("#3cb44b", (0.235, 0.706, 0.294)), ("#4363d8", (0.263, 0.388, 0.847)))
BRUSH_NAMES = ("red", "green", "blue")
CONTROLS: dict = {}  # API parameter name (an Options field, or w_<layer>) -> its component


def help_of(name: str) -> str:
    return FIELDS[name].metadata["help"]


def choices_of(name: str) -> list[str]:
    return list(FIELDS[name].metadata["choices"])


def control(name: str, component):
    """Register a settings component under the Options field it sets (its API parameter name)."""
    CONTROLS[name] = component
    return component


def build_options(values: dict, preset: str | None, blend: list[float] | None) -> Options:
    weights = [values.pop(f"w_{l}") for l in STYLE_LAYERS]
    kept = [(l, w) for l, w in zip(STYLE_LAYERS, weights) if w > 0]
    if values["style_loss"] != "mrf" and not kept:
        raise gr.Error("All style layer weights are 0: give at least one layer a weight.")
    if kept and len(kept) < len(STYLE_LAYERS) or any(w != 1 for _, w in kept):
        # the slider's 1 is the default w_l = 1/5 of all five layers, whichever are kept
        values["style_layers"] = tuple(l for l, _ in kept)
        values["style_layer_weights"] = tuple(w / len(STYLE_LAYERS) for _, w in kept)
    chosen = values.pop("init_model", None) or None  # "": the painting's own
    try:
        o = Options(**values, preset=preset or None, style_blend=blend, preview_every=REDRAW_EVERY)
        # the menu counts only for a run that starts from a model, which a preset may have chosen
        return dataclasses.replace(o, init_model=chosen) if o.init == "model" else o
    except ValueError as err:
        raise gr.Error(str(err)) from None


def region_masks(regions, photo: torch.Tensor, count: int) -> list[torch.Tensor] | None:
    """The brush layers -> one mask per painting at the photo's size, or None when nothing is painted."""
    if not regions or not regions.get("layers"):
        return None
    layers = [np.asarray(l, dtype=np.float32) / 255 for l in regions["layers"] if l is not None]
    if not layers:
        return None
    rgba = torch.from_numpy(layers[-1]).permute(2, 0, 1)[None]  # (1, 4, H, W): the top layer...
    for extra in reversed(layers[:-1]):  # ...over the ones below it
        below = torch.from_numpy(extra).permute(2, 0, 1)[None]
        rgba = torch.where(rgba[:, 3:] > 0, rgba, below)
    if rgba.shape[1] != 4 or rgba[:, 3].max() <= 0:
        return None
    masks = masks_from_strokes(rgba, [c for _, c in BRUSHES[:count]])
    h, w = photo.shape[-2:]
    return [torch.nn.functional.interpolate(m, size=(h, w), mode="area") for m in masks]


def stylize_event(content, style, style2=None, style3=None, weight1=1.0, weight2=1.0, weight3=1.0, regions=None,
                  preset=None, progress=gr.Progress(), **values):
    """Run the optimisation, yielding (image, curves, status, files, command, result path, run state)."""
    paths = [p for p in (style, style2, style3) if p]
    weights = [float(w) for p, w in zip((style, style2, style3), (weight1, weight2, weight3)) if p]
    if not style:
        raise gr.Error("Choose a style painting: click one of the examples or upload your own.")
    o = build_options(values, preset, weights if len(paths) > 1 else None)
    c = load_input(content, "content", o.size, o.min_side())
    styles = [load_input(p, "style", max(1, round(o.size * o.style_scale)), o.min_side()) for p in paths]
    masks = region_masks(regions, c, len(paths))
    names = [cli_name(p) for p in paths]
    if masks is not None:
        painted = [i for i, m in enumerate(masks) if m.max() > 0]
        if not painted:
            masks = None
        else:  # paintings without a painted region are left out: they have nowhere to go
            paths, styles, names = [paths[i] for i in painted], [styles[i] for i in painted], [names[i] for i in painted]
            masks = [masks[i] for i in painted]
            o = dataclasses.replace(o, style_masks=tuple(f"region-{i + 1}.png" for i in painted),
                                    style_blend=tuple(weights[i] for i in painted) if len(painted) > 1 else None,
                                    style_loss="gram")
    try:
        o = with_init_model(o, names[0])  # init "model": the bundled model named after the first painting run
    except ValueError as err:
        raise gr.Error(str(err)) from None
    state = {"step": 0, "total": o.total_steps, "started": time.perf_counter()}
    yield first_preview(c, styles, o), None, "**Starting** · the first picture is the one-pass network's", \
        None, None, None, state
    history: dict[str, list] = {}
    last = None
    try:
        for it in stylize_iter(c, styles if len(styles) > 1 else styles[0],
                               **{**dataclasses.asdict(o), **({"style_masks": masks} if masks else {})}):
            state["step"] = done = state["step"] + 1
            for term, value in it.terms.items():
                history.setdefault(term, []).append((done, value))
            progress((done, state["total"]), desc=f"scale {it.scale}/{it.scales}")
            last = it
            if it.image is not None and not it.final:
                eta = it.seconds / done * (state["total"] - done)
                status = (f"**Step {done}/{state['total']}** · loss {it.loss:.4g} · {it.seconds:.0f} s elapsed · "
                          f"≈{eta:.0f} s left")
                yield shown(it.image), plots.loss_curves(history), status, None, None, None, state
    except (ValueError, WeightsError, FloatingPointError, ImageError) as err:
        raise gr.Error(str(err)) from None
    run_dir = new_run_dir()
    png, recipe_path = run_dir / "stylized.png", run_dir / "stylized.json"
    save_image(last.image, png)
    files = [str(png), str(recipe_path)]
    for name, m in zip(o.style_masks or (), masks or ()):
        save_image(m.expand(1, 3, -1, -1), run_dir / name)  # the painted regions, for the CLI line
        files.append(str(run_dir / name))
    recipe = make_recipe(o, last, content=cli_name(content), styles=names, output="stylized.png")
    recipe_path.write_text(json.dumps(recipe, indent=2) + "\n")
    release_memory()
    status = (f"**Done** in {last.seconds:.1f} s · final loss {last.loss:.4g} on {last.info['device']} "
              f"({last.info['precision']})")
    yield as_numpy(last.image), plots.loss_curves(history), status, files, recipe["command"], str(png), state


def first_preview(photo: torch.Tensor, styles: list[torch.Tensor], o: Options):
    """The any-painting network's picture of the photo (~0.1 s): something to look at while the run starts."""
    from stylelib.anystyle import first_picture

    from .instant import engine

    side = min(PREVIEW_SIDE, max(photo.shape[-2:]))  # painted at the size it is shown at
    if o.init == "model":  # the picture the run starts from
        return as_numpy(Stylizer(o.init_model, device=str(DEVICE), precision=o.precision)(
            resize_tensor(photo, fit_size(*photo.shape[-2:], side))))
    return as_numpy(first_picture(photo, styles, weights=o.style_blend, size=side, runner=engine()))


def warm_up() -> None:
    """Load what Run needs before the first Run: one 64 px run of one step, with its first picture.

    It loads the any-painting network and the VGG extractor at the
    defaults, and makes torch import what it imports when its first
    optimiser is built (torch._dynamo: about 1.4 s on our CPUs), which
    had made the first Run after start-up slower than the rest.
    """
    photo, painting = load_example("grace-hopper", size=64), load_example("starry-night", size=64)
    first_preview(photo, [painting], DEFAULTS)
    for _ in stylize_iter(photo, painting, size=64, steps=1):
        pass


def shown(image: torch.Tensor):
    """A live preview for gr.Image, its longest side at most PREVIEW_SIDE."""
    h, w = image.shape[-2:]
    return as_numpy(resize_tensor(image, fit_size(h, w, PREVIEW_SIDE)) if max(h, w) > PREVIEW_SIDE else image)


def stopped(state) -> str:
    """The status after Stop: the step reached; the partial image stays on screen."""
    if not state or not state.get("step"):
        return "**Stopped** before the first step."
    seconds = time.perf_counter() - state["started"]
    return (f"**Stopped** at step {state['step']}/{state['total']} after {seconds:.0f} s; the picture shown is the "
            f"last preview (Run starts over).")


def apply_preset(name):
    """The controls a preset sets, to their preset values (the others back to the defaults)."""
    if not name:
        return [gr.update() for _ in PRESET_CONTROLS]
    values = {**{n: getattr(DEFAULTS, n) for n in PRESET_CONTROLS}, **PRESETS[name][1]}
    return [gr.update(value=values[n]) for n in PRESET_CONTROLS]


PRESET_CONTROLS = ("style_weight", "tv_weight", "content_weight", "style_loss", "mrf_weight", "preserve_color",
                   "scales", "steps", "init")


@lru_cache(maxsize=1)
def redraw_seconds() -> float:
    """What one live redraw (the curves' figure) costs here, measured once."""
    history = {f"style:{l}": [(i, 1.0 / (i + 1)) for i in range(100)] for l in STYLE_LAYERS}
    start = time.perf_counter()
    plots.loss_curves(history)
    return time.perf_counter() - start


def run_seconds(o: Options, h: int, w: int) -> float:
    """stylelib.cost's estimate of the optimisation, plus this tab's live redraws."""
    redraws = o.total_steps // REDRAW_EVERY
    rates = calibrate(str(DEVICE), o.precision)
    return estimate_stylize(o, h, w, device=str(DEVICE), rates=rates).seconds + redraws * redraw_seconds()


def time_note(size: float, steps: float, scales: float) -> str:
    """Expected time and memory for a square photo of this size (stylelib.cost, measured on this machine)."""
    try:
        o = Options(size=int(size), steps=int(steps), scales=int(scales))
    except ValueError as err:
        return str(err)
    cost = estimate_stylize(o, int(size), int(size), device=str(DEVICE))
    seconds = run_seconds(o, int(size), int(size))
    rows = ", ".join(f"{px} px ≈ {_fmt(run_seconds(dataclasses.replace(o, size=px), px, px))}"
                     for px in (256, 512, 1024) if px <= MAX_SIZE)
    warning = "" if cost.fits else " **This would not fit in memory: choose a smaller size.**"
    return (f"Expected on this {DEVICE.type.upper()}: **{_fmt(seconds)}** and "
            f"{cost.peak_bytes / 2**30:.1f} GiB for {int(steps)} steps at {int(size)} px (square; wider or taller "
            f"photos take less). For comparison: {rows}.{warning}")


def _fmt(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def build() -> SimpleNamespace:
    """The tab's components; the caller wires the events (Look inside reads this tab's inputs)."""
    with gr.Row():
        with gr.Column(scale=5):
            with gr.Row():
                content = UploadImage(label="Content photo", type="filepath", sources=["upload", "webcam", "clipboard"],
                                      height=240, elem_id="content-image")
                style = UploadImage(label="Style painting", type="filepath", sources=["upload", "clipboard"],
                                    height=240, elem_id="style-image")
            content_gallery = example_gallery("content")
            style_gallery = example_gallery("style")
            with gr.Row():
                preset = gr.Dropdown([("(none)", "")] + [(f"{k}: {v[0]}", k) for k, v in PRESETS.items()], value="",
                                     label="Preset", info="a named recipe; the sliders below show what it sets",
                                     elem_id="preset")
            with gr.Row():
                run = gr.Button("Run", variant="primary", elem_id="run-button")
                stop = gr.Button("Stop", variant="stop", elem_id="stop-button")
            time_md = gr.Markdown(elem_id="time-note")
            with gr.Row():
                size = control("size", gr.Slider(64, MAX_SIZE, value=DEFAULTS.size, step=32, label="Size (px, longest side)", info=help_of("size"), elem_id="size-slider"))
                steps = control("steps", gr.Slider(1, 1000, value=DEFAULTS.steps, step=1, label="Steps", info=help_of("steps"), elem_id="steps-slider"))
                control("style_weight", gr.Slider(0, 200, value=DEFAULTS.style_weight, step=0.5, label="Style strength β", info=help_of("style_weight")))
            with gr.Accordion("More paintings, and painting regions with a brush", open=False, elem_id="more-paintings"):
                with gr.Row():
                    style2 = UploadImage(label="Painting 2 (optional)", type="filepath", sources=["upload", "clipboard"], height=150, elem_id="style2-image")
                    style3 = UploadImage(label="Painting 3 (optional)", type="filepath", sources=["upload", "clipboard"], height=150, elem_id="style3-image")
                with gr.Row():
                    weight1 = gr.Slider(0, 5, value=1, step=0.1, label="Weight of painting 1")
                    weight2 = gr.Slider(0, 5, value=1, step=0.1, label="Weight of painting 2")
                    weight3 = gr.Slider(0, 5, value=1, step=0.1, label="Weight of painting 3")
                gr.Markdown("Without painting, the paintings blend over the whole picture by weight. To give each "
                            "painting its own region, paint over the photo: **red** = painting 1, **green** = "
                            "painting 2, **blue** = painting 3; unpainted parts keep the photo; a soft (translucent) "
                            "brush gives a partial weight.")
                regions = gr.ImageEditor(label="Regions (paint over the photo)", type="numpy", image_mode="RGBA",
                                         sources=[], transforms=[], height=360, elem_id="regions",
                                         brush=gr.Brush(colors=[c for c, _ in BRUSHES], color_mode="fixed"),
                                         layers=gr.LayerOptions(layers=["regions"], allow_additional_layers=False))
            with gr.Accordion("Advanced settings", open=False, elem_id="advanced"):
                with gr.Row():
                    control("content_weight", gr.Number(value=DEFAULTS.content_weight, label="Content weight α", info=help_of("content_weight")))
                    control("tv_weight", gr.Slider(0, 100, value=DEFAULTS.tv_weight, step=0.5, label="Smoothness γ (TV)", info=help_of("tv_weight")))
                gr.Markdown("Per-layer style weights (1 = the default w_l = 1/5; 0 drops the layer)")
                with gr.Row():
                    for l in STYLE_LAYERS:
                        control(f"w_{l}", gr.Slider(0, 3, value=1.0, step=0.1, label=l, min_width=90))
                with gr.Row():
                    control("style_loss", gr.Radio(choices_of("style_loss"), value=DEFAULTS.style_loss, label="Style loss", info=help_of("style_loss")))
                    control("mrf_weight", gr.Slider(0, 20, value=DEFAULTS.mrf_weight, step=0.1, label="MRF weight", info=help_of("mrf_weight")))
                with gr.Row():
                    control("optimizer", gr.Radio(choices_of("optimizer"), value=DEFAULTS.optimizer, label="Optimiser"))
                    control("init", gr.Radio(choices_of("init"), value=DEFAULTS.init, label="Start from", info=help_of("init")))
                with gr.Row():
                    control("init_model", gr.Dropdown([("the painting's own", "")] + [(m.name, m.name) for m in list_models()], value="", label="Fast model (start from model)", info=help_of("init_model")))
                    control("preserve_color", gr.Radio(choices_of("preserve_color"), value=DEFAULTS.preserve_color, label="Keep photo colours", info=help_of("preserve_color")))
                with gr.Row():
                    control("arch", gr.Radio(choices_of("arch"), value=DEFAULTS.arch, label="Network", info=help_of("arch")))
                    control("weights", gr.Dropdown(list(WEIGHTS), value=DEFAULTS.weights, label="Weights", info="caffe: original VGG-19 · hed: VGG-16 fine-tuned for edges · imagenet: needs a download"))
                    control("pooling", gr.Radio(choices_of("pooling"), value=DEFAULTS.pooling, label="Pooling", info=help_of("pooling")))
                with gr.Row():
                    control("style_scale", gr.Slider(0.25, 2.0, value=DEFAULTS.style_scale, step=0.05, label="Style scale (brush size)", info=help_of("style_scale")))
                    scales = control("scales", gr.Slider(1, 4, value=DEFAULTS.scales, step=1, label="Coarse-to-fine scales", info=help_of("scales")))
                    control("seed", gr.Number(value=DEFAULTS.seed, precision=0, label="Seed", info=help_of("seed")))
            with gr.Accordion("Image credits", open=False):
                from stylelib.data import list_examples

                gr.Markdown("\n".join(f"- **{e.name}**: {e.credit}" for e in list_examples()) +
                            "\n\nPaintings via GCompris (WebMuseum copies); details in stylelib/assets/examples/CREDITS.csv.")
        with gr.Column(scale=6):
            result = gr.Image(label="Result (updates live)", type="numpy", interactive=False, height=440,
                              elem_id="result-image", format="png", elem_classes="stylelib-result")
            status = gr.Markdown(elem_classes="stylelib-status", elem_id="status")
            curves = gr.Plot(label="Loss terms, live (log scale): which layer is still far from its target?",
                             show_label=False)
            files = gr.File(label="Download: image (PNG), recipe (JSON) and painted regions", file_count="multiple",
                            interactive=False)
            command = gr.Code(label="Reproduce with the CLI", language="shell", interactive=False)
    result_path, run_state = gr.State(None), gr.State(None)

    content_gallery.select(pick_example("content"), None, content, api_name=False, queue=False)
    style_gallery.select(pick_example("style"), None, style, api_name=False, queue=False)
    content.change(lambda p: {"background": p, "layers": [], "composite": p} if p else None, content, regions,
                   api_name=False, queue=False)
    preset.change(apply_preset, preset, [CONTROLS[n] for n in PRESET_CONTROLS], api_name=False, queue=False)
    inputs = dict(content=content, style=style, style2=style2, style3=style3, weight1=weight1, weight2=weight2,
                  weight3=weight3, regions=regions, preset=preset, **CONTROLS)
    busy = run.click(lambda: (gr.update(interactive=False, value="Running…"), "**Queued** · waiting for a free worker"),
                     None, [run, status], api_name=False, queue=False)
    run_event = busy.then(stylize_event, inputs=None, inputs_kwargs=inputs,
                          outputs=[result, curves, status, files, command, result_path, run_state],
                          api_name="stylize", concurrency_limit=CONCURRENCY, concurrency_id="gpu")
    idle = dict(fn=lambda: gr.update(interactive=True, value="Run"), inputs=None, outputs=run, api_name=False,
                queue=False)
    run_event.then(**idle)
    note = dict(show_progress="hidden", api_name=False, concurrency_limit=1, concurrency_id="note")
    run_event.then(time_note, [size, steps, scales], time_md, **note)
    stop.click(stopped, run_state, status, cancels=[run_event], api_name=False, queue=False).then(**idle)
    for c in (size, steps, scales):
        c.release(time_note, [size, steps, scales], time_md, **note)
    return SimpleNamespace(content=content, style=style, result_path=result_path, time_md=time_md,
                           size=size, steps=steps, scales=scales)
