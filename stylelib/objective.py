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
With several content layers, α weighs the mean of their errors, in both
modes (one layer: E_c itself).
``normalize="none"`` keeps the seed's raw sum (for the lessons) and only
divides the whole of it by its value at the first step: a positive constant
does not move the minimum, but keeps L-BFGS's steps sane.

A painting of another size than the generated image has another M, so its
Gram matrix sums over another number of positions. We keep A per position
(A/M_style) and multiply by the generated image's M, which is the seed's
equation exactly when the sizes are equal.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .choices import NORMALIZE
from .losses import (content_loss, content_scale, gram_per_position, guided_style_loss, loss_terms, style_loss,
                     style_scale, tv_loss)
from .mrf import augment, extract_patches, match_patches, mrf_loss, patch_grid
from .vgg import VGGFeatures


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
        self.scale: float | None = None  # "none": 1 / the first loss
        self.mrf_layers, self.mrf_weight, self.mrf_stride = tuple(mrf_layers), float(mrf_weight), mrf_stride
        # Matching is redone at every evaluation unless the optimiser freezes it
        # (see ``freeze_matches``); frozen matches are kept here.
        self.freeze_matches, self.rematch = False, True
        self.matches: dict[str, torch.Tensor] = {}

        with torch.no_grad():
            feats = self.features(content)
            self.targets = {l: feats[l].float() for l in self.content_layers}  # P, (1, N, H, W)
            blend = [b / sum(style_blend) for b in style_blend]
            grams = {l: 0.0 for l in self.style_layers}
            per_style = {l: [] for l in self.style_layers}
            for b, style in zip(blend, styles):
                sf = self.features(style)
                for l in self.style_layers:
                    per_style[l].append(gram_per_position(sf[l]))  # Â = A / M, (1, N, N)
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
                            patches[l].append(extract_patches(sf[l].float(), mrf_patch_size, mrf_style_stride)[0])
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
        """VGG features in the extractor's own arithmetic (bf16 where it was cast; see get_extractor)."""
        if not (self.content_layers or self.style_layers or self.mrf_layers):
            return {}  # only TV is left: no network needed
        return self.extractor(image)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        feats = self.features(image)
        raw: dict[str, torch.Tensor] = {}
        target_mode = self.normalize == "target"
        zero = torch.zeros((), device=image.device)

        # The seed's unweighted errors, each one value (batch of one).
        e_c = [content_loss(feats[l], self.targets[l]).sum() for l in self.content_layers]
        if e_c:
            raw["content"] = sum(e_c)
        e_s, style_norms = [], []
        for l in self.style_layers:
            f = feats[l]
            if l in self.regions:  # guided Gram matrices: each region its own painting, weighted by its share
                e_r = [guided_style_loss(f, m.to(f.dtype), a).sum() for m, a, _, _ in self.regions[l]]
                raw[f"style:{l}"] = sum(e_r, zero)
                e_s.append(sum((e * share / e0 for e, (_, _, share, e0) in zip(e_r, self.regions[l])), zero)
                           if target_mode else raw[f"style:{l}"])
                style_norms.append(1.0)
            else:
                a = self.grams[l] * (f.shape[2] * f.shape[3])  # Â over this image's M positions
                raw[f"style:{l}"] = style_loss(f, a).sum()
                e_s.append(raw[f"style:{l}"])
                style_norms.append(self.style_norm[l] if target_mode else 1.0)

        # The weighted terms through the same function the lessons check (losses.total_loss): α on the mean of
        # the content layers' errors (one layer: E_c itself), β w_l on each style layer's, in both modes.
        n_c = len(e_c) or 1
        content = (sum(e / self.content_norm[l] for e, l in zip(e_c, self.content_layers)) if target_mode
                   else sum(e_c)) / n_c if e_c else None
        parts = loss_terms(content, e_s, alpha=self.alpha, beta=self.beta,
                           layer_weights=[self.layer_weights[l] for l in self.style_layers],
                           style_norms=style_norms)
        terms = {("content" if k == "content" else f"style:{self.style_layers[int(k[6:])]}"): v
                 for k, v in parts.items()}

        for l in self.mrf_layers:
            f = feats[l].float()  # the NCC matching is done in float32
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
