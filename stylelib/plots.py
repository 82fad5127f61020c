"""Matplotlib figures shared by the lessons and the app: loss curves, feature maps, Gram matrices.

Figures are returned, never shown or saved: the caller decides.
"""

from __future__ import annotations

from typing import Sequence

import torch
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure  # not pyplot: figures are made in the app's worker threads
from matplotlib.patches import Rectangle

from .diagnostics import MatchMap, feature_grid, gram_per_position

# One colour per term, stable across plots: content, five style layers, MRF layers, TV.
_COLORS = {
    "content": "#222222", "tv": "#999999",
    "style:relu1_1": "#1f77b4", "style:relu2_1": "#2ca02c", "style:relu3_1": "#ff7f0e",
    "style:relu4_1": "#d62728", "style:relu5_1": "#9467bd",
    "mrf:relu3_1": "#e377c2", "mrf:relu4_1": "#8c564b",
}


def show_images(images: Sequence[torch.Tensor], titles: Sequence[str], *, height: float = 3.2) -> Figure:
    """(1, 3, H, W) tensors side by side with titles."""
    widths = [im.shape[-1] / im.shape[-2] for im in images]
    fig = Figure(figsize=(height * sum(widths) + 0.3 * len(images), height + 0.4))
    axes = fig.subplots(1, len(images), gridspec_kw={"width_ratios": widths}, squeeze=False)
    for ax, im, title in zip(axes[0], images, titles):
        ax.imshow(im[0].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy())
        ax.set_title(title)
        ax.axis("off")
    fig.tight_layout()
    return fig


def loss_curves(history: dict[str, list[tuple[int, float]]], *, title: str = "Loss terms (weighted, as optimised)") -> Figure:
    """One line per term on a log axis: ``history[term] = [(step, value), ...]``."""
    fig = Figure(figsize=(7.4, 3.6))
    ax = fig.subplots()
    for term, points in history.items():
        if not points:
            continue
        steps, values = zip(*points)
        ax.plot(steps, [max(v, 1e-8) for v in values], label=term.replace("style:", "E_s ").replace("mrf:", "MRF "),
                color=_COLORS.get(term), linewidth=2 if term == "content" else 1.5)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss term")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def feature_maps(features: dict[str, torch.Tensor], layer: str, *, count: int = 16) -> Figure:
    """The first ``count`` maps of ``layer`` for each named image, one panel each."""
    fig = Figure(figsize=(4.2 * len(features), 4.4))
    axes = fig.subplots(1, len(features), squeeze=False)
    for ax, (name, feats) in zip(axes[0], features.items()):
        ax.imshow(feature_grid(feats[layer], count).numpy(), cmap="magma")
        ax.set_title(f"{name}: {layer}, maps 0-{count - 1}")
        ax.axis("off")
    fig.tight_layout()
    return fig


def gram_heatmaps(features: dict[str, torch.Tensor], layer: str, *, channels: int = 48) -> Figure:
    """G/M of the first ``channels`` maps for each image, plus |result − style| when both exist."""
    grams = {name: gram_per_position(f[layer], channels) for name, f in features.items()}
    if "result" in grams and "style" in grams:
        grams["|result − style|"] = (grams["result"] - grams["style"]).abs()
    vmax = max(g.max().item() for name, g in grams.items() if not name.startswith("|"))
    fig = Figure(figsize=(3.6 * len(grams), 4.0))
    axes = fig.subplots(1, len(grams), squeeze=False)
    for i, (ax, (name, g)) in enumerate(zip(axes[0], grams.items())):
        # square-root colours: a few large diagonal entries would otherwise hide the rest
        im = ax.imshow(g.numpy(), cmap="viridis", norm=PowerNorm(0.5, vmin=0, vmax=vmax))
        ax.set_title(f"{name}\nGram/M, {layer}")
        ax.set_xlabel("channel j")
        if i == 0:
            ax.set_ylabel("channel i")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    return fig


def match_figure(match: MatchMap, result: torch.Tensor, style: torch.Tensor, at: tuple[int, int] | None = None) -> Figure:
    """The MRF match map beside its colour key and, for grid position ``at``, the two patches."""
    ncols = 4 if at is not None else 2
    fig = Figure(figsize=(3.8 * ncols, 4.0))
    axes = fig.subplots(1, ncols, squeeze=False)
    axes = axes[0]
    axes[0].imshow(match.colors.numpy())
    axes[0].set_title(f"result: where each patch came from\n({match.layer}, mean NCC {match.score.mean():.2f})")
    axes[1].imshow(match.style_colors.numpy())
    axes[1].set_title("key: positions in the painting")
    if at is not None:
        row, col = at
        srow, scol = match.source(row, col)
        for ax, image, (r, c), name in [(axes[2], result, (row, col), "result"), (axes[3], style, (srow, scol), "painting")]:
            t, l, b, rr = match.pixel_box(r, c)
            pad = b - t  # show the patch in its surroundings, outlined
            h, w = image.shape[-2:]
            t0, l0 = max(0, t - pad), max(0, l - pad)
            ax.imshow(image[0, :, t0 : min(h, b + pad), l0 : min(w, rr + pad)].float().clamp(0, 1).permute(1, 2, 0).numpy())
            ax.add_patch(Rectangle((l - l0 - 0.5, t - t0 - 0.5), rr - l, b - t, fill=False, edgecolor="white", linewidth=2))
            ax.set_title(f"{name} patch at grid ({r}, {c})")
        axes[0].plot([col + 1], [row + 1], "w+", markersize=14, markeredgewidth=2)
        axes[1].plot([scol + 1], [srow + 1], "w+", markersize=14, markeredgewidth=2)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
