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
# # 02 · The content loss $E_c$
#
# What does it mean for two images to have the same *content*? Not the same
# pixels: a painting of a face and a photo of it share no pixels. Gatys et
# al. answer: the same *features* at a deep layer of the network. This
# lesson writes that measure down, and then asks the network to invert
# it: starting from white noise, find an image whose features at one layer
# match the photo's. What survives tells us what each layer keeps.

# %%
# %matplotlib inline
import time
import torch
import stylelib
from stylelib import plots
from stylelib.images import resize_tensor
from stylelib.losses import content_loss
from stylelib.vgg import VGGFeatures
from lesson_utils import pick, check

SIZE, STEPS = pick(192, 48), pick(150, 5)

# %% [markdown]
# ## The equation
#
# Let $F^l$ be the generated image's features at layer $l$ and $P^l$ the
# photo's, both $N_l \times M_l$ matrices ($N_l$ maps, $M_l$ positions).
# The content loss is half the squared distance between them
# (Gatys et al. 2015, eq. 1):
#
# $$E_c = \frac{1}{2} \sum_{i,j} \left(F^l_{ij} - P^l_{ij}\right)^2$$
#
# No average: the sum grows with $N_l M_l$, so the same weight means more
# for a larger image. (The PyTorch tutorial uses the mean instead.)
#
# Gatys et al. take $P$ and $F$ at "conv4_2". In their Caffe network the
# ReLU runs *in place*: it overwrites the convolution's output blob, so
# what the code reads under the name conv4_2 is the value after the ReLU.
# Here every layer has its own name, and that value is `relu4_2`. (Our
# `conv4_2` is the value before the ReLU, which the paper never used.)

# %% [markdown]
# ## By hand
#
# First with explicit loops over $i$ and $j$, on a tiny example where we
# can follow every number.

# %%
def content_loops(F, P):
    """E_c for one image: F and P are (N, M) matrices."""
    total = 0.0
    for i in range(F.shape[0]):
        for j in range(F.shape[1]):
            total += (F[i, j] - P[i, j]) ** 2
    return 0.5 * total


F = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # N = 2, M = 3
P = torch.tensor([[1.0, 2.0, 2.0], [4.0, 3.0, 6.0]])
content_loops(F, P)  # ½ (1² + 2²) = 2.5

# %% [markdown]
# Loops are slow on real feature maps (hundreds of thousands of entries).
# The same sum, vectorised and batched over images of shape
# $(B, N, H, W)$:

# %%
def my_content_loss(F, P):
    """(B, N, H, W), (B, N, H, W) -> (B,)"""
    return 0.5 * (F - P).pow(2).flatten(1).sum(1)


x = torch.randn(2, 8, 5, 5)
p = torch.randn(2, 8, 5, 5)
torch.testing.assert_close(my_content_loss(x, p), content_loss(x, p))
loops = content_loops(x[0].flatten(1), p[0].flatten(1))
torch.testing.assert_close(my_content_loss(x[:1], p[:1])[0], loops)
print("by hand == stylelib.losses.content_loss")

# %% [markdown]
# ## On real features
#
# Compare the photo with a blurred copy of it (same content, different
# "brushwork") and with a photo of a castle (different content). The
# blurred copy stays much closer in feature space, at a shallow and at a
# deep layer: features describe *what* is in the image more than how it is
# drawn.

# %%
photo = stylelib.load_example("grace-hopper", size=SIZE)
other = stylelib.load_example("neuschwanstein", size=SIZE)
other = resize_tensor(other, photo.shape[-2:])  # same size as the photo
blurred = torch.nn.functional.avg_pool2d(photo, 5, 1, 2)  # a "repainting"
vgg = VGGFeatures(["relu2_2", "relu4_2"], weights="caffe")
with torch.no_grad():
    f = {n: vgg(im) for n, im in
         [("photo", photo), ("blurred", blurred), ("castle", other)]}

# %%
for layer in ["relu2_2", "relu4_2"]:
    p = f["photo"][layer]
    norm = 0.5 * p.pow(2).sum()  # E_c of all-zero features
    for name in ["blurred", "castle"]:
        e = content_loss(f[name][layer], p).item() / norm.item()
        print(f"{layer}: photo vs {name:8s} E_c / E_c(0) = {e:.3f}")

# %% [markdown]
# (We divide by $E_c(0) = \tfrac12\sum P^2$, the loss of all-zero
# features, to compare layers of different sizes. `stylelib` scales every
# term this way before optimising; lesson 04 explains why.)

# %% [markdown]
# The naming, checked: `relu4_2` is `conv4_2` with its negative values set
# to zero, and about how many of them are zero tells you how much the
# ReLU changes.

# %%
net = VGGFeatures(["conv4_2", "relu4_2"], weights="caffe")
with torch.no_grad():
    out = net(photo)
torch.testing.assert_close(out["relu4_2"], out["conv4_2"].clamp(min=0))
zero = (out["relu4_2"] == 0).float().mean().item()
print(f"relu4_2 == conv4_2 clamped at 0; {zero:.0%} of its values are 0")

# %% [markdown]
# ## Reconstructing an image from one layer's features
#
# Now the experiment of Gatys et al. (2016, figure 1, bottom row): start
# from white noise and change the *pixels* until $E_c$ at one layer is as
# small as we can make it. `stylize` does this when the style weight is 0.

# %%
LAYERS = ["relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2"]
results = []
for layer in LAYERS:
    start = time.perf_counter()
    out = stylelib.stylize(photo, photo, content_layers=(layer,),
                           style_weight=0, tv_weight=0, init="noise",
                           size=SIZE, steps=STEPS)
    results.append(out)
    print(f"{layer}: {time.perf_counter() - start:.1f} s")

# %%
plots.show_images([photo] + results, ["photo"] + LAYERS, height=2.6)

# %% [markdown]
# Read the row from left to right. From `relu1_2` to `relu3_2` the photo
# comes back almost exactly, a little noisier each time. From `relu4_2`
# everything is still recognisable (the cap, the glasses, the ribbons) but
# colours and fine texture drift: the layer no longer pins them down. From
# `relu5_2` only the arrangement of the large parts is left.
# **Deeper layers keep objects and lose pixels**, which is why Gatys et
# al. take the content from a deep layer (`relu4_2`): it leaves the
# painting free to decide the colours and strokes.

# %% [markdown]
# ## Experiment
#
# Reconstruct from `relu4_2` again with more steps, or start from the
# painting instead of noise (`init="style"`): does the painting's colour
# survive where the content loss does not care?

# %%
painting = stylelib.load_example("starry-night", size=SIZE)
out = stylelib.stylize(photo, painting, content_layers=("relu4_2",),
                       style_weight=0, tv_weight=0, init="style",
                       size=SIZE, steps=STEPS)
plots.show_images([photo, painting, out],
                  ["photo", "start: the painting", "after: relu4_2 only"])

# %% [markdown]
# ## Summary
#
# - Content is compared in feature space: $E_c = \tfrac12 \sum_{ij}
#   (F^l_{ij} - P^l_{ij})^2$, written by hand and checked against
#   `stylelib.losses.content_loss`.
# - The sum is not normalised, so it grows with the layer's $N_l M_l$.
# - Inverting one layer from noise shows what it keeps: shallow layers keep
#   pixels, deep layers keep the arrangement of objects. Style transfer
#   takes its content from `relu4_2`, which is what the paper calls
#   conv4_2 (Caffe's ReLU overwrites the convolution's output in place).
#
# ## Exercises
#
# 1. For $F = P + 1$ everywhere at a layer with $N = 64$ maps of
#    $32 \times 32$ positions, what is $E_c$? Self-check below.
# 2. Write `content_mean(F, P)`, the PyTorch tutorial's version: the
#    *mean* of $(F-P)^2$ instead of half the sum, shape (B,). Self-check
#    below.
# 3. By what factor does $E_c$ grow when both images are twice as wide and
#    twice as high, if the features stay alike? Self-check below. Then:
#    the style errors $E_s^l$ do not grow with the size (lesson 03), so
#    what does a fixed content weight α do at the larger size?
# 4. Reconstruct from `conv4_2` (our name for the value *before* the
#    ReLU, which Gatys et al.'s Caffe code never saw) instead of
#    `relu4_2`. Which looks closer to the photo, and why might the
#    negative values help?

# %%
answer_1 = None  # E_c for F = P + 1, N = 64, 32×32 positions
_ = check("02.1", answer_1)

# %%
content_mean = None  # replace with: def content_mean(F, P): ...
_ = check("02.2", content_mean)

# %%
answer_3 = None  # the factor by which E_c grows at twice the width and height
_ = check("02.3", answer_3)
