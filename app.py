"""stylelib in the browser: stylise with a live preview and live loss curves, then look inside.

    python app.py                 # http://127.0.0.1:7860, this machine only
    python app.py --host 0.0.0.0  # share on the network (or STYLELIB_HOST=0.0.0.0)

Every control's default, range check and help text comes from
stylelib.options.Options; the app adds no defaults of its own except how
often it redraws.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
import uuid
from functools import lru_cache
from pathlib import Path

import gradio as gr
import torch

from stylelib import diagnostics, plots
from stylelib.data import EXAMPLES_DIR, list_examples
from stylelib.images import ImageError, load_image, save_image
from stylelib.optimize import get_extractor, resolve_device, stylize_iter
from stylelib.options import DEFAULTS, STYLE_LAYERS, Options
from stylelib.recipe import make_recipe
from stylelib.weights import WEIGHTS, WeightsError

FIELDS = {f.name: f for f in dataclasses.fields(Options)}
DEVICE = resolve_device("auto")
ON_GPU = DEVICE.type != "cpu"
CONCURRENCY = 2 if ON_GPU else 1  # two CPU runs at once would each take twice as long
MAX_SIZE = 2048 if ON_GPU else 1024
UPLOAD_LIMIT = "20mb"
REDRAW_EVERY = 5  # steps between preview images and curve redraws
OUT_DIR = Path(os.environ.get("GRADIO_TEMP_DIR", tempfile.gettempdir())) / "stylelib-app"
INSPECT_SIZE = 256
VIDEO_LIMIT_S = 60  # a public demo: bound the work one upload can ask for
LIVE_SIZE = 256


def help_of(name: str) -> str:
    return FIELDS[name].metadata["help"]


def choices_of(name: str) -> list[str]:
    return list(FIELDS[name].metadata["choices"])


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


def load_input(path: str | None, what: str, size: int, min_side: int) -> torch.Tensor:
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


def build_options(values: dict) -> Options:
    weights = [values.pop(f"w_{l}") for l in STYLE_LAYERS]
    kept = [(l, w) for l, w in zip(STYLE_LAYERS, weights) if w > 0]
    if values["style_loss"] != "mrf" and not kept:
        raise gr.Error("All style layer weights are 0: give at least one layer a weight.")
    if kept and len(kept) < len(STYLE_LAYERS) or any(w != 1 for _, w in kept):
        values["style_layers"] = tuple(l for l, _ in kept)
        values["style_layer_weights"] = tuple(w / len(kept) for _, w in kept)  # slider 1 = the default 1/L
    mask = values.pop("style_masks", None)
    values["style_masks"] = (mask,) if mask else None
    values["seed"], values["size"], values["steps"], values["scales"] = (
        int(values["seed"]), int(values["size"]), int(values["steps"]), int(values["scales"]))
    try:
        return Options(**values, preview_every=REDRAW_EVERY)
    except ValueError as err:
        raise gr.Error(str(err)) from None


def stylize_event(content, style, *values, progress=gr.Progress()):
    """Run the optimisation, yielding (image, curves, status, files, command, result path)."""
    o = build_options(dict(zip(CONTROL_NAMES, values)))
    c = load_input(content, "content", o.size, o.min_side())
    s = load_input(style, "style", max(1, round(o.size * o.style_scale)), o.min_side())
    # a broken mask gets the same clear error; decoded once, here, and passed on as a tensor
    masks = {"style_masks": [load_input(o.style_masks[0], "region mask", o.size, 1)]} if o.style_masks else {}
    history: dict[str, list] = {}
    total = o.steps * o.scales
    last = None
    try:
        for it in stylize_iter(c, s, **{**dataclasses.asdict(o), **masks}):
            done = (it.scale - 1) * o.steps + it.step
            for term, value in it.terms.items():
                history.setdefault(term, []).append((done, value))
            progress((done, total), desc=f"scale {it.scale}/{it.scales}")
            last = it
            if it.image is not None and not it.final:
                eta = it.seconds / done * (total - done)
                status = f"**Step {done}/{total}** · loss {it.loss:.4g} · {it.seconds:.0f} s elapsed · ≈{eta:.0f} s left"
                yield it.image[0].permute(1, 2, 0).numpy(), plots.loss_curves(history), status, None, None, None
    except (ValueError, WeightsError, FloatingPointError) as err:
        raise gr.Error(str(err)) from None
    run_dir = OUT_DIR / uuid.uuid4().hex[:12]
    run_dir.mkdir(parents=True, exist_ok=True)
    png, recipe_path = run_dir / "stylized.png", run_dir / "stylized.json"
    save_image(last.image, png)
    named = dataclasses.replace(o, style_masks=tuple(map(cli_name, o.style_masks)) if o.style_masks else None)
    recipe = make_recipe(named, last, content=cli_name(content), styles=[cli_name(style)], output="stylized.png")
    recipe_path.write_text(json.dumps(recipe, indent=2) + "\n")
    if o.style_loss == "gram" and o.optimizer == "lbfgs" and o.steps >= 10:  # what the time note predicts
        h, w = c.shape[-2:]
        megapixel_steps = o.steps * sum(h * w / 4**k for k in range(o.scales)) / 1e6
        MEASURED[:] = (MEASURED + [last.seconds / megapixel_steps])[-5:]
    status = f"**Done** in {last.seconds:.1f} s · final loss {last.loss:.4g} on {last.info['device']} ({last.info['precision']})"
    yield (last.image[0].permute(1, 2, 0).numpy(), plots.loss_curves(history), status,
           [str(png), str(recipe_path)], recipe["command"], str(png))


@lru_cache(maxsize=1)
def seconds_per_megapixel() -> float:
    """One forward+backward of the default objective at 256², timed on this device."""
    from stylelib.objective import Objective
    from stylelib.optimize import resolve_precision

    layers = DEFAULTS.layers
    net = get_extractor(layers, DEFAULTS.arch, DEFAULTS.weights, DEFAULTS.pooling, str(DEVICE))
    x = torch.rand(1, 3, 256, 256, device=DEVICE)
    obj = Objective(net, x, [x], content_layers=DEFAULTS.content_layers, style_layers=DEFAULTS.style_layers,
                    autocast_dtype=resolve_precision("auto", DEVICE))
    x.requires_grad_(True)
    times = []
    for _ in range(8):  # the first few build kernels for this shape; keep the fastest of the rest
        start = time.perf_counter()
        x.grad = None
        obj(x)[0].backward()
        times.append(time.perf_counter() - start)
    return min(times[4:]) / (256 * 256 / 1e6) * 1.15  # ~1.15 evaluations per L-BFGS step


MEASURED: list[float] = []  # seconds per megapixel-step of the latest finished runs on this device


def time_note(size: float, steps: float, scales: float) -> str:
    # A start-up calibration is thrown off by whatever else the machine does at that moment;
    # real runs are better evidence, so once there are some, they decide.
    per_mp = sorted(MEASURED)[len(MEASURED) // 2] if MEASURED else seconds_per_megapixel()
    runs = "the last run" if len(MEASURED) == 1 else f"the last {len(MEASURED)} runs"
    source = f"measured from {runs}" if MEASURED else "rough, timed at start-up"
    fmt = lambda s: f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"
    levels = sum((size / 2**k) ** 2 for k in range(int(scales))) / 1e6
    rows = ", ".join(f"{px} px ≈ {fmt(per_mp * (px**2 / 1e6) * steps)}" for px in (256, 512, 1024) if px <= MAX_SIZE)
    return (f"Expected time on this {DEVICE.type.upper()} ({source}): about "
            f"**{fmt(per_mp * levels * steps)}** for {int(steps)} steps at {int(size)} px (square; wider or "
            f"taller images take less). For comparison: {rows}.")


def inspect_event(content, style, result, layer, mrf_layer):
    """Feature maps, Gram matrices and the MRF match map for the chosen layers."""
    c = load_input(content, "content", INSPECT_SIZE, 16)
    s = load_input(style, "style", INSPECT_SIZE, 16)
    r = load_image(result, size=INSPECT_SIZE) if result else c
    r = torch.nn.functional.interpolate(r, size=c.shape[-2:], mode="bilinear", antialias=True).clamp(0, 1)
    net = get_extractor(tuple(dict.fromkeys((layer, mrf_layer))), "vgg19", "auto", "max", str(DEVICE))
    with torch.no_grad():
        feats = {"content": net(c.to(DEVICE)), "style": net(s.to(DEVICE)), "result": net(r.to(DEVICE))}
    feats = {k: {l: v.float().cpu() for l, v in f.items()} for k, f in feats.items()}
    match = diagnostics.match_map(net, r.to(DEVICE), s.to(DEVICE), layer=mrf_layer)
    match = dataclasses.replace(match, index=match.index.cpu(), score=match.score.cpu(), colors=match.colors.cpu())
    rows, cols = match.index.shape
    note = "" if result else " (no result yet: showing the content photo as the result)"
    return (plots.feature_maps(feats, layer), plots.gram_heatmaps(feats, layer),
            plots.match_figure(match, r, s, at=(rows // 2, cols // 2)),
            (match, r, s), f"Click a spot on the match map at the bottom to see that patch beside the painting patch it matched.{note}",
            diagnostics.upscale(match.colors, r.shape[-2], r.shape[-1])[0].permute(1, 2, 0).numpy())


def pick_patch(state, evt: gr.SelectData):
    if state is None:
        raise gr.Error("Press “Look inside” first.")
    match, r, s = state
    x, y = evt.index
    rows, cols = match.index.shape
    row = min(rows - 1, int(y / r.shape[-2] * rows))
    col = min(cols - 1, int(x / r.shape[-1] * cols))
    return plots.match_figure(match, r, s, at=(row, col))


@lru_cache(maxsize=8)
def fast_model(name: str):
    """The model, loaded and cast for inference once (webcam frames arrive four times a second)."""
    from stylelib.fast import Stylizer

    return Stylizer(name, device=str(DEVICE))


def model_note(name: str) -> str:
    from stylelib.fast import list_models

    r = next((m.recipe for m in list_models() if m.name == name), {})
    return (f"**{name}**: {r.get('network', '?')} network, width {r.get('width', '?')}, trained "
            f"{r.get('steps', '?')} steps × {r.get('batch_size', '?')} photos at {r.get('image_size', '?')} px "
            f"on {r.get('device', '?')} in {r.get('seconds', 0) / 60:.0f} min.")


def instant_image(path, name, size):
    """One pass through the chosen network; returns (image, timing note)."""
    from stylelib.fast import stylize_fast

    if not path:
        return None, "Upload a photo or take one with the webcam."
    if not name:
        raise gr.Error("No fast-style model is installed.")
    x = load_input(path, "photo", int(size), 16)
    run = fast_model(name)
    start = time.perf_counter()
    y = stylize_fast(run, x)
    ms = 1000 * (time.perf_counter() - start)
    h, w = x.shape[-2:]
    return y[0].permute(1, 2, 0).numpy(), f"{w}×{h} px in **{ms:.0f} ms** on {DEVICE.type.upper()}. " + model_note(name)


def instant_video(path, name, size, smooth, progress=gr.Progress()):
    from stylelib.fast import stylize_video

    if not path:
        raise gr.Error("Upload a video first.")
    try:
        import av

        with av.open(path) as f:
            stream = f.streams.video[0]
            seconds = float(stream.duration * stream.time_base) if stream.duration else 0.0
    except Exception:
        raise gr.Error("That file is not a video we can read.") from None
    if seconds > VIDEO_LIMIT_S:
        raise gr.Error(f"Videos up to {VIDEO_LIMIT_S} s, please (this one is {seconds:.0f} s).")
    target = OUT_DIR / uuid.uuid4().hex[:12] / "stylized.mp4"
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    stylize_video(fast_model(name), path, target, size=int(size), smooth=float(smooth),
                  callback=lambda done, total: progress((done, total or None), desc="frames"))
    return str(target), f"Done in {time.perf_counter() - start:.1f} s. " + model_note(name)


def live_frame(frame, name):
    """Webcam frames as they arrive, at 256 px."""
    from stylelib.fast import stylize_fast
    from stylelib.images import resize_long_side

    if frame is None or not name:
        return None
    from PIL import Image

    x = load_image(resize_long_side(Image.fromarray(frame), LIVE_SIZE))
    return stylize_fast(fast_model(name), x)[0].permute(1, 2, 0).numpy()


def example_gallery(kind: str, elem_id: str | None = None) -> gr.Gallery:
    items = [(str(e.path), e.name) for e in list_examples(kind)]
    return gr.Gallery(items, label=f"Examples ({'photos' if kind == 'content' else 'paintings'}), click to use",
                      columns=6, height=130, allow_preview=False, object_fit="cover", elem_id=elem_id or f"{kind}-examples")


def pick_example(kind: str):
    paths = [str(e.path) for e in list_examples(kind)]

    def pick(evt: gr.SelectData) -> str:
        return paths[evt.index]

    return pick


CONTROL_NAMES: list[str] = []  # Options field names (and w_<layer>), in the order of CONTROLS
CONTROLS: list = []


def control(name: str, component):
    """Register a settings component under the Options field it sets."""
    CONTROL_NAMES.append(name)
    CONTROLS.append(component)
    return component


CSS = """
.stylelib-title h1 {margin-bottom: 0}
.stylelib-status {min-height: 2.2em}
"""

with gr.Blocks(title="stylelib: neural style transfer") as demo:
    gr.Markdown("# stylelib · neural style transfer\nGatys et al.'s optimisation (and Li & Wand's MRF loss), "
                "live: watch the picture change and each layer's error fall.", elem_classes="stylelib-title")
    with gr.Tab("Stylise"):
        with gr.Row():
            with gr.Column(scale=5):
                with gr.Row():
                    content = UploadImage(label="Content photo", type="filepath", sources=["upload", "webcam", "clipboard"], height=260)
                    style = UploadImage(label="Style painting", type="filepath", sources=["upload", "clipboard"], height=260)
                content_gallery = example_gallery("content")
                style_gallery = example_gallery("style")
                with gr.Accordion("Image credits", open=False):
                    gr.Markdown("\n".join(f"- **{e.name}**: {e.credit}" for e in list_examples()) +
                                "\n\nPaintings via GCompris (WebMuseum copies); details in stylelib/assets/examples/CREDITS.csv.")
                with gr.Row():
                    run = gr.Button("Run", variant="primary", elem_id="run-button")
                    stop = gr.Button("Stop", variant="stop", elem_id="stop-button")
                time_md = gr.Markdown()
                with gr.Accordion("Settings", open=True):
                    with gr.Row():
                        size = control("size", gr.Slider(64, MAX_SIZE, value=DEFAULTS.size, step=32, label="Size (px, longest side)", info=help_of("size"), elem_id="size-slider"))
                        steps = control("steps", gr.Slider(1, 1000, value=DEFAULTS.steps, step=1, label="Steps", info=help_of("steps"), elem_id="steps-slider"))
                    with gr.Row():
                        control("style_weight", gr.Slider(0, 200, value=DEFAULTS.style_weight, step=0.5, label="Style strength β", info=help_of("style_weight")))
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
                        control("preserve_color", gr.Radio(choices_of("preserve_color"), value=DEFAULTS.preserve_color, label="Keep photo colours", info=help_of("preserve_color")))
                    with gr.Row():
                        control("arch", gr.Radio(choices_of("arch"), value=DEFAULTS.arch, label="Network", info=help_of("arch")))
                        control("weights", gr.Dropdown(list(WEIGHTS), value=DEFAULTS.weights, label="Weights", info="caffe: original VGG-19 · hed: VGG-16 fine-tuned for edges · imagenet: needs a download"))
                        control("pooling", gr.Radio(choices_of("pooling"), value=DEFAULTS.pooling, label="Pooling", info=help_of("pooling")))
                    with gr.Row():
                        control("style_scale", gr.Slider(0.25, 2.0, value=DEFAULTS.style_scale, step=0.05, label="Style scale", info=help_of("style_scale")))
                        scales = control("scales", gr.Slider(1, 4, value=DEFAULTS.scales, step=1, label="Coarse-to-fine scales", info=help_of("scales")))
                        control("seed", gr.Number(value=DEFAULTS.seed, precision=0, label="Seed", info=help_of("seed")))
                    with gr.Row():
                        control("style_masks", UploadImage(
                            label="Region mask (optional): white where the painting goes, black keeps the photo",
                            type="filepath", sources=["upload", "clipboard"], height=150, elem_id="mask-image"))
            with gr.Column(scale=6):
                result = gr.Image(label="Result (updates live)", type="numpy", interactive=False, height=420, elem_id="result-image", format="png")
                status = gr.Markdown(elem_classes="stylelib-status", elem_id="status")
                curves = gr.Plot(label="Loss terms, live (log scale): which layer is still far from its target?")
                files = gr.File(label="Download: image (PNG) and recipe (JSON)", file_count="multiple", interactive=False)
                command = gr.Code(label="Reproduce with the CLI", language="shell", interactive=False)
        result_path = gr.State(None)

    with gr.Tab("Look inside"):
        gr.Markdown("What the network sees in the photo, the painting and the latest result (at 256 px).")
        with gr.Row():
            layer = gr.Dropdown([l for l in DEFAULTS.style_layers + DEFAULTS.content_layers], value="relu3_1", label="Layer for feature maps and Gram matrices")
            mrf_layer = gr.Dropdown(["relu2_1", "relu3_1", "relu4_1"], value="relu3_1", label="Layer for the MRF match map")
            inspect = gr.Button("Look inside", variant="primary")
        inspect_note = gr.Markdown()
        feature_plot = gr.Plot(label="Feature maps")
        gram_plot = gr.Plot(label="Gram matrices (G/M, first 48 channels) and the result's distance to the painting's")
        match_plot = gr.Plot(label="MRF: which painting patch each result patch matches (Li & Wand)")
        with gr.Row():
            match_image = gr.Image(label="Match map: click a spot to see its patch and the painting patch it matched", interactive=False, height=300)
        match_state = gr.State(None)

    with gr.Tab("Instant (fast networks)"):
        from stylelib.fast import list_models

        names = [m.name for m in list_models()]
        gr.Markdown("Johnson et al.: a network trained once per painting stylises a photo in one pass. "
                    "Pick a model and a photo; the result appears at once.")
        with gr.Row():
            model_dd = gr.Dropdown(names, value=names[0] if names else None, label="Model (one per painting)")
            fast_size = gr.Slider(128, MAX_SIZE, value=512, step=32, label="Size (px, longest side)")
        with gr.Row():
            fast_in = UploadImage(label="Photo", type="filepath", sources=["upload", "webcam", "clipboard"], height=320)
            fast_out = gr.Image(label="Stylised", interactive=False, height=320, format="png", elem_id="instant-result")
        fast_note = gr.Markdown()
        fast_gallery = example_gallery("content", "instant-examples")
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

    for trigger, api in ((fast_in.change, "instant"), (model_dd.change, False), (fast_size.release, False)):
        trigger(instant_image, [fast_in, model_dd, fast_size], [fast_out, fast_note], api_name=api,
                concurrency_limit=CONCURRENCY, concurrency_id="fast")
    fast_gallery.select(pick_example("content"), None, fast_in)
    video_btn.click(instant_video, [video_in, model_dd, fast_size, smooth], [video_out, video_note],
                    api_name="instant_video", concurrency_limit=1, concurrency_id="gpu")
    cam.stream(live_frame, [cam, model_dd], cam_out, stream_every=0.25, concurrency_limit=CONCURRENCY,
               concurrency_id="fast", api_name=False)

    content_gallery.select(pick_example("content"), None, content)
    style_gallery.select(pick_example("style"), None, style)
    run_event = run.click(
        stylize_event, [content, style, *CONTROLS], [result, curves, status, files, command, result_path],
        api_name="stylize", concurrency_limit=CONCURRENCY, concurrency_id="gpu",
    )
    stop.click(None, None, None, cancels=[run_event])
    run_event.then(time_note, [size, steps, scales], time_md, show_progress="hidden", queue=False)
    for c in (size, steps, scales):
        c.change(time_note, [size, steps, scales], time_md, show_progress="hidden", queue=False)
    demo.load(time_note, [size, steps, scales], time_md, show_progress="hidden")
    inspect.click(
        inspect_event, [content, style, result_path, layer, mrf_layer],
        [feature_plot, gram_plot, match_plot, match_state, inspect_note, match_image],
        api_name="inspect", concurrency_limit=CONCURRENCY, concurrency_id="gpu",
    )
    match_image.select(pick_patch, match_state, match_plot)


def launch_options(host: str = "127.0.0.1", port: int | None = None) -> dict:
    """Keyword arguments for demo.launch(): local by default, bounded uploads, only our files served."""
    return dict(
        server_name=host, server_port=port, max_file_size=UPLOAD_LIMIT, allowed_paths=[str(EXAMPLES_DIR)],
        theme=gr.themes.Soft(primary_hue="indigo"), css=CSS, show_error=True,
    )


demo.queue(max_size=32, default_concurrency_limit=CONCURRENCY)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="stylelib browser demo")
    parser.add_argument("--host", default=os.environ.get("STYLELIB_HOST", "127.0.0.1"),
                        help="address to bind; 0.0.0.0 shares the app on your network (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("STYLELIB_PORT", "7860")))
    args = parser.parse_args()
    demo.launch(**launch_options(args.host, args.port))
