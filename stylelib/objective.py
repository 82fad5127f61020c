"""The total loss the optimiser minimises: targets, weights and scaling.

Gatys et al. minimise L = α E_c + β Σ_l w_l E_s^l (eq. 7), plus a total
variation term γ TV (Mahendran & Vedaldi; not in the paper). With the Caffe
VGG-19 (0-255 inputs) the raw terms reach 1e9-1e12, differ by orders of
magnitude between layers, and E_c grows with the image area while E_s does
not, so one α/β cannot suit every image size. Gatys et al. avoided some of
this by rescaling their network's weights so every filter's mean activation
is 1; our Caffe weights are the unscaled originals.

``normalize="target"`` (the default) divides each term by its target's own
size, so each is a relative error that is 1 for an all-zero feature map and
0 at the target::

    L = α E_c / E_c(0) + β Σ_l w_l E_s^l / E_s^l(0) + γ TV / (3 H W)

    E_c(0)   = ½ Σ P²                 (content error of zero features)
    E_s^l(0) = Σ A² / (4 N² M²)        (style error of a zero Gram matrix)

The same α, β, γ then work for any image size, layer and weights file.
``normalize="none"`` keeps the seed's raw sum (for the lessons) and only
divides the whole of it by its value at the first step: a positive constant
does not move the minimum, but keeps L-BFGS's steps sane.

A painting of another size than the generated image has another M, so its
Gram matrix sums over another number of positions. We keep A per position
(A/M_style) and multiply by the generated image's M, which is the seed's
equation exactly when the sizes are equal.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Sequence

import torch
from torch import nn

from .losses import content_loss, gram_matrix, guided_style_loss, style_loss, tv_loss
from .mrf import augment, extract_patches, match_patches, mrf_loss, patch_grid
from .vgg import VGGFeatures

NORMALIZE = ("target", "none")


def content_scale(target: torch.Tensor) -> torch.Tensor:
    """E_c of all-zero features, ½ Σ P², per image: (B, N, H, W) -> (B,)."""
    return 0.5 * target.pow(2).flatten(1).sum(1)


def style_scale(gram_per_position: torch.Tensor) -> torch.Tensor:
    """E_s of an all-zero Gram matrix, Σ A² / (4 N² M²), from A / M: (B, N, N) -> (B,)."""
    return gram_per_position.pow(2).sum((1, 2)) / (4 * gram_per_position.shape[1] ** 2)


class Objective(nn.Module):
    """Holds P, A and the weights; ``forward(image)`` returns (loss, terms, raw).

    ``terms`` are the weighted, scaled parts that sum to ``loss``; ``raw`` are
    the seed's unweighted E_c, E_s^l and TV, for plots and recipes.
    """

    def __init__(
        self,
        extractor: VGGFeatures,
        content: torch.Tensor,
        styles: Sequence[torch.Tensor],
        *,
        content_layers: Sequence[str],
        style_layers: Sequence[str],
        style_layer_weights: Sequence[float] | None = None,
        style_blend: Sequence[float] | None = None,
        style_masks: Sequence[torch.Tensor] | None = None,
        content_weight: float = 1.0,
        style_weight: float = 1.0,
        tv_weight: float = 0.0,
        normalize: str = "target",
        autocast_dtype: torch.dtype | None = None,
        mrf_layers: Sequence[str] = (),
        mrf_weight: float = 0.0,
        mrf_patch_size: int = 3,
        mrf_stride: int = 1,
        mrf_style_stride: int = 1,
        mrf_rotations: Sequence[float] = (0.0,),
        mrf_scales: Sequence[float] = (1.0,),
    ) -> None:
        super().__init__()
        if normalize not in NORMALIZE:
            raise ValueError(f"normalize must be one of {', '.join(NORMALIZE)}; got {normalize!r}")
        if style_layer_weights is None:
            style_layer_weights = [1.0 / len(style_layers)] * len(style_layers) if style_layers else []
        if len(style_layer_weights) != len(style_layers):
            raise ValueError(f"{len(style_layers)} style layers but {len(style_layer_weights)} style layer weights")
        if style_blend is None:
            style_blend = [1.0 / len(styles)] * len(styles)
        if len(style_blend) != len(styles) or sum(style_blend) <= 0:
            raise ValueError(f"{len(styles)} style images need as many positive blend weights; got {list(style_blend)}")
        if style_masks is not None and len(style_masks) != len(styles):
            raise ValueError(f"{len(styles)} style images need as many style masks; got {len(style_masks)}")
        self.extractor = extractor
        self.content_layers, self.style_layers = tuple(content_layers), tuple(style_layers)
        self.layer_weights = dict(zip(self.style_layers, map(float, style_layer_weights)))
        self.alpha, self.beta, self.gamma = float(content_weight), float(style_weight), float(tv_weight)
        self.normalize = normalize
        self.autocast_dtype = autocast_dtype
        self.scale: float | None = None  # "none": 1 / the first loss
        self.mrf_layers, self.mrf_weight, self.mrf_stride = tuple(mrf_layers), float(mrf_weight), mrf_stride
        # Matching is redone at every evaluation unless the optimiser freezes it
        # (see ``freeze_matches``); frozen matches are kept here.
        self.freeze_matches, self.rematch = False, True
        self.matches: dict[str, torch.Tensor] = {}

        with torch.no_grad():
            feats = self.features(content)
            self.targets = {l: feats[l].detach() for l in self.content_layers}  # P, (1, N, H, W)
            blend = [b / sum(style_blend) for b in style_blend]
            grams = {l: 0.0 for l in self.style_layers}
            per_style = {l: [] for l in self.style_layers}
            for b, style in zip(blend, styles):
                sf = self.features(style)
                for l in self.style_layers:
                    f = sf[l]
                    per_style[l].append(gram_matrix(f) / (f.shape[2] * f.shape[3]))  # (1, N, N) per position
                    grams[l] = grams[l] + b * per_style[l][-1]
            self.grams = grams
            # Spatial control: per layer, (mask, A/M_s, weight, E_s(0)) for each region.
            self.regions: dict[str, list[tuple]] = {}
            for l in self.style_layers if style_masks is not None else []:
                h, w = feats[l].shape[-2:]  # the extractor returns every layer it was built for
                self.regions[l] = []
                for b, mask, a in zip(blend, style_masks, per_style[l]):
                    m = torch.nn.functional.interpolate(mask.to(a), size=(h, w), mode="area")  # (1, 1, h, w)
                    share = m.mean().item() * b * len(styles)  # the region's area; equal blend -> 1 each
                    e0 = style_scale(a).item() * (m.pow(2).sum().item() / (h * w)) ** 2
                    if e0 > 0:  # a region too small to survive this layer's pooling has no term here
                        self.regions[l].append((m, a, share, e0))
            # Li & Wand's style patches, from every style image and its rotated/scaled copies.
            patches: dict[str, list[torch.Tensor]] = {l: [] for l in self.mrf_layers}
            for style in styles if self.mrf_layers else []:
                for image in augment(style, tuple(mrf_rotations), tuple(mrf_scales)):
                    sf = self.features(image)
                    for l in self.mrf_layers:
                        if min(sf[l].shape[-2:]) >= mrf_patch_size:  # a small rotated copy may have none
                            patches[l].append(extract_patches(sf[l], mrf_patch_size, mrf_style_stride)[0])
            for l, p in patches.items():
                if not p:
                    raise ValueError(f"the style image is too small for {mrf_patch_size}x{mrf_patch_size} MRF "
                                     f"patches at {l}; raise size or style_scale")
            self.patches = {l: torch.cat(p) for l, p in patches.items()}  # (P, C, k, k)
            # Term sizes for normalize="target": errors of all-zero features.
            self.content_norm = {l: content_scale(p).sum().item() for l, p in self.targets.items()}
            self.style_norm = {l: style_scale(a).sum().item() for l, a in grams.items()}
            self.mrf_norm = {l: p.pow(2).flatten(1).sum(1).mean().item() for l, p in self.patches.items()}

    def features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """VGG features in float32 (the network itself may run in bf16/fp16)."""
        if not (self.content_layers or self.style_layers or self.mrf_layers):
            return {}  # only TV is left: no network needed
        ctx = (
            torch.autocast(image.device.type, dtype=self.autocast_dtype)
            if self.autocast_dtype is not None else nullcontext()
        )
        with ctx:
            feats = self.extractor(image)
        return {k: v.float() for k, v in feats.items()}

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        feats = self.features(image)
        raw: dict[str, torch.Tensor] = {}
        terms: dict[str, torch.Tensor] = {}
        target_mode = self.normalize == "target"

        if self.content_layers:
            e_c = [content_loss(feats[l], self.targets[l]).sum() for l in self.content_layers]
            raw["content"] = sum(e_c)
            scaled = [e / self.content_norm[l] for e, l in zip(e_c, self.content_layers)] if target_mode else e_c
            terms["content"] = self.alpha * sum(scaled) / (len(scaled) if target_mode else 1)

        for l in self.style_layers:
            f = feats[l]
            if l in self.regions:
                e_r = [guided_style_loss(f, m, a).sum() for m, a, _, _ in self.regions[l]]
                e_s = sum(e_r, torch.zeros((), device=f.device))
                scaled_s = sum((e * share / e0 for e, (_, _, share, e0) in zip(e_r, self.regions[l])),
                               torch.zeros((), device=f.device)) if target_mode else e_s
            else:
                a = self.grams[l] * (f.shape[2] * f.shape[3])  # A over this image's M positions
                e_s = style_loss(f, a).sum()
                scaled_s = e_s / self.style_norm[l] if target_mode else e_s
            raw[f"style:{l}"] = e_s
            terms[f"style:{l}"] = self.beta * self.layer_weights[l] * scaled_s

        for l in self.mrf_layers:
            f = feats[l]
            if self.rematch or not self.freeze_matches or l not in self.matches:
                self.matches[l] = match_patches(f.detach(), self.patches[l], stride=self.mrf_stride)[0]
            e_m = mrf_loss(f, self.patches[l], stride=self.mrf_stride, index=self.matches[l]).sum()
            raw[f"mrf:{l}"] = e_m
            rows, cols = patch_grid(f.shape[2], f.shape[3], self.patches[l].shape[-1], self.mrf_stride)
            scaled_m = e_m / (rows * cols * self.mrf_norm[l]) if target_mode else e_m
            terms[f"mrf:{l}"] = self.mrf_weight / len(self.mrf_layers) * scaled_m

        self.rematch = False
        if self.gamma:
            tv = tv_loss(image.float()).sum()
            raw["tv"] = tv
            terms["tv"] = self.gamma * (tv / image[0].numel() if target_mode else tv)

        loss = sum(terms.values())
        if not target_mode:
            if self.scale is None:
                self.scale = 1.0 / loss.item() if loss.item() > 0 else 1.0
            loss = loss * self.scale
            terms = {k: v * self.scale for k, v in terms.items()}
        return loss, terms, raw
