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
from lesson_utils import pick, check

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
# Each region $r$ has its own painting. In this raw form a layer's style
# loss would be the sum of the regions' errors $E_s^r$. `stylelib`, as
# for every term (lesson 04), divides each region's error by its own
# all-zero error $E_s^r(0) = \sum (A^r)^2 / 4N_l^2M_l^2$ and weights it by
# the region's share of the image, $s_r$, the mean of its mask:
#
# $$\sum_r s_r \frac{E_s^r}{E_s^r(0)}, \qquad
# s_r = \frac{1}{M_l} \sum_k m_{r,k}$$
#
# so a region is stylised as strongly as a whole image would be, and a
# small region counts for less. (With blended paintings, $s_r$ also
# carries the blend weights.) Pixels outside every mask feel no style.

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
# ## Keeping the photo's colours
#
# Gatys, Bethge, Hertzmann and Shechtman (2016) give two ways to keep a
# photo's colours; `stylelib` offers both, and a third that many tools use:
#
# - `luminance-only`, the paper's *luminance-only transfer*: the network
#   sees only luminance. The photo's Y and the painting's, first given the
#   photo's mean and spread, are each copied into all three channels; the
#   stylised luminance then gets the photo's chroma (Cb, Cr) back.
# - `recombine` (neural-style's `-original_colors`): stylise in colour,
#   keep the result's luminance, take the photo's chroma.
# - `match`: recolour the painting to the photo's colour mean and
#   covariance first, then stylise in colour.
#
# The paper's luminance matching, with Y = 0.299 R + 0.587 G + 0.114 B:
#
# $$L_s' = \frac{\sigma_c}{\sigma_s}\,(L_s - \mu_s) + \mu_c$$

# %%
def my_luminance(x):
    return 0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:]


def my_match_luminance(y_s, y_c):
    return (y_s - y_s.mean()) * y_c.std() / y_s.std() + y_c.mean()

# %%
from stylelib import color
y_photo, y_paint = my_luminance(photo), my_luminance(starry)
torch.testing.assert_close(y_photo, color.luminance(photo))
torch.testing.assert_close(my_match_luminance(y_paint, y_photo).clamp(0, 1),
                           color.match_luminance(y_paint, y_photo))
print("by hand == stylelib.color.luminance and match_luminance")

# %%
methods = ["none", "luminance-only", "recombine", "match"]
results = {m: stylelib.stylize(photo, starry, preserve_color=m, **run)
           for m in methods}
plots.show_images(list(results.values()), methods, height=2.4)

# %% [markdown]
# How far is each result's colour from the photo's, and how much of the
# painting did it take? The chroma difference is the mean of
# |Cb, Cr (result) − Cb, Cr (photo)|; the style and content errors are
# the kit's relative errors (lesson 04): 1 = the untouched photo's style
# error, 0 = no content error.

# %%
from stylelib.evaluate import relative_errors
def chroma_gap(y):
    return (color.rgb_to_ycbcr(y)[:, 1:]
            - color.rgb_to_ycbcr(photo)[:, 1:]).abs()

painting = stylelib.data.resolve_image("starry-night")
for m, y in results.items():
    e = relative_errors(y, photo, painting)
    print(f"{m:15s} chroma gap {chroma_gap(y).mean():.4f}  style "
          f"{e['style']:.2f}  content {e['content']:.2f}")

# %%
gaps = [chroma_gap(y).sum(1, keepdim=True) for y in results.values()]
top = max(g.max() for g in gaps)
plots.show_images([(g / top).expand(1, 3, -1, -1) for g in gaps],
                  [f"chroma gap: {m}" for m in methods], height=2.4)

# %% [markdown]
# `luminance-only` and `recombine` keep the photo's chroma (their gap is
# the rounding at the edge of the colour range); `match` only moves the
# painting's colours towards the photo's, so some painting colour
# remains. Because `luminance-only` never shows the network any colour,
# its style error is measured against a painting whose colours it never
# tried to match: compare the pictures, not only the numbers.
#
# ## Brush size
#
# `style_scale` resizes the painting before its Gram matrices are taken:
# the painting's strokes, in pixels, scale with it, and the result
# matches the painting best at the scale it was given (a test in
# `tests/test_controls.py` measures exactly that).

# %%
fine = stylelib.stylize(photo, starry, style_scale=0.5, **run)
coarse = stylelib.stylize(photo, starry, style_scale=1.5, **run)
plots.show_images([fine, coarse], ["style_scale 0.5 (finer)",
                                   "style_scale 1.5 (coarser)"])

# %% [markdown]
# ## Summary
#
# - A guided Gram matrix weights each position by a mask before summing:
#   $G^r = (F \circ m_r)(F \circ m_r)^\top$, with the painting's
#   per-position Gram scaled to the region's $\sum m_r^2$ positions.
# - The optimiser sees each region's relative error $E_s^r / E_s^r(0)$,
#   weighted by the region's share $s_r$ of the image.
# - One painting per region (`style_masks=`, `--style-masks`); pixels
#   outside every mask keep the photo.
# - Masks shrink with the feature maps, so at relu5_1 a region is a few
#   blurry positions: small regions get little deep style.
# - Colour: `luminance-only` (the paper's: only luminance is stylised),
#   `recombine` (the result's luminance, the photo's chroma) and `match`
#   (the painting recoloured first); `style_scale` sets the stroke size.
#
# ## Exercises
#
# 1. A 256×256 image and a mask that keeps its left half. How many
#    positions does the region hold at relu3_1 (after two poolings),
#    i.e. what is $\sum_k m_k^2$ there? Self-check below.
# 2. Write `guided_gram(F, m)`: the guided Gram matrix $G^r$ of
#    features (B, N, H, W) and a mask (B, 1, H, W). Self-check below.
# 3. Give the ground a mask of 0.5 everywhere instead of 1. By what
#    factor does the weight of the ground's style term change in the
#    objective? Work out $G^r$, $A^r$ and $E_s^r(0)$ for $m = 0.5$ and see
#    what cancels in the relative error. Self-check below; then run it and
#    look at the ground.
# 4. Three horizontal bands, three paintings: does the middle band look
#    like a mixture at its edges? Try a sharper and a softer edge.

# %%
answer_1 = None  # positions of the left half at relu3_1
_ = check("08.1", answer_1)

# %%
guided_gram = None  # def guided_gram(F, m): ...
_ = check("08.2", guided_gram)

# %%
answer_3 = None  # factor on the ground's style weight for m = 0.5
_ = check("08.3", answer_3)
