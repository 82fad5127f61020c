"""Li & Wand's MRF style loss: local patches matched by normalised cross-correlation (lesson 07).

C. Li, M. Wand (2016), "Combining Markov Random Fields and Convolutional
Neural Networks for Image Synthesis", eq. (2)-(3). Instead of one Gram
matrix for a whole layer, cut the layer into k x k x C patches Ψ_i, match
each patch of the result to the painting's patch it correlates with best,
and pull it towards that patch::

    E_mrf = Σ_i ‖Ψ_i(F) − Ψ_NN(i)(F_s)‖²
    NN(i) = argmax_j  ⟨Ψ_i(F), Ψ_j(F_s)⟩ / (‖Ψ_i(F)‖ ‖Ψ_j(F_s)‖)

The sum runs over the m patches of the result and is not normalised, as in
the paper. Positions are matched locally instead of summed away, so the
layout of the photo's structures is kept (on a landscape its content error
is far below the Gram loss's), but each patch is pulled towards a patch of
the painting: on a portrait at a matched style strength the Gram loss kept
the face better in our measurements (lesson 07).

The correlation with every style patch is a convolution of F with the
normalised style patches as kernels; we do it in chunks of patches so that
memory stays bounded, keeping a running best match. ‖Ψ_i(F)‖ is the same
for every j, so the argmax needs only the style patches normalised.

Deviations from Li & Wand's Torch code: it divides the gradient at each
feature position by the number of patches covering it and drops matches
below a confidence threshold; we keep the paper's plain sum (autograd
gives its exact gradient) and match every patch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .images import resize_tensor


def extract_patches(features: torch.Tensor, size: int = 3, stride: int = 1) -> torch.Tensor:
    """All size x size patches of (B, C, H, W) features -> (B, L, C, size, size)."""
    b, c = features.shape[:2]
    cols = F.unfold(features, size, stride=stride)  # (B, C*k*k, L)
    return cols.transpose(1, 2).reshape(b, -1, c, size, size)  # (B, L, C, k, k)


def patch_grid(height: int, width: int, size: int = 3, stride: int = 1) -> tuple[int, int]:
    """Rows and columns of the patch grid that ``extract_patches`` walks."""
    return (height - size) // stride + 1, (width - size) // stride + 1


def match_patches(
    features: torch.Tensor, style_patches: torch.Tensor, *, stride: int = 1, chunk: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each patch of ``features``, the index of the style patch with the highest NCC.

    ``features`` is (B, C, H, W); ``style_patches`` is (P, C, k, k). Returns
    ``(index, score)``, each (B, L): the best style patch and its normalised
    cross-correlation in [-1, 1]. At most ``chunk`` correlation maps exist
    at a time: memory is B * chunk * L values, not B * P * L.
    """
    eps = 1e-8
    kernels = style_patches / (style_patches.flatten(1).norm(dim=1).view(-1, 1, 1, 1) + eps)  # (P, C, k, k)
    best = torch.full((), -math.inf, device=features.device)
    best_idx = None
    with torch.no_grad():
        for start in range(0, kernels.shape[0], chunk):
            response = F.conv2d(features, kernels[start : start + chunk], stride=stride)  # (B, chunk, H', W')
            value, idx = response.max(1)  # (B, H', W')
            if best_idx is None:
                best, best_idx = value, idx
            else:
                better = value > best
                best = torch.where(better, value, best)
                best_idx = torch.where(better, idx + start, best_idx)
        k = style_patches.shape[-1]
        norms = F.avg_pool2d(features.pow(2).sum(1, keepdim=True), k, stride=stride) * k * k  # (B, 1, H', W')
        score = best / (norms[:, 0].sqrt() + eps)
    return best_idx.flatten(1), score.flatten(1)  # (B, L), (B, L)


def mrf_loss(
    features: torch.Tensor,
    style_patches: torch.Tensor,
    *,
    stride: int = 1,
    chunk: int = 256,
    index: torch.Tensor | None = None,
) -> torch.Tensor:
    """E_mrf = Σ_i ‖Ψ_i(F) − Ψ_NN(i)(F_s)‖² per image; (B, C, H, W), (P, C, k, k) -> (B,).

    The match is found without gradient (an argmax has none); the loss is
    differentiable in ``features`` through the patches. Pass ``index``
    (from :func:`match_patches`) to reuse matches instead of finding them.
    """
    k = style_patches.shape[-1]
    idx = index if index is not None else match_patches(
        features.detach(), style_patches.to(features.dtype), stride=stride, chunk=chunk)[0]
    patches = extract_patches(features, k, stride)  # (B, L, C, k, k)
    matched = style_patches.to(features.dtype)[idx]  # (B, L, C, k, k)
    return (patches - matched).pow(2).flatten(1).sum(1)  # (B,)


def augment(image: torch.Tensor, rotations: tuple = (0.0,), scales: tuple = (1.0,)) -> list[torch.Tensor]:
    """The painting rotated (degrees) and scaled, as Li & Wand augment their example image.

    A rotated copy is cropped to a rectangle inside the rotated painting, so
    no empty corners become patches.
    """
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import center_crop, rotate

    out = []
    h, w = image.shape[-2:]
    for scale in scales:
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        scaled = resize_tensor(image, size)
        for angle in rotations:
            if angle == 0:
                out.append(scaled)
                continue
            a = math.radians(abs(angle))
            shrink = 1 / (math.cos(a) + math.sin(a) * max(size) / min(size))  # conservative
            rotated = rotate(scaled, angle, interpolation=InterpolationMode.BILINEAR)
            out.append(center_crop(rotated, [max(1, int(size[0] * shrink)), max(1, int(size[1] * shrink))]))
    return out
