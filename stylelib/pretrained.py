"""A fast network for one painting, started from the any-painting network (lesson 09).

Johnson et al. train each painting's network from random weights; on two
CPU cores a few thousand steps leave it far from its loss's optimum (the
bundled models took the painting only part of the way; docs/fast_recipe.md).
Ghiasi et al.'s arbitrary-style transformer (:mod:`stylelib.anystyle`) has
already learnt, from many paintings and photos, to paint any of them: its
conditional instance norms take (γ, β) from the painting's style vector S,

    γ = W_γ S + b_γ,    β = W_β S + b_β          (stylelib.cin)

For one painting S is fixed, so every (γ, β) is a constant: *baking* them
in turns the any-painting network into an ordinary one-painting network
(instance norm with learnt affine parameters, as Johnson et al.'s improved
network), which the perceptual loss then fine-tunes like any other
(``stylelib train --network pretrained``). That is transfer learning: the
network starts where Ghiasi et al.'s training left it, not from noise.

Deviation from Johnson et al.: the network is Ghiasi et al.'s released
quarter-width transformer (widths 8, 16, 32 / 16, 8; 5 residual blocks;
the first three layers without normalisation; a sigmoid output), not
their c9s1-32 ... network. Stored with a code of one dimension: γ_c is
the single weight of row c (z = 1).
"""

from __future__ import annotations

import torch
from torch import nn

from .anystyle import ARBITRARY_DIMS, STYLE_DIM, STYLE_SIZE, AnyStyle, load_network
from .cin import ConditionalInstanceNorm
from .images import ImageSource
from .style_transformer import StyleTransformer, with_noise

NETWORK = "pretrained"


class BakedStyle(nn.Module):
    """(B, 3, H, W) in [0, 1] -> the same, stylised: a StyleTransformer whose code is fixed to z = 1."""

    kind = NETWORK

    def __init__(self, transformer: StyleTransformer) -> None:
        super().__init__()
        if transformer.code_dim != 1:
            raise ValueError(f"a baked transformer has a 1-d code; got {transformer.code_dim}")
        self.transformer = transformer
        self.width = transformer.contract[0].conv.out_channels  # channels of the first layer, as TransformerNet
        self.register_buffer("code", torch.ones(1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.transformer(images, self.code.to(images.dtype))


def bake(transformer: StyleTransformer, code: torch.Tensor) -> BakedStyle:
    """A copy of ``transformer`` with each (γ, β) = (W_γ z + b_γ, W_β z + b_β) for the code z (1, D) fixed."""
    if code.shape != (1, transformer.code_dim):
        raise ValueError(f"the code must be (1, {transformer.code_dim}); got {tuple(code.shape)}")
    weight = next(transformer.parameters())
    baked = StyleTransformer(1, **transformer.dims, code_bias=False).to(weight.device, weight.dtype)
    state = {}
    for name, module in transformer.named_modules():
        if isinstance(module, ConditionalInstanceNorm):
            z = code.to(module.gamma.weight)  # its dtype and device
            with torch.no_grad():
                state[f"{name}.gamma.weight"] = module.gamma(z).T  # (C, 1): γ_c = W_γ,c · z + b_γ,c
                state[f"{name}.beta.weight"] = module.beta(z).T
    state.update({k: v for k, v in transformer.state_dict().items()
                  if ".norm." not in k})  # the convolutions, unchanged
    baked.load_state_dict(state)
    return BakedStyle(baked)


def empty(*, noise: int = 0) -> BakedStyle:
    """An untrained network of the shape a ``pretrained`` model file holds (for loading one)."""
    return bake(StyleTransformer(STYLE_DIM, **ARBITRARY_DIMS, noise=noise), torch.zeros(1, STYLE_DIM))


def from_painting(painting: ImageSource | torch.Tensor, *, style_size: int = STYLE_SIZE, noise: int = 0) -> BakedStyle:
    """The shipped arbitrary-style transformer with ``painting``'s style vector baked in, fp32, trainable.

    S is the predictor's at ``style_size`` (256, as released), whatever size
    the training's Gram targets use: it only sets where fine-tuning starts.
    ``noise`` channels (:func:`stylelib.style_transformer.with_noise`) start
    with weights 0, so step 0 still paints as the any-painting network.
    """
    code = AnyStyle(device="cpu", precision="fp32").style_vector(painting, style_size=style_size)  # (1, 100)
    baked = bake(load_network("arbitrary").transformer, code)
    return (BakedStyle(with_noise(baked.transformer, noise)) if noise else baked).requires_grad_(True)
