"""The seed's losses as plain batched functions (lessons 02-05).

Gatys, Ecker & Bethge (2015), "A Neural Algorithm of Artistic Style";
Mahendran & Vedaldi (2015) for total variation. Notation as in the paper:
a layer l has N_l feature maps of M_l = H_l * W_l positions; F is the
generated image's feature matrix (N_l x M_l), P the content photo's, G = F Fᵀ
and A the painting's Gram matrices.

Every function takes a batch and returns one value per image, shape (B,).
They compute the equations as written, in whatever dtype they get;
:mod:`stylelib.objective` decides how the terms are weighted and scaled.

Gram normalisations differ between tools, and the constant sets what a
"good" α/β is. With G = F Fᵀ:

====================  ==========================  ==========================
tool                  Gram                        style loss
====================  ==========================  ==========================
Gatys et al., seed    F Fᵀ                        Σ (G-A)² / (4 N² M²)
PyTorch tutorial      F Fᵀ / (B·N·M)              mean (G-A)²  (÷ N²)
neural-style (Lua)    F Fᵀ / (N·M)                mean (G-A)²  (÷ N²)
crowsonkb             F Fᵀ / M                    MSE scaled by its gradient
Keras example         F Fᵀ (3 channels assumed)   Σ (G-A)² / (4·3²·M²)
====================  ==========================  ==========================
"""

from __future__ import annotations

import torch


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """G = F Fᵀ: inner products between feature maps, summed over positions.

    ``features`` is (B, N, H, W); returns (B, N, N). Unnormalised, as in
    Gatys et al. eq. (3): G_ij = Σ_k F_ik F_jk. (Other tools divide by M, N·M
    or B·N·M; see the module table.)
    """
    f = features.flatten(2)  # (B, N, M)
    return f @ f.transpose(1, 2)  # (B, N, N)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """E_c = ½ Σ_ij (F_ij - P_ij)², Gatys et al. eq. (1).

    ``features`` and ``target`` are (B, N, H, W) (``target`` may have B=1 and
    broadcasts). Returns (B,). No normalisation, as in the paper: the value
    grows with N·M, so a given α means less at a larger image (the PyTorch
    tutorial uses the mean instead, which is size-independent).
    """
    return 0.5 * (features - target).pow(2).flatten(1).sum(1)  # (B,)


def style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """E_s = 1/(4 N² M²) Σ_ij (G_ij - A_ij)², Gatys et al. eq. (4).

    ``features`` is (B, N, H, W); ``target_gram`` is A, (B or 1, N, N),
    computed over the same number of positions M as ``features`` (Gatys et
    al. used equal sizes; :class:`stylelib.objective.Objective` rescales A when
    the painting has another size). Returns (B,). The 4 N² M² makes E_s the
    squared error of the per-position Gram G/M, divided by 4 N².
    """
    n, m = features.shape[1], features.shape[2] * features.shape[3]
    g = gram_matrix(features)  # (B, N, N)
    return (g - target_gram).pow(2).sum((1, 2)) / (4 * n**2 * m**2)  # (B,)


def guided_style_loss(features: torch.Tensor, mask: torch.Tensor, gram_per_position: torch.Tensor) -> torch.Tensor:
    """Style error of one region: E_s^r = 1/(4 N² M²) Σ_ij (G^r_ij - A^r_ij)².

    Gatys, Ecker, Bethge, Hertzmann & Shechtman (2017), "Controlling
    Perceptual Factors in Neural Style Transfer", spatial control with
    guided Gram matrices: G^r = (F ∘ m_r)(F ∘ m_r)ᵀ, the Gram matrix of the
    features weighted by the region's mask m_r (values in [0, 1], resized
    to the layer). The target is the painting's per-position Gram A/M_s
    times Σ m_r², the number of positions the region holds, so that G^r and
    A^r sum over the same amount. M is still H·W of the whole layer (as in
    :func:`style_loss`); with m_r = 1 everywhere this is :func:`style_loss`.

    ``features`` (B, N, H, W); ``mask`` (1 or B, 1, H, W); ``gram_per_position``
    A/M_s, (1 or B, N, N). Returns (B,).
    """
    area = mask.pow(2).flatten(1).sum(1)[:, None, None]  # (B or 1, 1, 1): Σ m²
    return style_loss(features * mask, gram_per_position * area)  # (B,)


def total_loss(
    content: torch.Tensor,
    styles: list[torch.Tensor],
    *,
    alpha: float,
    beta: float,
    layer_weights: list[float] | None = None,
) -> torch.Tensor:
    """L_total = α E_c + β Σ_l w_l E_s^l, Gatys et al. eq. (7).

    ``content`` is E_c, (B,); ``styles`` holds E_s^l for each style layer,
    each (B,); ``layer_weights`` are the w_l (default 1/L each, the paper's
    choice for its five layers).
    """
    if layer_weights is None:
        layer_weights = [1.0 / len(styles)] * len(styles)
    if len(layer_weights) != len(styles):
        raise ValueError(f"{len(styles)} style layers but {len(layer_weights)} layer weights")
    style = sum(w * e for w, e in zip(layer_weights, styles))
    return alpha * content + beta * style  # (B,)


def tv_loss(images: torch.Tensor) -> torch.Tensor:
    """Total variation Σ_ij (x_i,j+1 - x_ij)² + (x_i+1,j - x_ij)², summed over channels.

    Mahendran & Vedaldi's (2015) V^β with β = 2, on (B, C, H, W) images in
    [0, 1]; returns (B,). It penalises differences between neighbours, so it
    removes high-frequency noise. Other tools use the mean instead of the sum
    (pystiche), β = 1 (absolute values) or the root of the sum (Johnson et
    al.'s Torch code); Gatys et al. had no such term.
    """
    dx = images[..., :, 1:] - images[..., :, :-1]  # (B, C, H, W-1)
    dy = images[..., 1:, :] - images[..., :-1, :]  # (B, C, H-1, W)
    return dx.pow(2).flatten(1).sum(1) + dy.pow(2).flatten(1).sum(1)  # (B,)
