# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Controls: a painting per region, colour and brush size
#
# The Gram matrix sums over every position, so Gatys' loss has no idea
# *where* the style goes. Yet we often want the sky painted like Van Gogh
# and the ground like Hokusai, or only the background stylised. Gatys et
# al. (2017, "Controlling Perceptual Factors in Neural Style Transfer")
# showed that the same Gram matrix, taken over a *region*, gives that
# control. This lesson builds these guided Gram matrices by hand, makes a
# mask from the photo's own colours, and then tries the two other
# controls of that paper: keeping the photo's colours and the brush size.

# %%
# %matplotlib inline
import torch
import torch.nn.functional as F
import stylelib
from stylelib import plots
from stylelib.losses import gram_matrix, guided_style_loss, style_loss
from lesson_utils import pick, check_value, check_function

SIZE, STEPS = pick(256, 64), pick(60, 3)

# %% [markdown]
# ## Guided Gram matrices
#
# A mask $m_r$ is 1 inside region $r$, 0 outside and grey in between,
# resized to the layer's $H_l \times W_l$. It weights every position
# before the Gram matrix is summed, and the painting's Gram matrix per
# position, $A / M_s$, is scaled to the number of positions the region
# holds, so that both sides sum over the same amount:
#
# $$G^{r}_{ij} = \sum_k m_{r,k}^2\, F_{ik} F_{jk}, \qquad
# A^{r}_{ij} = \frac{A_{ij}}{M_s} \sum_k m_{r,k}^2$$
#
# $$E_s^{r} = \frac{1}{4 N_l^2 M_l^2} \sum_{ij} \left(G^r_{ij} -
# A^r_{ij}\right)^2$$
#
# Each region $r$ has its own painting, and the style loss is the sum of
# the regions' errors. Pixels outside every mask feel no style at all.

# %% [markdown]
# ## By hand
#
# Random features, a mask that keeps the left half, and a painting's
# per-position Gram matrix:

# %%
g = torch.Generator().manual_seed(0)
feats = torch.rand(1, 8, 16, 16, generator=g)  # (B, N, H, W)
mask = torch.zeros(1, 1, 16, 16)
mask[..., :8] = 1.0  # the left half
painting = torch.rand(1, 8, 10, 10, generator=g)
a_per_position = gram_matrix(painting) / 100  # (1, N, N), A / M_s

# %%
G_r = gram_matrix(feats * mask)  # (1, N, N)
A_r = a_per_position * mask.pow(2).sum()
N, M = 8, 16 * 16
E_r = (G_r - A_r).pow(2).sum() / (4 * N**2 * M**2)
torch.testing.assert_close(
    E_r, guided_style_loss(feats, mask, a_per_position)[0])
print(f"E_s^r = {E_r.item():.5f}, and stylelib agrees")

# %% [markdown]
# With a mask of ones everywhere the guided loss is the ordinary style
# loss of lesson 03 (with $A = M \cdot A / M_s$):

# %%
ones = torch.ones(1, 1, 16, 16)
torch.testing.assert_close(
    guided_style_loss(feats, ones, a_per_position),
    style_loss(feats, a_per_position * M))

# %% [markdown]
# ## A mask from the photo itself
#
# Masks can come from anywhere: a paint program, a segmentation network,
# or, as here, a rule. The sky is the bright, blue part of the photo; a
# small blur softens the edge so the two paintings meet without a seam.

# %%
photo = stylelib.load_example("neuschwanstein", size=SIZE)
red, green, blue = photo[0]
sky = ((blue > red + 0.15) & (blue > 0.55)).float()[None, None]
sky = F.avg_pool2d(sky, 9, 1, 4, count_include_pad=False)
print(f"the sky is {sky.mean().item():.0%} of the photo")

# %% [markdown]
# The network sees the mask at each layer's size. stylelib shrinks it by
# area averaging, so a position that is half sky gets 0.5:

# %%
h, w = photo.shape[-2:]
sizes = [(h // 2**k, w // 2**k) for k in range(5)]
small = [F.interpolate(sky, size=s, mode="area") for s in sizes]
plots.show_images(
    [m.expand(1, 3, -1, -1) for m in small],
    [f"relu{k + 1}_1: {s[0]}×{s[1]}" for k, s in enumerate(sizes)],
    height=1.8)

# %% [markdown]
# ## Two paintings, two regions
#
# The Starry Night for the sky, The Great Wave for the ground. Without
# masks, stylelib blends the two paintings' Gram matrices and paints the
# whole picture with the mixture; with masks, each region takes its own.

# %%
starry = stylelib.load_example("starry-night", size=SIZE)
wave = stylelib.load_example("great-wave", size=SIZE)
run = dict(size=SIZE, steps=STEPS)
blended = stylelib.stylize(photo, [starry, wave], **run)
regions = stylelib.stylize(photo, [starry, wave],
                           style_masks=[sky, 1 - sky], **run)

# %%
plots.show_images([photo, blended, regions],
                  ["photo", "both paintings, no masks",
                   "sky: Starry Night, ground: Great Wave"])

# %% [markdown]
# ## Experiment: style only part of the picture
#
# One painting with one mask: the ground keeps the photo, because no
# style term touches it; only the content loss does. Try `1 - sky`
# instead, or a mask you draw yourself.

# %%
sky_only = stylelib.stylize(photo, starry, style_masks=[sky], **run)
plots.show_images([photo, sky_only], ["photo", "only the sky"])

# %% [markdown]
# ## Colour and brush size
#
# Two more controls from the same paper, each one argument:
#
# - `preserve_color="luminance"` keeps the photo's colours: the result's
#   brightness comes from the optimisation, its colour (the Cb and Cr
#   channels of YCbCr) from the photo.
# - `style_scale` resizes the painting before its Gram matrices are
#   taken: a painting shown smaller has smaller strokes.

# %%
kept = stylelib.stylize(photo, starry, preserve_color="luminance", **run)
fine = stylelib.stylize(photo, starry, style_scale=0.5, **run)
coarse = stylelib.stylize(photo, starry, style_scale=1.5, **run)
plots.show_images([kept, fine, coarse],
                  ["photo's colours", "style_scale 0.5 (finer)",
                   "style_scale 1.5 (coarser)"])

# %% [markdown]
# ## Summary
#
# - A guided Gram matrix weights each position by a mask before summing:
#   $G^r = (F \circ m_r)(F \circ m_r)^\top$, with the painting's
#   per-position Gram scaled to the region's $\sum m_r^2$ positions.
# - One painting per region (`style_masks=`, `--style-masks`); pixels
#   outside every mask keep the photo.
# - Masks shrink with the feature maps, so at relu5_1 a region is a few
#   blurry positions: small regions get little deep style.
# - `preserve_color` and `style_scale` control colour and stroke size.
#
# ## Exercises
#
# 1. A 256×256 image and a mask that keeps its left half. How many
#    positions does the region hold at relu3_1 (after two poolings),
#    i.e. what is $\sum_k m_k^2$ there? Self-check below.
# 2. Write `guided_gram(F, m)`: the guided Gram matrix $G^r$ of
#    features (B, N, H, W) and a mask (B, 1, H, W). Self-check below.
# 3. Give the ground a mask of 0.5 everywhere instead of 1: what
#    happens to its style, and why (look at the $m^2$)?
# 4. Three horizontal bands, three paintings: does the middle band look
#    like a mixture at its edges? Try a sharper and a softer edge.

# %%
answer_1 = None  # positions of the left half at relu3_1
_ = check_value(answer_1, 64 * 32, "positions",
                "relu3_1 is 256/4 = 64 positions a side; half of them")

# %%
guided_gram = None  # def guided_gram(F, m): ...
_ = check_function(
    guided_gram, lambda f, m: gram_matrix(f * m),
    lambda g: (torch.rand(2, 3, 4, 5, generator=g),
               torch.rand(2, 1, 4, 5, generator=g)),
    "guided_gram", "multiply by the mask first, then F Fᵀ")
