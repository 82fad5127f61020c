"""A fast network for one painting whose norms also see the photo (docs/fast_recipe.md, s18-s19; lesson 09).

A ``pretrained`` model (:mod:`stylelib.pretrained`) bakes the painting's
style vector S_p into Ghiasi et al.'s transformer, so every photo gets the
same (γ, β) and about the same amount of painting. Its worst held-out
photos are kinds of photo: close-up fur painted too much, bare stone and
sky too little. Here the transformer keeps its 100-d code, and each photo
x gets its own:

    z(x) = S_p + A (S(x) - S_p),      (γ, β) = (W_γ z + b_γ, W_β z + b_β)

S(x) is the frozen style predictor's vector of the photo itself (the same
predictor that gives S_p from the painting), and A (100 x 100) starts at 0,
so at step 0 the network paints exactly as the baked one. Fine-tuning
learns A with the transformer. With the judge's box as the loss
(``stylelib train --content-target 0.4 --style-target 0.4``: a photo
already inside a target adds no gradient for it), A learns to paint a
photo more or less as that photo needs.

Deviation from Ghiasi et al.: their code comes from the painting alone;
the photo's own vector in it is ours. The predictor (MobileNet-v2, 2.2 M
weights) is the shipped one, frozen: model files do not repeat it.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .anystyle import ARBITRARY_DIMS, STYLE_DIM, STYLE_SIZE, AnyStyle, _short_side, load_network
from .images import ImageSource
from .style_transformer import StyleTransformer, with_noise

NETWORK = "photo-coded"


class PhotoCoded(nn.Module):
    """(B, 3, H, W) in [0, 1] -> the same, stylised, each photo with its own code z(x)."""

    kind = NETWORK

    def __init__(self, transformer: StyleTransformer, painting: torch.Tensor) -> None:
        super().__init__()
        d = transformer.code_dim
        if painting.shape != (1, d):
            raise ValueError(f"the painting's code must be (1, {d}); got {tuple(painting.shape)}")
        self.transformer = transformer
        self.width = transformer.contract[0].conv.out_channels  # as TransformerNet's width
        self.register_buffer("painting", painting.detach().clone())  # (1, D): S_p
        self.mix = nn.Parameter(torch.zeros(d, d))  # A: 0, so step 0 paints as the baked network
        # frozen and not a submodule, so that model files do not repeat it; _apply moves and casts it
        object.__setattr__(self, "predictor", copy.deepcopy(load_network("arbitrary").predictor))

    def _apply(self, fn, recurse: bool = True):  # .to(), .half(), ...: the predictor goes along
        super()._apply(fn, recurse)
        self.predictor._apply(fn, recurse)
        return self

    def code(self, images: torch.Tensor) -> torch.Tensor:
        """z(x) for each photo: (B, 3, H, W) -> (B, D), in float32."""
        weight = next(self.predictor.parameters())
        small = _short_side(images.float(), STYLE_SIZE)  # as the predictor sees a painting
        with torch.no_grad():
            own = self.predictor(small.to(weight.dtype)).float()  # (B, D): S(x)
        s_p = self.painting.float()  # (1, D)
        return s_p + (own - s_p) @ self.mix.float().T  # (B, D)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.transformer(images, self.code(images).to(images.dtype))


def empty(*, noise: int = 0) -> PhotoCoded:
    """An untrained network of the shape a ``photo-coded`` model file holds (for loading one)."""
    return PhotoCoded(StyleTransformer(STYLE_DIM, **ARBITRARY_DIMS, noise=noise), torch.zeros(1, STYLE_DIM))


def from_painting(painting: ImageSource | torch.Tensor, *, style_size: int = STYLE_SIZE,
                  noise: int = 0) -> PhotoCoded:
    """The shipped any-painting transformer (a copy, trainable) with z(x) = S_p at step 0, fp32.

    ``noise`` channels start with weights 0 (:func:`stylelib.style_transformer.with_noise`).
    """
    code = AnyStyle(device="cpu", precision="fp32").style_vector(painting, style_size=style_size)  # (1, 100)
    released = load_network("arbitrary").transformer
    transformer = with_noise(released, noise) if noise else copy.deepcopy(released)
    return PhotoCoded(transformer.requires_grad_(True), code)
