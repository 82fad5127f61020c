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
# # 07 · The MRF style loss: matching patches (Li & Wand 2016)
#
# Lesson 04 ended with a smeared face. The Gram matrix sums over every
# position, so it asks for the painting's texture *everywhere* and does
# not care where a stroke lands. Li & Wand proposed a local statistic
# instead: cut the feature maps into small patches, and pull each patch of
# the result towards the *most similar* patch of the painting. A patch of
# cheek then borrows a patch of the painting that already looks like a
# cheek: structure survives. This is the "Markov random field" prior of
# classic texture synthesis, moved into feature space.

# %%
# %matplotlib inline
import time
import torch
import stylelib
from stylelib import diagnostics, plots
from stylelib.mrf import extract_patches, match_patches, mrf_loss
from stylelib.optimize import get_extractor
from lesson_utils import pick, check_value, check_function

SIZE, STEPS = pick(192, 48), pick(100, 4)

# %% [markdown]
# ## The equations
#
# Let $\Psi_i(F)$ be the $i$-th $k \times k \times N$ patch of the
# result's features $F$ at layer $l$ (all $k \times k$ windows, stride
# 1), and $\Psi_j(F_s)$ the painting's patches. Each result patch is
# matched by **normalised cross-correlation** (Li & Wand eq. 3):
#
# $$NN(i) = \arg\max_j \frac{\Psi_i(F) \cdot \Psi_j(F_s)}
# {\lVert\Psi_i(F)\rVert\, \lVert\Psi_j(F_s)\rVert}$$
#
# and the loss (eq. 2) pulls it towards its match:
#
# $$E_{mrf} = \sum_i \left\lVert \Psi_i(F) - \Psi_{NN(i)}(F_s)
# \right\rVert^2$$
#
# Matching uses *directions* (the normalisation), the loss uses the
# actual values. Li & Wand use $k = 3$ at `relu3_1` and `relu4_1`.

# %% [markdown]
# ## By hand, on a tiny example
#
# Two feature maps ($N = 2$) of 4×4 positions for the result and for the
# painting. First the patches, with loops:

# %%
g = torch.Generator().manual_seed(0)
F = torch.randn(1, 2, 4, 4, generator=g)  # the result's features
Fs = torch.randn(1, 2, 4, 4, generator=g)  # the painting's


def patches_loops(f, k=3):
    out = []
    for r in range(f.shape[2] - k + 1):
        for c in range(f.shape[3] - k + 1):
            out.append(f[0, :, r:r + k, c:c + k])  # (N, k, k)
    return torch.stack(out)  # (patches, N, k, k)


P, Ps = patches_loops(F), patches_loops(Fs)
print(P.shape, "patches; the library agrees:",
      torch.equal(P, extract_patches(F)[0]))

# %% [markdown]
# Then the normalised cross-correlation of every result patch with every
# painting patch, its argmax, and the loss:

# %%
unit = lambda p: p.flatten(1) / p.flatten(1).norm(dim=1, keepdim=True)
ncc = unit(P) @ unit(Ps).T  # (result patches, painting patches)
nn = ncc.argmax(1)  # NN(i) for each i
my_loss = (P - Ps[nn]).pow(2).sum()
print("NCC:\n", ncc.round(decimals=2))
print("NN:", nn.tolist(), " E_mrf =", round(my_loss.item(), 4))

# %%
idx, score = match_patches(F, Ps)
assert idx[0].tolist() == nn.tolist()
torch.testing.assert_close(my_loss, mrf_loss(F, Ps)[0])
print("by hand == stylelib.mrf.match_patches and mrf_loss")

# %% [markdown]
# The library computes the same correlations as a *convolution*: the
# normalised painting patches are the kernels, slid over $F$. It does this
# in chunks of patches, so memory stays bounded at large sizes.

# %% [markdown]
# ## Gram against MRF, on a portrait and a landscape

# %%
def both(content, style):
    c = stylelib.load_example(content, size=SIZE)
    s = stylelib.load_example(style, size=SIZE)
    gram = stylelib.stylize(c, s, size=SIZE, steps=STEPS)
    mrf = stylelib.stylize(c, s, style_loss="mrf", size=SIZE, steps=STEPS)
    return c, s, gram, mrf


portrait = both("grace-hopper", "starry-night")
plots.show_images(list(portrait),
                  ["photo", "painting", "Gram loss", "MRF loss"])

# %%
landscape = both("neuschwanstein", "great-wave")
plots.show_images(list(landscape),
                  ["photo", "painting", "Gram loss", "MRF loss"])

# %% [markdown]
# On the portrait the MRF result keeps the face: the glasses, the eyes
# and the cap stay where they were, painted with the painting's own
# strokes, while the Gram result dissolves them into swirls. On the
# landscape the MRF result keeps more of the photo (green trees, blue
# sky) and the Gram result is the more *painterly*: the MRF loss can only
# copy patches the painting has, and matches each one to the most similar
# of them, so it changes a region only as far as the painting allows.

# %% [markdown]
# ## Where do the patches come from?
#
# The match map colours every patch of the result by the *position in the
# painting* of the patch it matched (red grows left to right, green top to
# bottom; the key on the right shows the painting's positions). Then one
# location: the result's patch beside the painting patch it copies.

# %%
c, s, gram, mrf = portrait
net = get_extractor(("relu3_1",), "vgg19", "caffe", "max", "cpu")
match = diagnostics.match_map(net, mrf, s, layer="relu3_1")
rows, cols = match.index.shape
plots.match_figure(match, mrf, s, at=(rows // 3, cols // 2))

# %% [markdown]
# Regions of the result that look alike take their patches from the same
# part of the painting (large areas of one colour in the map). A match is
# made on the *direction* of the feature vectors, not on colour, so the
# two patches can differ in hue while sharing their strokes and edges.

# %% [markdown]
# ## Time and memory
#
# Seconds per optimiser step (a few steps, so the numbers are rough), at
# two sizes. The matching is a convolution of every result position with
# every painting patch, so its cost grows with *both* image sizes: about
# 2× the Gram loss at 192 px on this CPU, about 4× at 384 px. (Inside
# `stylize`, L-BFGS matches once per step and holds the matches during the
# step's line search; matching at every trial point made the objective
# jump and cost ~9 evaluations per step.)

# %%
def seconds_per_eval(**options):
    times = [it.seconds for it in stylelib.stylize_iter(
        c, s, steps=6, preview_every=0, **options)]
    return (times[-1] - times[1]) / (len(times) - 2)


for size in pick([192, 384], [48, 64]):
    g_s = seconds_per_eval(size=size)
    m_s = seconds_per_eval(size=size, style_loss="mrf")
    print(f"{size} px: Gram {g_s:.3f} s/step, MRF {m_s:.3f} s/step")

# %% [markdown]
# Memory is where they differ most. A Gram matrix is $N \times N$
# whatever the image size; MRF keeps every result patch and its matched
# painting patch, $L \times N k^2$ each, which grows with the image:

# %%
for size in [384, 768, 1024]:
    for layer, n, down in [("relu3_1", 256, 4), ("relu4_1", 512, 8)]:
        L = (size // down - 2) ** 2  # patches of a square image
        patches_mb = 2 * L * n * 9 * 4 / 2**20  # both, float32
        gram_mb = n * n * 4 / 2**20
        print(f"{size} px {layer}: MRF patches {patches_mb:7.1f} MB, "
              f"Gram {gram_mb:.2f} MB")

# %% [markdown]
# (Measured: one MRF step at 512², both layers, adds under 2.5 GB of
# memory on the CPU, checked by `tests/test_mrf.py`. The correlation maps
# are computed 256 painting patches at a time, so they stay small.)

# %% [markdown]
# ## Summary
#
# - MRF style loss: cut features into $k \times k$ patches, match each
#   result patch to the painting patch with the highest normalised
#   cross-correlation, and sum the squared distances to the matches.
# - Written by hand with loops and checked against `stylelib.mrf`.
# - It keeps local structure (faces) that the Gram loss smears; it costs
#   more time per step (growing with both image sizes) and memory that
#   grows with the image. Options Li & Wand use: coarse-to-fine
#   (`scales`), rotated and scaled copies of the painting
#   (`mrf_rotations`, `mrf_scales`).
#
# ## Exercises
#
# 1. How many 3×3 patches (stride 1) does an 8×10 feature map have?
#    Self-check below.
# 2. Write `ncc_matrix(P, Q)`: the normalised cross-correlation of every
#    row of P with every row of Q (both 2-D). Self-check below.
# 3. Run the portrait with `style_loss="both"`. Does adding the Gram loss
#    back help or hurt the face?
# 4. Run the landscape with `mrf_rotations=(-15, 0, 15)`. What changes,
#    and what does it cost in time?

# %%
answer_1 = None  # 3×3 patches in an 8×10 map, stride 1
_ = check_value(answer_1, 6 * 8, "patches",
                "(8 - 3 + 1) rows of (10 - 3 + 1) patches")

# %%
ncc_matrix = None  # def ncc_matrix(P, Q): ...
_ = check_function(ncc_matrix,
                   lambda P, Q: torch.nn.functional.normalize(P, dim=1)
                   @ torch.nn.functional.normalize(Q, dim=1).T,
                   lambda g: (torch.randn(5, 7, generator=g),
                              torch.randn(4, 7, generator=g)),
                   "ncc_matrix", "divide each row by its norm, then P @ Q.T")
