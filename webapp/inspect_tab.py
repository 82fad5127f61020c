"""The Look inside tab: feature maps, Gram matrices and Li & Wand's match map, through the run's own network."""

from __future__ import annotations

import dataclasses

import gradio as gr
import torch

from stylelib import diagnostics, plots
from stylelib.images import load_image
from stylelib.vgg import get_extractor
from stylelib.options import DEFAULTS
from stylelib.weights import WeightsError

from .common import CONCURRENCY, DEVICE, load_input

INSPECT_SIZE = 256


def inspect_event(content, style, result=None, layer="relu3_1", mrf_layer="relu3_1", arch=DEFAULTS.arch, weights=DEFAULTS.weights,
                  pooling=DEFAULTS.pooling):
    """Feature maps, Gram matrices and the MRF match map for the chosen layers, through the chosen network."""
    c = load_input(content, "content", INSPECT_SIZE, 16)
    s = load_input(style, "style", INSPECT_SIZE, 16)
    r = load_image(result, size=INSPECT_SIZE) if result else c
    r = torch.nn.functional.interpolate(r, size=c.shape[-2:], mode="bilinear", antialias=True).clamp(0, 1)
    try:
        net = get_extractor(tuple(dict.fromkeys((layer, mrf_layer))), arch, weights, pooling, str(DEVICE))
    except (ValueError, WeightsError) as err:
        raise gr.Error(str(err)) from None
    with torch.no_grad():
        feats = {"content": net(c.to(DEVICE)), "style": net(s.to(DEVICE)), "result": net(r.to(DEVICE))}
    feats = {k: {l: v.float().cpu() for l, v in f.items()} for k, f in feats.items()}
    match = diagnostics.match_map(net, r.to(DEVICE), s.to(DEVICE), layer=mrf_layer)
    match = dataclasses.replace(match, index=match.index.cpu(), score=match.score.cpu(), colors=match.colors.cpu())
    rows, cols = match.index.shape
    note = "" if result else " (no result yet: showing the content photo as the result)"
    return (plots.feature_maps(feats, layer), plots.gram_heatmaps(feats, layer),
            plots.match_figure(match, r, s, at=(rows // 2, cols // 2)),
            (match, r, s), f"Through {arch} ({net.weights} weights, {pooling} pooling), as the Stylise tab is set. "
            f"Click a spot on the match map at the bottom to see that patch beside the painting patch it matched.{note}",
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


def build(stylise) -> None:
    gr.Markdown("What the network sees in the photo, the painting and the latest result (at 256 px).")
    with gr.Row():
        layer = gr.Dropdown([l for l in DEFAULTS.style_layers + DEFAULTS.content_layers], value="relu3_1",
                            label="Layer for feature maps and Gram matrices")
        mrf_layer = gr.Dropdown(["relu2_1", "relu3_1", "relu4_1"], value="relu3_1", label="Layer for the MRF match map")
        inspect = gr.Button("Look inside", variant="primary")
    inspect_note = gr.Markdown()
    # the figures carry their own titles; a panel label on top would cover them
    gr.Markdown("#### Feature maps")
    feature_plot = gr.Plot(show_label=False)
    gr.Markdown("#### Gram matrices (G/M, first 48 channels) and the result's distance to the painting's")
    gram_plot = gr.Plot(show_label=False)
    gr.Markdown("#### MRF: which painting patch each result patch matches (Li & Wand)")
    match_plot = gr.Plot(show_label=False)
    with gr.Row():
        match_image = gr.Image(label="Match map: click a spot to see its patch and the painting patch it matched",
                               interactive=False, height=300)
    match_state = gr.State(None)
    from .stylise import CONTROLS

    inspect.click(
        inspect_event, inputs=None,
        inputs_kwargs=dict(content=stylise.content, style=stylise.style, result=stylise.result_path, layer=layer,
                           mrf_layer=mrf_layer, arch=CONTROLS["arch"], weights=CONTROLS["weights"],
                           pooling=CONTROLS["pooling"]),
        outputs=[feature_plot, gram_plot, match_plot, match_state, inspect_note, match_image],
        api_name="inspect", concurrency_limit=CONCURRENCY, concurrency_id="gpu",
    )
    match_image.select(pick_patch, match_state, match_plot, api_name=False)
