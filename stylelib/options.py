"""Every knob of :func:`stylelib.stylize`, with its default, in one place.

The CLI builds its flags from these fields and the app its controls, so a
default changes here and nowhere else. Each field's ``metadata`` carries its
help text and, for choices, the same tuple the code checks against.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .color import PRESERVE_COLOR
from .objective import NORMALIZE
from .vgg import ARCHS, POOLINGS, check_choice, check_layers, min_side
from .weights import WEIGHTS

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise", "style")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_LOSSES = ("gram", "mrf", "both")


def option(default: Any, help: str, choices: tuple | None = None, *, elem: type | None = None, or_path: bool = False) -> Any:
    """A field with its help text, allowed values and element type (for the CLI and the app)."""
    sample = default[0] if isinstance(default, tuple) and default else default
    meta = {"help": help, "choices": choices, "type": elem or sample.__class__, "or_path": or_path}
    if isinstance(default, (list, tuple, dict)):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)



@dataclass(kw_only=True)
class Options:
    """Options of Gatys-style optimisation; see :mod:`stylelib.objective` for the loss."""

    size: int = option(384, "longest side of the result in pixels")
    steps: int = option(100, "optimiser iterations (per scale when scales > 1)")
    content_weight: float = option(1.0, "α, weight of the content error E_c")
    style_weight: float = option(20.0, "β, weight of the style error Σ w_l E_s^l")
    tv_weight: float = option(5.0, "γ, weight of total variation (smoothness)")
    content_layers: tuple = option(("relu4_2",), "layers whose features the result keeps from the photo")
    style_layers: tuple = option(STYLE_LAYERS, "layers whose Gram matrices the result takes from the painting")
    style_layer_weights: tuple | None = option(None, "w_l for each style layer (default: 1/L each)", elem=float)
    style_loss: str = option("gram", "style statistic: Gram matrices (Gatys), patches (Li & Wand's MRF), or both",
                           STYLE_LOSSES)
    mrf_weight: float = option(2.5, "weight of the MRF style error (style_loss mrf or both)")
    mrf_layers: tuple = option(("relu3_1", "relu4_1"), "layers whose k x k patches are matched (MRF)")
    mrf_patch_size: int = option(3, "k, the side of an MRF patch in feature positions")
    mrf_stride: int = option(1, "stride between the result's MRF patches")
    mrf_style_stride: int = option(2, "stride between the painting's MRF patches (2: a quarter as many)")
    mrf_rotations: tuple = option((0.0,), "also match patches of the painting rotated by these angles (degrees)")
    mrf_scales: tuple = option((1.0,), "also match patches of the painting scaled by these factors")
    optimizer: str = option("lbfgs", "optimiser", OPTIMIZERS)
    lr: float | None = option(None, "step size (default: 1 for lbfgs with line search, 0.02 for adam)", elem=float)
    init: str = option("content", "starting image", INITS)
    arch: str = option("vgg19", "network: vgg19 (Gatys et al.) or vgg16 (the blog)", ARCHS)
    weights: str = option("auto", "VGG weights: a name or a file path", WEIGHTS, or_path=True)
    pooling: str = option("max", "pooling layers (Gatys et al. used avg)", POOLINGS)
    normalize: str = option("target", "scale each term by its target's size, or keep the seed's raw sum", NORMALIZE)
    style_scale: float = option(1.0, "size of the painting relative to the result (bigger = larger brush strokes)")
    style_blend: tuple | None = option(None, "weights of several style images (default: equal)", elem=float)
    style_masks: tuple | None = option(None, "one mask image per style: white where that painting goes, black "
                                       "where none does (spatial control; Gram loss only)", elem=str)
    preserve_color: str = option("none", "keep the photo's colours", PRESERVE_COLOR)
    scales: int = option(1, "coarse-to-fine: optimise at this many sizes, each twice the last")
    seed: int = option(0, "random seed (noise init, random weights)")
    device: str = option("auto", "where to run", DEVICES)
    precision: str = option("auto", "arithmetic of the network (auto: bf16 where fast, else fp32)", PRECISIONS)
    preview_every: int = option(10, "yield the current image every this many steps (0: only at the end)")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.metadata["choices"] and not f.metadata["or_path"]:
                check_choice(f.name, getattr(self, f.name), f.metadata["choices"])
        for name in ("content_layers", "style_layers", "mrf_layers", "mrf_rotations", "mrf_scales"):
            setattr(self, name, tuple(getattr(self, name)))
        check_layers(self.layers, self.arch)
        if not self.content_layers:
            raise ValueError("need at least one content layer")
        if self.style_loss in ("gram", "both") and not self.style_layers:
            raise ValueError(f"style_loss={self.style_loss!r} needs at least one style layer")
        if self.style_loss in ("mrf", "both") and not self.mrf_layers:
            raise ValueError(f"style_loss={self.style_loss!r} needs at least one MRF layer")
        if not self.mrf_scales or min(self.mrf_scales) <= 0:
            raise ValueError(f"mrf_scales must be positive; got {self.mrf_scales}")
        if self.style_layer_weights is not None:
            self.style_layer_weights = tuple(float(w) for w in self.style_layer_weights)
            if len(self.style_layer_weights) != len(self.style_layers):
                raise ValueError(
                    f"{len(self.style_layers)} style layers but {len(self.style_layer_weights)} style layer weights"
                )
        if self.style_blend is not None:
            self.style_blend = tuple(float(w) for w in self.style_blend)
        if self.style_masks is not None:
            self.style_masks = tuple(self.style_masks)
            if self.style_loss != "gram":
                raise ValueError(f"style_masks work with style_loss='gram' only; got {self.style_loss!r}")
        for name in ("size", "steps", "scales", "mrf_patch_size", "mrf_stride", "mrf_style_stride"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1; got {getattr(self, name)}")
        for name in ("content_weight", "style_weight", "tv_weight", "style_scale", "mrf_weight"):
            if not float(getattr(self, name)) >= 0:
                raise ValueError(f"{name} must be >= 0; got {getattr(self, name)}")
        if self.style_scale <= 0:
            raise ValueError(f"style_scale must be > 0; got {self.style_scale}")
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr}")
        if not self.layers and not self.tv_weight:
            raise ValueError("content_weight, style_weight (or mrf_weight) and tv_weight are all 0: nothing to optimise")
        need = self.min_side()
        coarsest = self.size // 2 ** (self.scales - 1)
        if coarsest < need:
            raise ValueError(
                f"size {self.size} with scales={self.scales} starts at {coarsest} px, too small for "
                f"the chosen layers (they need at least {need} px per side)"
            )

    # A term whose weight is 0 is not computed at all: a content-only
    # reconstruction at relu1_2 then runs two conv layers, not the network.
    @property
    def active_content_layers(self) -> tuple:
        """Content layers in use (none when content_weight is 0)."""
        return self.content_layers if self.content_weight > 0 else ()

    @property
    def gram_layers(self) -> tuple:
        """Style layers of the Gram loss in use (none for style_loss "mrf" or style_weight 0)."""
        return self.style_layers if self.style_loss in ("gram", "both") and self.style_weight > 0 else ()

    @property
    def patch_layers(self) -> tuple:
        """Layers of the MRF loss in use (none for style_loss "gram" or mrf_weight 0)."""
        return self.mrf_layers if self.style_loss in ("mrf", "both") and self.mrf_weight > 0 else ()

    @property
    def layers(self) -> tuple:
        """Every VGG layer this configuration reads, in order, once."""
        return tuple(dict.fromkeys(self.active_content_layers + self.gram_layers + self.patch_layers))

    def min_side(self) -> int:
        """Smallest image side that still gives every layer a feature map (and MRF a patch)."""
        need = min_side(self.layers) if self.layers else 1
        if self.patch_layers:
            need = max(need, self.mrf_patch_size * min_side(self.patch_layers))
        return need

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}
        if self.style_masks is not None:  # masks given as tensors or PIL images have no name to record
            out["style_masks"] = [m if isinstance(m, str) else "<in-memory image>" for m in self.style_masks]
        return out


DEFAULTS = Options()
