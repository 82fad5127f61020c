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
# # 03 · Gram matrices and the style loss $E_s$
#
# A painting's style is not *where* things are but *how* they are painted:
# which colours and strokes appear, and which appear together. Gatys et
# al. capture this with one small matrix per layer, the Gram matrix of
# correlations between feature maps, in which every trace of position has
# been summed away. This lesson builds it, shows that it really forgets
# position, compares the normalisations different tools use, and then
# synthesises textures from noise using nothing but Gram matrices.

# %%
# %matplotlib inline
import torch
import stylelib
from stylelib import plots
from stylelib.losses import gram_matrix, style_loss
from stylelib.vgg import VGGFeatures
from lesson_utils import pick, check

SIZE, STEPS = pick(160, 48), pick(150, 5)

# %% [markdown]
# ## The equations
#
# With $F^l$ the $N_l \times M_l$ feature matrix of layer $l$, the Gram
# matrix holds the inner product of every pair of feature maps
# (Gatys et al. 2015, eq. 3):
#
# $$G^l_{ij} = \sum_k F^l_{ik} F^l_{jk}$$
#
# and with $A^l$ the painting's Gram matrix, the style error of layer $l$
# (eq. 4) is
#
# $$E_s^l = \frac{1}{4 N_l^2 M_l^2} \sum_{i,j} \left(G^l_{ij} - A^l_{ij}\right)^2$$

# %% [markdown]
# ## The Gram matrix by hand
#
# Loops first: entry $(i, j)$ multiplies map $i$ and map $j$ position by
# position and adds up.

# %%
def gram_loops(F):
    """F is (N, M); returns the (N, N) Gram matrix."""
    N, M = F.shape
    G = torch.zeros(N, N)
    for i in range(N):
        for j in range(N):
            G[i, j] = sum(F[i, k] * F[j, k] for k in range(M))
    return G


F = torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]])  # N = 3, M = 2
gram_loops(F)

# %% [markdown]
# The double loop over $(i, j)$ with a sum over $k$ is a matrix product,
# $G = F F^\top$. Batched over images of shape $(B, N, H, W)$:

# %%
def my_gram(features):
    f = features.flatten(2)  # (B, N, M)
    return f @ f.transpose(1, 2)  # (B, N, N)


x = torch.randn(2, 5, 4, 3)
torch.testing.assert_close(my_gram(x), gram_matrix(x))
torch.testing.assert_close(my_gram(x)[0], gram_loops(x[0].flatten(1)))
print("loops == matrix product == stylelib.losses.gram_matrix")

# %% [markdown]
# ## Why it captures texture: positions are summed away
#
# Shuffle the *positions* of a feature matrix (the columns of $F$) and
# the Gram matrix does not change at all, because every entry is a sum
# over positions.

# %%
painting = stylelib.load_example("starry-night", size=SIZE)
vgg = VGGFeatures(["relu1_1", "relu2_1", "relu3_1", "relu4_1",
                   "relu5_1"], weights="caffe")
with torch.no_grad():
    f = vgg(painting)["relu3_1"]  # (1, 256, H, W)
perm = torch.randperm(f.shape[2] * f.shape[3])
shuffled = f.flatten(2)[:, :, perm]  # the same values, other positions
print(torch.allclose(gram_matrix(f), my_gram(shuffled[..., None]),
                     rtol=1e-4))

# %% [markdown]
# The same holds, approximately, for the *image*: cut the painting into
# tiles, shuffle them, and its Gram matrices barely move (only the seams
# between tiles are new), while a different painting's are far away.

# %%
def shuffle_tiles(image, tile, seed=0):
    g = torch.Generator().manual_seed(seed)
    b, c, h, w = image.shape
    rows, cols = h // tile, w // tile
    x = image[..., : rows * tile, : cols * tile]
    t = x.unfold(2, tile, tile).unfold(3, tile, tile)  # (1,3,r,c,t,t)
    t = t.reshape(1, 3, rows * cols, tile, tile)
    t = t[:, :, torch.randperm(rows * cols, generator=g)]
    t = t.reshape(1, 3, rows, cols, tile, tile).permute(0, 1, 2, 4, 3, 5)
    return t.reshape(1, 3, rows * tile, cols * tile)


# %%
TILE = pick(32, 16)
mixed = shuffle_tiles(painting, TILE)
cropped = painting[..., : mixed.shape[2], : mixed.shape[3]]
wave = stylelib.load_example("great-wave", size=SIZE)
wave = torch.nn.functional.interpolate(wave, size=cropped.shape[-2:])
plots.show_images([cropped, mixed, wave],
                  ["painting", "tiles shuffled", "another painting"])

# %%
with torch.no_grad():
    fa, fb, fc = vgg(cropped), vgg(mixed), vgg(wave)
for layer in fa:
    A = gram_matrix(fa[layer])
    d_mixed = (gram_matrix(fb[layer]) - A).norm() / A.norm()
    d_other = (gram_matrix(fc[layer]) - A).norm() / A.norm()
    print(f"{layer}: shuffled {d_mixed:.3f}   other painting {d_other:.3f}")

# %% [markdown]
# ## The style loss and its normalisation
#
# By hand, for batched features and a target Gram matrix $A$:

# %%
def my_style_loss(F, A):
    N, M = F.shape[1], F.shape[2] * F.shape[3]
    return (my_gram(F) - A).pow(2).sum((1, 2)) / (4 * N**2 * M**2)


x, y = torch.randn(2, 6, 4, 4), torch.randn(1, 6, 4, 4)
A = gram_matrix(y)  # the target: another image, the same M
torch.testing.assert_close(my_style_loss(x, A), style_loss(x, A))
print("by hand == stylelib.losses.style_loss")

# %% [markdown]
# Tools disagree on the constant. Call $r$ the ratio of a tool's style
# loss to eq. 4 for the same features, $L_{\text{tool}} = r\,E_s$. To
# give the same picture (the same balance against the content term), the
# tool needs $\beta_{\text{tool}} = \beta / r$: the last column. For one
# image ($B = 1$), with $k$ the number of poolings before the layer (so
# $M_l = HW / 4^k$ for an $H \times W$ input):
#
# | tool | Gram | style loss of a layer | $r$ | β multiplier $1/r$ |
# |---|---|---|---|---|
# | Gatys et al. (eq. 4), this kit | $FF^\top$ | $\sum(G-A)^2 / 4N^2M^2$ | 1 | 1 |
# | PyTorch tutorial | $FF^\top / NM$ | mean over the $N^2$ entries | $4 / N^2$ | $N^2/4$ |
# | neural-style (Lua) | $FF^\top / NM$ | mean over the $N^2$ entries | $4 / N^2$ | $N^2/4$ |
# | the blog's Keras code | $FF^\top / NM$ | mean over the $N^2$ entries | $4 / N^2$ | $N^2/4$ |
# | Keras example | $FF^\top$ | $\sum(G-A)^2 / (4 \cdot 3^2 (HW)^2)$ | $N^2 / (9 \cdot 16^k)$ | $9 \cdot 16^k / N^2$ |
# | crowsonkb | $FF^\top / M$ | $\sum d^2 / \sum \lvert d\rvert$, $d = (G-A)/M$ | not a constant | none |
#
# The Keras example writes 3 for the number of channels and the *input
# image's* rows × cols for the size, at every layer; crowsonkb divides the
# squared error by the absolute error, so the gradient stays about 1 in
# size whatever the scale, and no fixed β converts it to ours. (The tools'
# content terms differ too, the tutorial's is a mean and Keras' has no ½,
# so α moves as well; the table compares the style terms only.) Per layer:

# %%
NS = {"relu1_1": 64, "relu2_1": 128, "relu3_1": 256, "relu4_1": 512,
      "relu5_1": 512}
for k, (layer, n) in enumerate(NS.items()):  # k poolings before layer
    tutorial, keras = 4 / n**2, n**2 / (9 * 16**k)
    print(f"{layer}: tutorial r = {tutorial:.3g} (β × {1 / tutorial:,.0f})"
          f", Keras r = {keras:.3g} (β × {1 / keras:.3g})")

# %% [markdown]
# Different $N_l$ per layer means the tutorial also *re-weights* the
# layers against each other: relu1_1 counts 64 times more than relu5_1
# there, for the same $E_s$; the Keras example weights relu1_1 about a
# thousand times more than relu5_1. `stylelib` keeps eq. 4 and divides
# each layer by its own target size before optimising (lesson 04), which
# re-weights the layers as well, but by how far each is from its target.

# %% [markdown]
# ## The blog post, corrected
#
# The blog this kit grew from (Keras, VGG-16) prints eq. 4 and then runs
# code that computes something else. Its `gram_matrix` divides $FF^\top$
# by `num_elements` $= N M$, and its style loss is the mean squared error
# of two such matrices, a mean over their $N^2$ entries:
#
# $$L_{\text{blog}} = \frac{1}{N^2} \sum_{ij} \left(\frac{G_{ij} -
# A_{ij}}{NM}\right)^2 = \frac{\sum_{ij} (G_{ij} - A_{ij})^2}{N^4 M^2}
# = \frac{4}{N^2}\, E_s$$
#
# Its code, translated to PyTorch, next to eq. 4 on real features (The
# Great Wave against The Starry Night):

# %%
def blog_style_loss(F, S):  # the blog's Keras code, in PyTorch
    n, m = F.shape[1], F.shape[2] * F.shape[3]
    G, A = my_gram(F) / (n * m), my_gram(S) / (n * m)  # "num_elements"
    return (G - A).pow(2).mean((1, 2))  # "mean squared error", (B,)


for layer, n in NS.items():
    eq4 = style_loss(fc[layer], gram_matrix(fa[layer])).item()
    blog = blog_style_loss(fc[layer], fa[layer]).item()
    print(f"{layer}: eq. 4 {eq4:.3e}, blog {blog:.3e}, "
          f"ratio {blog / eq4:.3g} = 4/N² {4 / n**2:.3g}")

# %% [markdown]
# So the blog's β must be $N^2/4$ times larger than the one its equation
# implies: 1,024 at relu1_1, 65,536 at relu4_1 and relu5_1. Its other
# slips, each checkable:
#
# - **The snippet does not run.** `return, K.transpose(features))` is a
#   syntax error: a stray comma after `return` and a parenthesis too many.
#   The line meant is `K.dot(features, K.transpose(features))`.
# - **G and A swap roles.** It calls G the style image's Gram matrix and A
#   "the gramian when the input is noise". In Gatys et al., $G^l$ is the
#   *generated* image's (the one being optimised, which starts as noise)
#   and $A^l$ the painting's. The number is the same either way, but the
#   gradient flows only through $G$: which one is the variable matters.
# - **Not a mean squared error.** $1/(4N^2M^2)$ is not a mean over the
#   $N^2$ entries: eq. 4 is a *quarter* of the mean squared error of the
#   per-position Gram matrices $G/M$ and $A/M$ (checked below).
# - **Not only "the higher layers".** The style is taken at relu1_1 …
#   relu5_1, shallow and deep; the texture synthesis below shows what the
#   shallow layers add.
# - **Not "hundreds of orders of magnitude faster".** Johnson et al.
#   report about three orders of magnitude (≈ 1000×); lesson 09 measures
#   it on this CPU.

# %%
F, S = fc["relu3_1"], fa["relu3_1"]
m = F.shape[2] * F.shape[3]
quarter_mse = (my_gram(F) / m - my_gram(S) / m).pow(2).mean((1, 2)) / 4
torch.testing.assert_close(quarter_mse, style_loss(F, gram_matrix(S)))
print("eq. 4 == ¼ · mean squared error of G/M and A/M")

# %% [markdown]
# ## Texture synthesis from noise
#
# Gatys et al. (2016, figure 1, top row) start from white noise and
# minimise only the style loss, adding layers one at a time: `relu1_1`,
# then `relu1_1` and `relu2_1`, and so on. No content at all
# (`content_weight=0`).

# %%
sets, textures = [], []
LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
for k in range(1, 6):
    layers = tuple(LAYERS[:k])
    out = stylelib.stylize(painting, painting, content_weight=0,
                           style_layers=layers, init="noise",
                           tv_weight=0, size=SIZE, steps=STEPS)
    sets.append("+".join(l[4] for l in layers))
    textures.append(out)

# %%
titles = [f"relu{s}_1" if len(s) == 1 else f"relu {s.replace('+', ',')}"
          for s in sets]
plots.show_images([painting] + textures, ["painting"] + titles, height=2.4)

# %% [markdown]
# With `relu1_1` alone the noise only takes on the painting's colours.
# Each deeper layer adds structure at a larger scale: short strokes, then
# swirls, then the stars' halos. None of it is *where* it was in the
# painting: the Gram matrix never knew.

# %% [markdown]
# ## Experiment
#
# Synthesise a texture from another painting (`"great-wave"`,
# `"composition-viii"`, `"cafe-terrace"`), or only from the deep layers
# (`style_layers=("relu4_1", "relu5_1")`). What is lost without the
# shallow layers?

# %%
other = stylelib.load_example("composition-viii", size=SIZE)
out = stylelib.stylize(other, other, content_weight=0, init="noise",
                       tv_weight=0, size=SIZE, steps=STEPS)
plots.show_images([other, out], ["painting", "texture, relu1_1..5_1"])

# %% [markdown]
# ## Summary
#
# - $G = FF^\top$: inner products between feature maps, summed over all
#   positions. Loops, one matrix product and `stylelib.losses.gram_matrix`
#   agree.
# - Shuffling positions leaves $G$ unchanged, exactly for features and
#   nearly for shuffled image tiles: the Gram matrix describes texture, not
#   layout.
# - $E_s^l = \sum (G - A)^2 / 4N_l^2M_l^2$. Other tools use other
#   constants, which changes what a "good" β is (by $N^2/4$ for the
#   tutorial and the blog's code), and re-weights layers.
# - The blog's code computes $4/N^2$ times its own equation; it also swaps
#   G and A, calls eq. 4 a mean squared error, takes style from "the
#   higher layers" only and overstates Johnson et al.'s speed-up.
# - Style losses alone turn noise into the painting's texture; deeper
#   layers add larger structures.
#
# ## Exercises
#
# 1. For features $F$ equal to 2 everywhere, with $N = 3$ maps of
#    $M = 4$ positions, what is $G_{12}$? Self-check below.
# 2. Write `gram_per_position(F)`, the Gram matrix divided by $M$
#    (crowsonkb's convention), shape (B, N, N). Self-check below.
# 3. With the PyTorch tutorial's convention, by what factor must β be
#    multiplied at `relu5_1` to give the same picture as ours? Self-check
#    below.
# 4. The same question for the Keras example at `relu5_1` (four poolings
#    before it). Self-check below.
# 5. Shuffle the painting with smaller and smaller tiles (`TILE` = 16, 8,
#    4). At which layer does the Gram matrix notice first, and why?

# %%
answer_1 = None  # G_12 for F = 2 everywhere, N = 3, M = 4
_ = check("03.1", answer_1)

# %%
gram_per_position = None  # def gram_per_position(F): ...
_ = check("03.2", gram_per_position)

# %%
answer_3 = None  # β multiplier, PyTorch tutorial, relu5_1
_ = check("03.3", answer_3)

# %%
answer_4 = None  # β multiplier, Keras example, relu5_1
_ = check("03.4", answer_4)
