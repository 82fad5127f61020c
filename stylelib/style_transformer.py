"""The image transformation network of Dumoulin et al. and Ghiasi et al., conditioned on a style (lesson 11).

The same shape as Johnson et al.'s network (:mod:`stylelib.transformer_net`)
with the "improved" fixes, as Magenta's ``transform`` builds it:

    contract: c9s1-w1, c3s2-w2, c3s2-w3      (reflection padding)
    residual: R-w3 x n                        x + CIN(conv(relu(CIN(conv(x)))))
    expand:   up2 c3s1-e1, up2 c3s1-e2, c9s1-3, sigmoid

where up2 is nearest-neighbour upsampling (no checkerboard) and every
normalisation after the contract is conditional instance norm
(:mod:`stylelib.cin`): the style code z sets its (γ, β). Two released
networks fit it:

- Dumoulin et al.'s 26 styles (TensorFlow's Android demo): widths 32, 32,
  32 / 8, 4, 6 residual blocks, CIN after every convolution, z = the
  mixing weights of the 26 styles.
- Ghiasi et al.'s arbitrary-style transformer (the distilled, quarter-width
  release): widths 8, 16, 32 / 16, 8, 5 residual blocks, the contract
  layers with plain (batch-norm-folded) biases, z = the 100-d style vector.

Deviation: the released files fix the input size (384 x 384 for Ghiasi's);
this module takes any size, reflection-padding to a multiple of 4 (two
stride-2 layers) and cropping the output back.

``noise`` > 0 adds that many channels of Gaussian noise to the photo at
the first layer, as Ulyanov et al.'s texture networks (2016) fed noise
and Johnson et al. did not: convolutions and instance norms map a flat
region (a clear sky, a blurred background) to a flat output away from
its edges, so without noise a network cannot paint brush strokes there.
Training draws fresh noise at every step; in eval mode the noise is one
fixed pattern (a generator seeded with 0, the same for every image of a
batch and every frame of a video), so a picture is the same every run.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .cin import ConditionalInstanceNorm


class ConvLayer(nn.Module):
    """[up2] -> reflection pad -> k x k conv -> [CIN(z)] -> activation."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, *, code_dim: int, conditioned: bool,
                 code_bias: bool, act: str = "relu", upsample: bool = False) -> None:
        super().__init__()
        self.k, self.upsample, self.act = k, upsample, act
        self.conv = nn.Conv2d(c_in, c_out, k, stride, bias=not conditioned)  # a bias before IN cancels
        self.norm = ConditionalInstanceNorm(code_dim, c_out, bias=code_bias) if conditioned else None

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")  # (B, C, 2H, 2W)
        p = self.k // 2
        x = self.conv(F.pad(x, (p, p, p, p), mode="reflect"))
        if self.norm is not None:
            x = self.norm(x, code)
        return {"relu": torch.relu, "sigmoid": torch.sigmoid, "none": lambda t: t}[self.act](x)


class Residual(nn.Module):
    """x + layer2(layer1(x)), the second layer without activation."""

    def __init__(self, channels: int, **kw) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, **kw)
        self.conv2 = ConvLayer(channels, channels, 3, act="none", **kw)

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.conv1(x, code), code)


class StyleTransformer(nn.Module):
    """(B, 3, H, W) in [0, 1] and a style code (B or 1, code_dim) -> (B, 3, H, W) in [0, 1]."""

    def __init__(self, code_dim: int, *, contract: tuple = (8, 16, 32), expand: tuple = (16, 8),
                 residuals: int = 5, condition_contract: bool = False, code_bias: bool = True, noise: int = 0) -> None:
        super().__init__()
        self.code_dim, self.noise = code_dim, noise
        # the shape, so that a copy with another code (stylelib.pretrained) can be built
        self.dims = dict(contract=tuple(contract), expand=tuple(expand), residuals=residuals,
                         condition_contract=condition_contract, noise=noise)
        kw = dict(code_dim=code_dim, code_bias=code_bias)
        c1, c2, c3 = contract
        self.contract = nn.ModuleList([
            ConvLayer(3 + noise, c1, 9, conditioned=condition_contract, **kw),
            ConvLayer(c1, c2, 3, 2, conditioned=condition_contract, **kw),
            ConvLayer(c2, c3, 3, 2, conditioned=condition_contract, **kw),
        ])
        self.residual = nn.ModuleList([Residual(c3, conditioned=True, **kw) for _ in range(residuals)])
        e1, e2 = expand
        self.expand = nn.ModuleList([
            ConvLayer(c3, e1, 3, upsample=True, conditioned=True, **kw),
            ConvLayer(e1, e2, 3, upsample=True, conditioned=True, **kw),
            ConvLayer(e2, 3, 9, act="sigmoid", conditioned=True, **kw),
        ])

    def forward(self, images: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        h, w = images.shape[-2:]
        pad_h, pad_w = -h % 4, -w % 4  # two stride-2 layers: work on a multiple of 4
        # reflection needs more pixels than the pad; a tiny image repeats its edge instead
        mode = "reflect" if min(h, w) > 4 else "replicate"
        x = F.pad(images, (0, pad_w, 0, pad_h), mode=mode) if pad_h or pad_w else images
        if self.noise:
            x = torch.cat([x, self._noise(x)], 1)  # (B, 3 + noise, H', W')
        for layer in [*self.contract, *self.residual, *self.expand]:
            x = layer(x, code)
        return x[..., :h, :w]  # (B, 3, H, W)

    def _noise(self, x: torch.Tensor) -> torch.Tensor:
        """(B, noise, H, W): fresh in training; one seeded pattern for every image in eval mode."""
        shape = (x.shape[0], self.noise, *x.shape[-2:])
        if self.training:
            return torch.randn(shape, dtype=x.dtype, device=x.device)
        pattern = torch.randn((1, *shape[1:]), generator=torch.Generator().manual_seed(0))  # (1, noise, H, W)
        return pattern.to(x).expand(shape)


def with_noise(transformer: StyleTransformer, noise: int) -> StyleTransformer:
    """A copy of ``transformer`` with ``noise`` more noise inputs whose weights are 0: it paints as before."""
    new = StyleTransformer(transformer.code_dim, **{**transformer.dims, "noise": transformer.noise + noise},
                           code_bias=transformer.residual[0].conv1.norm.gamma.bias is not None)
    state = transformer.state_dict()
    first = "contract.0.conv.weight"
    old = state[first]  # (out, in, 9, 9)
    state[first] = torch.cat([old, old.new_zeros(old.shape[0], noise, *old.shape[2:])], 1)
    new.load_state_dict(state)
    return new.to(old.device, old.dtype).train(transformer.training)
