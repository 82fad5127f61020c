"""The seed's losses as plain batched functions (lessons 02-05).

Gatys, Ecker & Bethge (2015), "A Neural Algorithm of Artistic Style";
Mahendran & Vedaldi (2015) for total variation. Notation as in the paper:
a layer l has N_l feature maps of M_l = H_l * W_l positions; F is the
generated image's feature matrix (N_l x M_l), P the content photo's, G = F Fᵀ
and A the painting's Gram matrices.

Every function takes a batch and returns one value per image, shape (B,).
They compute the equations as written: products (the Gram matrix) in the
features' own dtype (bf16 on fast hardware), differences and sums in at
least float32 (float64 stays float64), so the error of a nearly matched
statistic is not lost to rounding. :mod:`stylelib.objective` decides how
the terms are weighted and scaled.

Gram normalisations differ between tools, and the constant sets what a
"good" α/β is. With G = F Fᵀ, r = (the tool's style loss) / E_s for the same
features, so the same picture needs β / r (lesson 03); k is the number of
poolings before the layer (M = H·W / 4^k for an H x W input):

==================  =================  ===============================  ==============
tool                Gram               style loss                       r
==================  =================  ===============================  ==============
Gatys et al., seed  F Fᵀ               Σ (G-A)² / (4 N² M²)             1
PyTorch tutorial    F Fᵀ / (B·N·M)     mean (G-A)²  (÷ N²)              4 / N²
neural-style (Lua)  F Fᵀ / (N·M)       mean (G-A)²  (÷ N²)              4 / N²
the blog's Keras    F Fᵀ / (N·M)       mean (G-A)²  (÷ N²)              4 / N²
Keras example       F Fᵀ               Σ (G-A)² / (4·3²·(H·W)²)         N² / (9·16^k)
crowsonkb           F Fᵀ / M           Σ d² / Σ |d|,  d = (G-A)/M       not a constant
==================  =================  ===============================  ==============

The Keras example writes 3 for the channels and the *input image's* H·W
for the size at every layer; crowsonkb divides the squared error by the
absolute error (its gradient's L1 norm stays about 1), so no fixed β maps
it to ours.
"""

from __future__ import annotations

import torch


def _wide(x: torch.Tensor) -> torch.Tensor:
    """bf16/fp16 -> float32; float32 and float64 as they are."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """G = F Fᵀ: inner products between feature maps, summed over positions.

    ``features`` is (B, N, H, W); returns (B, N, N). Unnormalised, as in
    Gatys et al. eq. (3): G_ij = Σ_k F_ik F_jk. (Other tools divide by M, N·M
    or B·N·M; see the module table.) The same as ``f @ f.transpose(1, 2)``
    with ``f = features.flatten(2)``, with a faster gradient (see _Gram).
    """
    return _Gram.apply(features)  # (B, N, N)


class _Gram(torch.autograd.Function):
    """G = F Fᵀ with the gradient dF = (dG + dGᵀ) F as one product.

    Autograd would differentiate F Fᵀ through both factors: two products of
    N x M size and their sum, a third of an evaluation at 512 px. The
    products run on Fᵀ, (B, M, N), which for channels-last features is
    already the layout in memory: no copies.
    """

    @staticmethod
    def forward(ctx, features: torch.Tensor) -> torch.Tensor:
        b, n, h, w = features.shape
        ft = features.permute(0, 2, 3, 1).reshape(b, h * w, n)  # (B, M, N): a view for channels-last input
        ctx.save_for_backward(ft)
        ctx.shape = features.shape
        # one 2-D product per image: CPU bmm copies a transposed operand first (8x slower at relu1_1, 512 px)
        return torch.stack([f.T @ f for f in ft])  # (B, N, N)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (ft,) = ctx.saved_tensors
        b, n, h, w = ctx.shape
        sym = (grad + grad.transpose(1, 2)).to(ft.dtype)  # (B, N, N)
        dft = ft @ sym  # (B, M, N) = (F (dG + dGᵀ))ᵀ
        return dft.reshape(b, h, w, n).permute(0, 3, 1, 2)  # (B, N, H, W), channels-last in memory


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """E_c = ½ Σ_ij (F_ij - P_ij)², Gatys et al. eq. (1).

    ``features`` and ``target`` are (B, N, H, W) (``target`` may have B=1 and
    broadcasts). Returns (B,). No normalisation, as in the paper: the value
    grows with N·M, so a given α means more at a larger image, against
    style errors that do not grow (the PyTorch tutorial uses the mean
    instead, which is size-independent).
    """
    return 0.5 * (_wide(features) - _wide(target)).pow(2).flatten(1).sum(1)  # (B,)


def style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """E_s = 1/(4 N² M²) Σ_ij (G_ij - A_ij)², Gatys et al. eq. (4).

    ``features`` is (B, N, H, W); ``target_gram`` is A, (B or 1, N, N),
    computed over the same number of positions M as ``features`` (Gatys et
    al. used equal sizes; :class:`stylelib.objective.Objective` rescales A when
    the painting has another size). Returns (B,). The 4 N² M² makes E_s the
    squared error of the per-position Gram G/M, divided by 4 N².
    """
    n, m = features.shape[1], features.shape[2] * features.shape[3]
    g = _wide(gram_matrix(features))  # (B, N, N), multiplied in the features' dtype
    return (g - _wide(target_gram)).pow(2).sum((1, 2)) / (4 * n**2 * m**2)  # (B,)


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


def gram_per_position(features: torch.Tensor) -> torch.Tensor:
    """Â = G / M: the Gram matrix averaged over positions, (B, N, N), in at least float32.

    A painting's target is kept this way so that it can be compared with a
    result of another size: the result's target over its own M positions
    is Â · M (with equal sizes, exactly the seed's A).
    """
    return _wide(gram_matrix(features)) / (features.shape[2] * features.shape[3])


def content_scale(target: torch.Tensor) -> torch.Tensor:
    """E_c of all-zero features, ½ Σ P², per image: (B, N, H, W) -> (B,)."""
    return 0.5 * _wide(target).pow(2).flatten(1).sum(1)


def style_scale(gram_per_position: torch.Tensor) -> torch.Tensor:
    """E_s of an all-zero Gram matrix, Σ A² / (4 N² M²), from Â = A / M: (B, N, N) -> (B,)."""
    return gram_per_position.pow(2).sum((1, 2)) / (4 * gram_per_position.shape[1] ** 2)


def total_loss(content: torch.Tensor, styles: list[torch.Tensor], **weights) -> torch.Tensor:
    """L_total = α E_c / n_c + β Σ_l w_l E_s^l / n_l, Gatys et al. eq. (7) when every n is 1.

    ``content`` is E_c, (B,); ``styles`` holds E_s^l for each style layer,
    each (B,); ``weights`` are :func:`loss_terms`'s: ``alpha``, ``beta``,
    ``layer_weights`` (the w_l, default 1/L each, the paper's choice for
    its five layers) and the divisors ``content_norm`` and ``style_norms``.
    The divisors are stylelib's deviation (:mod:`stylelib.objective`): each
    term's value for all-zero features, :func:`content_scale` and
    :func:`style_scale`, making each a relative error; Gatys et al. have none.
    """
    return sum(loss_terms(content, styles, **weights).values())  # (B,)


def loss_terms(
    content: torch.Tensor | None,
    styles: list[torch.Tensor],
    *,
    alpha: float,
    beta: float,
    layer_weights: list[float] | None = None,
    content_norm: torch.Tensor | float = 1.0,
    style_norms: list[torch.Tensor | float] | None = None,
) -> dict[str, torch.Tensor]:
    """The weighted parts of :func:`total_loss`: {"content": α E_c/n_c, "style:0": β w_0 E_s^0/n_0, ...}."""
    if layer_weights is None:
        layer_weights = [1.0 / len(styles)] * len(styles)
    if len(layer_weights) != len(styles):
        raise ValueError(f"{len(styles)} style layers but {len(layer_weights)} layer weights")
    style_norms = style_norms if style_norms is not None else [1.0] * len(styles)
    terms = {} if content is None else {"content": alpha * content / content_norm}
    for i, (w, e, n) in enumerate(zip(layer_weights, styles, style_norms)):
        terms[f"style:{i}"] = beta * w * e / n
    return terms


def tv_loss(images: torch.Tensor) -> torch.Tensor:
    """Total variation Σ_ij (x_i,j+1 - x_ij)² + (x_i+1,j - x_ij)², summed over channels.

    Mahendran & Vedaldi's (2015) V^β = Σ_ij (dx² + dy²)^(β/2) with β = 2, on
    (B, C, H, W) images in [0, 1]; returns (B,). It penalises differences
    between neighbours, so it removes high-frequency noise. Their β = 1 is
    the isotropic Σ √(dx² + dy²), the length of the gradient at each pixel
    (lesson 05), not the anisotropic Σ |dx| + |dy| that some tools use.
    Others take the mean instead of the sum (pystiche) or the root of the
    sum (Johnson et al.'s Torch code); Gatys et al. had no such term.
    """
    dx = images[..., :, 1:] - images[..., :, :-1]  # (B, C, H, W-1)
    dy = images[..., 1:, :] - images[..., :-1, :]  # (B, C, H-1, W)
    return dx.pow(2).flatten(1).sum(1) + dy.pow(2).flatten(1).sum(1)  # (B,)
