"""Every knob of :func:`stylelib.stylize`, with its default, in one place.

The CLI builds its flags from these fields and the app its controls, so a
default changes here and nowhere else. Each field's ``metadata`` carries its
help text and, for choices, the same tuple the code checks against.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .architecture import ARCHS, POOLINGS, check_layers, min_side
from .choices import DEVICES, NORMALIZE, PARAMETRIZATIONS, PRECISION_HELP, PRECISIONS, PRESERVE_COLOR, WEIGHTS
from .validate import SEED_MAX, check_choice, check_fields

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("matched", "content", "noise", "style", "instant", "model")
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_LOSSES = ("gram", "mrf", "both")
# Named recipes for a class: each is a set of the options below ("try *portrait*"). A preset sets
# the options left at their defaults; options given explicitly win.
PRESETS: dict[str, tuple[str, dict]] = {
    "gentle": ("a light touch of the painting: the photo stays in front, in its own colours",
               dict(style_weight=5.0, init="content")),
    "balanced": ("the defaults: Gatys et al.'s balance of photo and painting", dict()),
    "bold": ("the painting takes over: strong style, little smoothing", dict(style_weight=100.0, tv_weight=2.0)),
    "portrait": ("faces: a lighter style and the photo's own colours (the MRF loss kept faces no better at a "
                 "matched strength; lesson 07)", dict(style_weight=8.0, preserve_color="luminance-only")),
    "quick": ("a draft sooner: 80 steps at half size, then 40 at full size",
              dict(scales=2, steps=80, fine_steps=40)),
    "polish": ("the fast model trained on this painting paints the photo in one pass, then 10 steps polish it: "
               "the painting's strength in about 3 s at 384 px (needs a bundled model named after the painting)",
               dict(init="model", steps=10, style_weight=2.0)),
    "sky": ("paint only the sky (the bright blue part of the photo); the rest keeps the photo",
            dict(style_masks=("sky",))),
}
MAX_SIZE = 8192  # px; whether a size fits in memory is checked separately (stylelib.cost)
WEIGHT_MAX = 1e6  # any α, β, γ, w_l past this only overflows


def option(default: Any, help: str, choices: tuple | None = None, *, elem: type | None = None, or_path: bool = False,
           bounds: tuple[float, float] | None = None) -> Any:
    """A field with its help text, allowed values or (low, high) bounds, and element type (for the CLI and the app)."""
    sample = default[0] if isinstance(default, tuple) and default else default
    meta = {"help": help, "choices": choices, "type": elem or sample.__class__, "or_path": or_path, "bounds": bounds}
    if isinstance(default, (list, tuple, dict)):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)



@dataclass(kw_only=True)
class Options:
    """Options of Gatys-style optimisation; see :mod:`stylelib.objective` for the loss."""

    size: int = option(384, "longest side of the result in pixels", bounds=(1, MAX_SIZE))
    steps: int = option(85, "optimiser iterations (per scale when scales > 1)", bounds=(1, 100_000))
    content_weight: float = option(1.0, "α, weight of the content error E_c", bounds=(0, WEIGHT_MAX))
    style_weight: float = option(20.0, "β, weight of the style error Σ w_l E_s^l", bounds=(0, WEIGHT_MAX))
    tv_weight: float = option(5.0, "γ, weight of total variation (smoothness)", bounds=(0, WEIGHT_MAX))
    content_layers: tuple = option(("relu4_2",), "layers whose features the result keeps from the photo")
    style_layers: tuple = option(STYLE_LAYERS, "layers whose Gram matrices the result takes from the painting")
    style_layer_weights: tuple | None = option(None, "w_l for each style layer (default: 1/L each)", elem=float,
                                              bounds=(0, WEIGHT_MAX))
    style_loss: str = option("gram", "style statistic: Gram matrices (Gatys), patches (Li & Wand's MRF), or both",
                           STYLE_LOSSES)
    mrf_weight: float = option(2.5, "weight of the MRF style error (style_loss mrf or both)", bounds=(0, WEIGHT_MAX))
    mrf_layers: tuple = option(("relu3_1", "relu4_1"), "layers whose k x k patches are matched (MRF)")
    mrf_patch_size: int = option(3, "k, the side of an MRF patch in feature positions", bounds=(1, 9))
    mrf_stride: int = option(1, "stride between the result's MRF patches", bounds=(1, 16))
    mrf_style_stride: int = option(2, "stride between the painting's MRF patches (2: a quarter as many)", bounds=(1, 16))
    mrf_rotations: tuple = option((0.0,), "also match patches of the painting rotated by these angles (degrees)",
                                  bounds=(-360, 360))
    mrf_scales: tuple = option((1.0,), "also match patches of the painting scaled by these factors", bounds=(0.1, 4))
    optimizer: str = option("lbfgs", "optimiser", OPTIMIZERS)
    lr: float | None = option(None, "step size (default: 0.02 for adam; for lbfgs 1, with its first step sized to "
                                    "the pixels; a given lr keeps torch's own first step)", elem=float,
                                  bounds=(1e-8, 1e3))
    init: str = option("matched", "starting image: the photo in the painting's colours (matched), the photo "
                                  "(content), white noise, the painting, or the any-painting network's one-pass "
                                  "picture (instant), or a fast model's (model: init_model)", INITS)
    init_model: str | None = option(None, "init model: the fast model to start from, a bundled name or a file "
                                          "(default: the bundled model named after the painting)", elem=str)
    parametrization: str = option("pixels", "what the optimiser changes: the pixels, or a Laplacian pyramid of them",
                                  PARAMETRIZATIONS)
    arch: str = option("vgg19", "network: vgg19 (Gatys et al.) or vgg16 (the blog)", ARCHS)
    weights: str = option("auto", "VGG weights: a name or a file path", WEIGHTS, or_path=True)
    pooling: str = option("max", "pooling layers (Gatys et al. used avg)", POOLINGS)
    normalize: str = option("target", "scale each term by its target's size, or keep the seed's raw sum", NORMALIZE)
    style_scale: float = option(1.0, "size of the painting relative to the result (bigger = larger brush strokes)",
                                bounds=(0.05, 8))
    style_blend: tuple | None = option(None, "weights of several style images (default: equal)", elem=float,
                                      bounds=(0, WEIGHT_MAX))
    style_masks: tuple | None = option(None, "one mask image per style: white where that painting goes, black "
                                       "where none does (spatial control; Gram loss only)", elem=str)
    preserve_color: str = option("none", "keep the photo's colours", PRESERVE_COLOR)
    scales: int = option(1, "coarse-to-fine: optimise at this many sizes, each scale_ratio times the last",
                         bounds=(1, 8))
    scale_ratio: float = option(2.0, "coarse-to-fine: the ratio between successive sizes", bounds=(1.1, 4.0))
    fine_steps: int | None = option(None, "coarse-to-fine: steps at the finest size (default: steps)", elem=int,
                                    bounds=(1, 100_000))
    stop_tol: float = option(0.0, "stop a size early when the loss fell by less than this fraction over the last "
                                  "stop_window steps (0: never)", bounds=(0.0, 0.5))
    stop_window: int = option(10, "steps over which stop_tol is judged", bounds=(2, 1000))
    compile: bool = option(False, "torch.compile the network (the first step of each size compiles: slow)")
    seed: int = option(0, "random seed (noise init, random weights)", bounds=(0, SEED_MAX))
    device: str = option("auto", "where to run", DEVICES)
    precision: str = option("auto", f"arithmetic of the network ({PRECISION_HELP})", PRECISIONS)
    preset: str | None = option(None, "a named recipe: " + ", ".join(PRESETS) + " (explicit options win)",
                                tuple(PRESETS), elem=str)
    preview_every: int = option(10, "yield the current image every this many steps (0: only at the end)",
                                bounds=(0, 100_000))

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.metadata["choices"] and not f.metadata["or_path"] and not (f.name == "preset" and self.preset is None):
                check_choice(f.name, getattr(self, f.name), f.metadata["choices"])
        if self.preset is not None:  # fill in the options still at their defaults
            for name, value in PRESETS[self.preset][1].items():
                if getattr(self, name) == _default(name):
                    setattr(self, name, value)
        for name in ("content_layers", "style_layers", "mrf_layers", "mrf_rotations", "mrf_scales"):
            setattr(self, name, tuple(getattr(self, name)))
        check_fields(self)  # every number finite and within its field's bounds
        if self.init_model is not None and self.init != "model":
            raise ValueError(f"init_model is read only with init='model'; got init={self.init!r}")
        check_layers(self.layers, self.arch)
        if not self.content_layers:
            raise ValueError("need at least one content layer")
        if self.style_loss in ("gram", "both") and not self.style_layers:
            raise ValueError(f"style_loss={self.style_loss!r} needs at least one style layer")
        if self.style_loss in ("mrf", "both") and not self.mrf_layers:
            raise ValueError(f"style_loss={self.style_loss!r} needs at least one MRF layer")
        if not self.mrf_scales:
            raise ValueError("mrf_scales needs at least one factor (1 = the painting as it is)")
        if self.style_layer_weights is not None:
            if len(self.style_layer_weights) != len(self.style_layers):
                raise ValueError(
                    f"{len(self.style_layers)} style layers but {len(self.style_layer_weights)} style layer weights"
                )
            if self.style_loss != "mrf" and self.style_weight > 0 and not sum(self.style_layer_weights) > 0:
                raise ValueError("all style layer weights are 0: give at least one layer a weight")
        if self.style_blend is not None and not sum(self.style_blend) > 0:
            raise ValueError(f"style_blend needs a positive weight; got {list(self.style_blend)}")
        if self.style_masks is not None:
            self.style_masks = tuple(self.style_masks)
            if self.style_loss != "gram":
                raise ValueError(f"style_masks work with style_loss='gram' only; got {self.style_loss!r}")
        if not self.layers and not self.tv_weight:
            raise ValueError("content_weight, style_weight (or mrf_weight) and tv_weight are all 0: nothing to optimise")
        need = self.min_side()
        coarsest = int(self.size / self.scale_ratio ** (self.scales - 1))
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

    def levels(self) -> list[tuple[int, int]]:
        """Coarse-to-fine: (longest side, steps) of each size, the coarsest first."""
        sizes = [max(1, round(self.size / self.scale_ratio ** (self.scales - 1 - k))) for k in range(self.scales)]
        steps = [self.steps] * (self.scales - 1) + [self.fine_steps or self.steps]
        return list(zip(sizes, steps))

    @property
    def total_steps(self) -> int:
        return sum(steps for _, steps in self.levels())

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


def _default(name: str) -> Any:
    f = next(f for f in dataclasses.fields(Options) if f.name == name)
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


DEFAULTS = Options()


def polish_options(model: str, *, steps: int | None = None, style_weight: float | None = None, **fields) -> Options:
    """The polish preset from ``model``'s picture, with ``steps`` and ``style_weight`` when given (any value wins,
    even one equal to a default, unlike ``Options(preset=...)``)."""
    chosen = {k: v for k, v in dict(steps=steps, style_weight=style_weight).items() if v is not None}
    return Options(**{**PRESETS["polish"][1], **chosen}, init_model=str(model), **fields)
