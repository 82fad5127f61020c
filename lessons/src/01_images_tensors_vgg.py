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
# # 01 · Images, tensors and the VGG network
#
# Neural style transfer never looks at pixels directly. It looks at what a
# network trained to recognise objects *sees* in the pixels: thousands of
# feature maps, from edges and colours in the first layers to parts of
# objects in the deepest. Before we can write a single loss we need three
# things: images as tensors, a pretrained network, and a way to read its
# layers by name. That is this lesson.
#
# **You will:** load a photo and a painting as tensors, list VGG-19's
# layers, write the network's input preprocessing by hand and check it
# against `stylelib`, and look at feature maps from shallow to deep.

# %%
# %matplotlib inline
import torch
import stylelib
from stylelib import plots
from stylelib.vgg import VGGFeatures, layer_names
from lesson_utils import FAST, pick, check

SIZE = pick(384, 128)  # smaller in CI's fast mode
print("fast mode:", FAST)

# %% [markdown]
# ## Images are tensors of shape (B, 3, H, W) in [0, 1]
#
# A colour image with height $H$ and width $W$ becomes a tensor with three
# channels (red, green, blue). We add a batch dimension $B$ in front, so
# one image is $(1, 3, H, W)$. Every value is a brightness between 0 and 1.

# %%
photo = stylelib.load_example("grace-hopper", size=SIZE)
painting = stylelib.load_example("starry-night", size=SIZE)
print(photo.shape, photo.dtype, photo.min().item(), photo.max().item())
print(painting.shape)

# %%
plots.show_images([photo, painting], ["content: a photo", "style: a painting"])

# %% [markdown]
# ## The network: VGG-19 without its top
#
# VGG-19 (Simonyan & Zisserman, 2015) was trained to sort 1.2 million
# ImageNet photos into 1000 classes. Its *convolutional* part is 16
# convolution layers in five blocks, each followed by a ReLU, with a 2×2
# pooling after each block. The "top" (three fully connected layers that
# output class scores) needs a fixed 224×224 input and knows nothing about
# texture, so style transfer removes it: "ImageNet weights with the top
# layers removed" means exactly the conv part below.
#
# We name layers by block and position: `conv3_2` is the second convolution
# of block 3, `relu3_2` the ReLU after it, `pool3` the pooling that ends
# block 3.

# %%
names = layer_names("vgg19")
print(len(names), "layers:")
for block in range(1, 6):
    row = [n for n in names if n[-3] == str(block) or n == f"pool{block}"]
    print(" ", row)

# %% [markdown]
# `VGGFeatures` returns a dictionary `{layer name: features}` for the
# layers you ask for, and builds the network only as deep as the deepest
# of them. The weights are the original Caffe VGG-19 ImageNet weights,
# which ship with the install, so this works offline.

# %%
LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
vgg = VGGFeatures(LAYERS, weights="caffe")
print(vgg.weights_note)
print("modules built:", len(vgg.net), "of", len(names))

# %% [markdown]
# ## Preprocessing: what the weights expect
#
# The Caffe network was trained on images with the channels in **BGR**
# order, values from 0 to 255, and the average ImageNet pixel subtracted:
#
# $$x_{\text{caffe}} = 255 \cdot x_{\text{BGR}} - (103.939,\ 116.779,\ 123.68)$$
#
# Write that by hand: flip the channel order, scale, subtract the mean.

# %%
def my_preprocess(x):
    bgr = x.flip(1)  # (B, 3, H, W): channels reversed
    mean = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    return 255 * bgr - mean


torch.testing.assert_close(my_preprocess(photo), vgg.preprocess(photo),
                           rtol=1e-5, atol=1e-3)
print("my_preprocess matches stylelib's")

# %% [markdown]
# `stylelib` does this *inside* the extractor, so the rest of the code
# always works with images in [0, 1]; and it never changes your tensor in
# place (check: `photo` is unchanged).

# %%
before = photo.clone()
features = vgg(photo)
print(torch.equal(photo, before))
for name, f in features.items():
    print(f"{name}: {tuple(f.shape)}")

# %% [markdown]
# Each block halves the height and width (the pooling) while the number of
# feature maps $N_l$ grows: 64, 128, 256, 512, 512. A layer with $N_l$ maps
# of $M_l = H_l W_l$ positions is the $N_l \times M_l$ matrix $F^l$ that
# every loss in this course is written in.

# %% [markdown]
# ## What the layers see
#
# Below, the first 16 feature maps of each of the five layers, relu1_1 to
# relu5_1, for the photo and the painting (each map scaled to its own
# range). Early layers respond to edges and colours everywhere; deep
# layers respond to a few large parts.

# %%
with torch.no_grad():
    feats = {"photo": vgg(photo), "painting": vgg(painting)}
plots.feature_maps(feats, "relu1_1")

# %%
plots.feature_maps(feats, "relu2_1")

# %%
plots.feature_maps(feats, "relu3_1")

# %%
plots.feature_maps(feats, "relu4_1")

# %%
plots.feature_maps(feats, "relu5_1")

# %% [markdown]
# ## Experiment
#
# Change `LAYER` and `CHANNEL` to look at one feature map at full size.
# Try to find a map at `relu2_1` that lights up on the flag's stripes, and
# one at `relu4_1` that lights up on the face.

# %%
LAYER, CHANNEL = "relu2_1", 5
one = {k: {LAYER: v[LAYER][:, CHANNEL:CHANNEL + 1]} for k, v in feats.items()}
plots.feature_maps(one, LAYER, count=1)

# %% [markdown]
# ## Summary
#
# - Images are float tensors $(B, 3, H, W)$ in $[0, 1]$; the network's own
#   preprocessing (BGR, 0–255, minus the mean pixel) happens inside the
#   extractor, on a copy.
# - We use only VGG's convolutional part, and name its layers by string:
#   `relu4_2` is the ReLU after the second convolution of block 4.
# - Layer $l$ gives $N_l$ feature maps of $M_l$ positions: the matrix
#   $F^l \in \mathbb{R}^{N_l \times M_l}$. Deeper layers have more, smaller
#   maps that respond to larger structures.
#
# ## Exercises
#
# 1. For a 256×256 input, what is the height of the feature maps at
#    `relu4_1`? (Count the poolings before block 4.) Self-check below.
# 2. How many numbers does $F^l$ hold at `relu3_1` for a 256×256 input,
#    that is $N_l \times M_l$? Self-check below.
# 3. torchvision's ImageNet weights expect RGB in [0, 1], minus the mean
#    (0.485, 0.456, 0.406), divided by (0.229, 0.224, 0.225). Write
#    `tv_preprocess(x)` for (B, 3, H, W) images. Self-check below (you can
#    also compare with `VGGFeatures(["relu1_1"], weights="random")
#    .preprocess(x)`: the `random` weights use the torchvision convention).
# 4. Pick a channel of `relu5_1` and describe in one sentence what it
#    responds to in the photo and in the painting.

# %%
answer_1 = None  # the height of relu4_1 maps for a 256×256 input
_ = check("01.1", answer_1)

# %%
answer_2 = None  # N × M at relu3_1 for a 256×256 input
_ = check("01.2", answer_2)

# %%
tv_preprocess = None  # def tv_preprocess(x): ...
_ = check("01.3", tv_preprocess)
