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
# # 09 · Fast style transfer (Johnson et al. 2016)
#
# Gatys' method solves an optimisation problem for every picture: minutes
# on a CPU. Johnson, Alahi and Fei-Fei asked: what if a network learned to
# *solve it in one pass*? They train a feed-forward "transformation
# network" $f_W$ once per painting, on thousands of photos, with the very
# same content and style losses; afterwards a photo is stylised in
# milliseconds, fast enough for video. This lesson builds the loss, trains
# a tiny network, and explains the artifacts the paper's network made
# (a checkerboard, blotches) and the later fixes that removed them.

# %%
# %matplotlib inline
import time
import torch
import stylelib
from stylelib import plots
from stylelib.diagnostics import period2_energy
from stylelib.fast import Stylizer
from stylelib.models import list_models
from stylelib.images import resize_tensor
from stylelib.losses import content_loss, gram_matrix, style_loss
from stylelib.transformer_net import TransformerNet
from lesson_utils import pick, check

# %% [markdown]
# ## The network
#
# Johnson et al.'s table: a 9×9 convolution, two stride-2 convolutions
# (downsampling ×4), five residual blocks, two fractionally-strided
# (transposed) convolutions back up, and a 9×9 convolution to RGB. We
# print every layer's output shape for a 256×256 photo.

# %%
def layer_table(net, size=256):
    rows = []
    hooks = [m.register_forward_hook(
        lambda m, i, o, name=name: rows.append((name, type(m).__name__,
                                                tuple(o.shape[1:]))))
        for name, m in net.layers.named_children()]
    with torch.no_grad():
        net.eval()(torch.rand(1, 3, size, size))
    for h in hooks:
        h.remove()
    return rows

# %%
for name, kind, shape in layer_table(TransformerNet("improved")):
    print(f"{name:>3} {kind:<12} -> {shape}")
n_params = sum(p.numel() for p in TransformerNet().parameters())
print(f"{n_params:,} parameters")

# %% [markdown]
# `stylelib` offers the network twice. `paper` is Johnson et al.'s exactly:
# batch norm, zero padding, transposed convolutions, and residual blocks of
# unpadded convolutions with a 40-pixel reflection pad around the input.
# `improved` has the later fixes: instance norm, reflection padding, and
# nearest-neighbour upsampling followed by a convolution. Both have the
# same 1.68 million weights (at width 32, as `starry-night-improved`).

# %% [markdown]
# ## The loss: the same equations, averaged over photos
#
# For a photo $x$ and its stylised version $f_W(x)$, with $A^l$ the
# painting's Gram matrices, the training loss is the seed's, averaged over
# a batch of photos:
#
# $$\mathcal{L}(W) = \frac{1}{B}\sum_{b} \Big[ \alpha
# \frac{E_c(f_W(x_b), x_b)}{E_c(0)} + \beta \sum_l w_l
# \frac{E_s^l(f_W(x_b), A^l)}{E_s^l(0)} \Big] + \gamma\,\mathrm{TV}$$
#
# with Johnson et al.'s layers: content `relu2_2`, style `relu1_2`,
# `relu2_2`, `relu3_3`, `relu4_3` of VGG-16 (in VGG-19 the same blocks end
# at `relu3_4`, `relu4_4`). The content target is the photo *itself*: the
# network must keep it while adding the style. `stylelib` trains with
# VGG-19 by default: the only VGG-16 we have offline was fine-tuned for
# edge detection, and in 300-step trials it gave washed-out, blurry
# networks where VGG-19 kept the content and the strokes. By hand, with
# the plain loss functions:

# %%
from stylelib.train import TrainConfig, perceptual_terms
from stylelib.vgg import VGGFeatures

# %%
cfg = TrainConfig(style="starry-night", data=".", arch="vgg19")
vgg = VGGFeatures((cfg.content_layer,) + cfg.style_layers, weights="caffe")
painting = stylelib.load_example("starry-night", size=128)
with torch.no_grad():
    fs = vgg(painting)
A = {l: gram_matrix(fs[l]) / (fs[l].shape[2] * fs[l].shape[3])
     for l in cfg.style_layers}  # per position: the crop size may differ

# %%
photos = torch.cat([stylelib.load_example(n, size=96)[..., :64, :64]
                    for n in ("kingfisher", "machu-picchu")])
out = TransformerNet("improved", width=8)(photos)  # untrained

# %%
def my_terms(out, photos):
    f_out, p = vgg(out), vgg(photos)[cfg.content_layer]
    c = content_loss(f_out[cfg.content_layer], p)
    terms = {"content": (c / (0.5 * p.pow(2).flatten(1).sum(1))).mean()}
    for l in cfg.style_layers:
        f, m = f_out[l], f_out[l].shape[2] * f_out[l].shape[3]
        zero = A[l].pow(2).sum() / (4 * A[l].shape[1] ** 2)
        e = style_loss(f, A[l] * m) / zero
        terms[l] = cfg.style_weight / len(cfg.style_layers) * e.mean()
    return terms

# %%
mine = my_terms(out, photos)
theirs = perceptual_terms(vgg, out, photos, A, cfg)
torch.testing.assert_close(mine["content"], theirs["content"])
for l in cfg.style_layers:
    torch.testing.assert_close(mine[l], theirs[f"style:{l}"])
print("by hand == stylelib.train.perceptual_terms")

# %% [markdown]
# ## A short training run
#
# `stylelib.train.train_iter` runs Adam on $W$, drawing random crops of
# photos (the bundled photos here; a folder of your own with
# `stylelib train`). This is a toy run: a narrow network, small crops,
# a few dozen steps. Watch the validation photo change.

# %%
import tempfile
from pathlib import Path
from stylelib.data import EXAMPLES_DIR
from stylelib.train import train_iter

folder = Path(tempfile.mkdtemp())
for e in stylelib.list_examples("content"):
    if e.name != "chelsea-the-cat":  # kept out, for validation
        (folder / e.path.name).symlink_to(e.path)

# %%
toy = TrainConfig(style="starry-night", data=str(folder), width=8,
                  image_size=pick(128, 32), batch_size=4, style_size=256,
                  steps=pick(60, 3), preview_every=pick(20, 1), lr=5e-3)
previews, losses = {}, []
for it in train_iter(toy, folder / "toy.safetensors"):
    losses.append(it.loss)
    if it.preview is not None:
        previews[f"step {it.step}"] = it.preview
print(f"{it.step} steps in {it.seconds:.0f} s; loss {losses[0]:.2f} "
      f"-> {losses[-1]:.2f}")

# %%
plots.show_images(list(previews.values())[-3:], list(previews)[-3:])

# %% [markdown]
# A real model needs thousands of steps. The bundled ones (see
# `stylelib models`) were trained the same way, longer, most of them
# from a network that already paints (below); here they are on photos
# they never saw during training:

# %%
held_out = [stylelib.load_example(n, size=pick(320, 64))
            for n in ("chelsea-the-cat", "grace-hopper")]
models = list_models()
runs = [Stylizer(m.name) for m in models]  # each loaded once, ready to run
for photo in held_out:
    outs = [run(photo) for run in runs]
    plots.show_images([photo] + outs, ["photo"] + [m.name for m in models],
                      height=2.4)

# %% [markdown]
# ## Artifact 1: the checkerboard of transposed convolutions
#
# A stride-2 transposed convolution with a 3×3 kernel paints each output
# pixel from one or two input pixels along each axis, alternately; in 2-D
# that is 1, 2 or 4 input pixels: an uneven overlap that prints a period-2
# pattern (Odena et al. 2016). Count them with an all-ones kernel:

# %%
count = torch.nn.functional.conv_transpose2d(
    torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3), stride=2)
print(count[0, 0, 2:6, 2:6])  # input pixels behind each output pixel
assert set(count[0, 0, 2:-2, 2:-2].unique().tolist()) == {1.0, 2.0, 4.0}

# %% [markdown]
# Upsampling by repetition and then convolving treats every pixel alike.
# Measure it: the share of the output's spectral energy at period 2. By
# hand:

# %%
def my_period2(images):
    gray = images.mean(1)
    gray = gray - gray.mean((1, 2), keepdim=True)
    power = torch.fft.fft2(gray).abs() ** 2
    h, w = gray.shape[-2:]
    nyq = power[:, h // 2].sum(1) + power[:, :, w // 2].sum(1)
    return (nyq - power[:, h // 2, w // 2]) / power.sum((1, 2))


x = torch.rand(2, 3, 16, 12)
torch.testing.assert_close(my_period2(x), period2_energy(x))

# %%
torch.manual_seed(0)
grey = torch.full((1, 3, 128, 128), 0.5)
with torch.no_grad():
    nets = {k: TransformerNet(k, width=16).eval() for k in ("paper",
                                                             "improved")}
    outs = {k: n(grey) for k, n in nets.items()}
for k, y in outs.items():
    print(f"{k:9s} untrained, on flat grey: period-2 energy "
          f"{period2_energy(y).item():.3f}")

# %%
zoom = [y[..., 48:80, 48:80] for y in outs.values()]
contrast = [(z - z.mean()) / (6 * z.std() + 1e-8) + 0.5 for z in zoom]
plots.show_images(contrast, ["paper (transposed conv), 32×32 detail",
                             "improved (resize-conv), 32×32 detail"])

# %% [markdown]
# Even before training, the paper's network prints a checkerboard on a
# flat grey input; training has to fight it all the way. The
# resize-convolution network has none to fight.

# %% [markdown]
# ## Artifact 2: batch norm, and why instance norm
#
# Batch norm normalises each feature map with the mean and variance of the
# *whole batch*. So one photo's output depends on the other photos in its
# batch, and a photo's overall contrast survives into the output.
# Instance norm (Ulyanov et al. 2016) uses each image's own statistics: a
# low-contrast copy of a photo is normalised to the same features.

# %%
photo = held_out[0][..., :96, :96]
faded = 0.5 * photo + 0.25  # half the contrast
x = torch.cat([photo, faded])
for kind in ("paper", "improved"):
    first = nets[kind].layers[0].train()  # conv, norm, relu
    with torch.no_grad():
        a, b = first(x)
    print(f"{kind:9s}: first block, photo vs faded copy differ by "
          f"{(a - b).abs().mean() / a.abs().mean():.3f} (relative)")

# %% [markdown]
# Instance norm sees through the fading; batch norm passes it on. Why is
# the instance-norm difference not exactly 0? Not the convolution's bias:
# subtracting each map's mean removes it, together with the constant the
# `+ 0.25` adds (reflection padding keeps that constant even at the
# borders). What is left is ε: the layer divides by $\sqrt{\sigma^2 +
# \varepsilon}$, and the faded copy's σ² is four times smaller, so ε
# weighs more there. With ε = 0 the difference vanishes:

# %%
norm = nets["improved"].layers[0][1]  # the InstanceNorm2d
norm.eps = 0.0
with torch.no_grad():
    a, b = nets["improved"].layers[0](x)
norm.eps = 1e-5
print(f"improved, ε = 0: {(a - b).abs().mean() / a.abs().mean():.1e}")
torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)  # only ε was left

# %% [markdown]
# Combined with reflection padding (no dark frame at the borders), these
# are the fixes that remove the blotches and the borders of the paper's
# results.

# %% [markdown]
# ## The paper's network, trained
#
# `starry-night-paper` is Johnson et al.'s network exactly (batch norm,
# zero padding, transposed convolutions), trained with the same recipe
# and budget as the improved `starry-night-improved`. The same held-out photos
# through both, with two measures: the period-2 energy (the checkerboard)
# and how much darker a 6-pixel frame is than the picture inside it (the
# zero padding's border).

# %%
def border_drop(y, k=6):
    inside = y[..., k:-k, k:-k]
    frame = (y.sum() - inside.sum()) / (y.numel() - inside.numel())
    return (inside.mean() - frame).item()


pair = {"paper": Stylizer("starry-night-paper"),
        "improved": Stylizer("starry-night-improved")}

# %%
for photo in held_out:
    outs = {k: run(photo) for k, run in pair.items()}
    titles = [f"{k}: period-2 {period2_energy(y).item():.4f}, "
              f"border {border_drop(y):+.3f}" for k, y in outs.items()]
    plots.show_images([photo, *outs.values()], ["photo", *titles],
                      height=2.6)

# %%
zoom = [y[..., 40:104, 40:104] for y in outs.values()]
plots.show_images(zoom, [f"{k}, 64×64 detail" for k in outs], height=3.0)

# %% [markdown]
# **What the trained networks show.** Measured when the models were made
# (Intel Xeon, the six bundled photos at 320 px; your run prints its own
# numbers above):
#
# - **No checkerboard after training.** The paper network's period-2
#   energy is about 1e-4 on every photo: the photos' own level, and the
#   improved network's. The untrained network printed a checkerboard on grey
#   (about half its energy); 3,800 steps trained it away. The losses see
#   it: relu1_1's Gram matrix registers a period-2 pattern the painting
#   does not have, and the TV term penalises every neighbour difference.
#   The checkerboards the seed complained of came from short training
#   (exercise 3 lets you watch them fade).
# - **Borders: a small effect, in both.** Relative to the photo's own frame,
#   the paper network darkens the 6-pixel frame by 0.023 on average (up to
#   0.08, on the kingfisher and Machu Picchu), the improved one by 0.015
#   (up to 0.05): zero padding costs a little more than reflection padding,
#   but far less than the dark frames of short runs.
# - **The paper network is not worse here.** Judged with the kit's errors
#   on the six photos (`python bench/fast_quality.py`), it kept slightly
#   more of the photo and took slightly more of the painting (content 0.56,
#   style 0.34 on average) than the improved one (0.63, 0.36). In eval mode
#   batch norm uses the running statistics of the training crops, so one
#   photo's output no longer depends on its batch: the blotches of the
#   seed's runs need a batch in train mode, or too little training.
#
# So the improvements matter most for short or unlucky training; a
# well-trained paper network is a fair baseline. (Measured on one painting,
# one seed each: a class can check another painting with
# `scripts/train_models.sh paper:great-wave`.)

# %% [markdown]
# ## Starting from a network that already paints
#
# Both networks above started from random weights, and a few thousand
# steps on two CPU cores leave them far from their loss's optimum: they
# keep the photo but take the painting only part of the way. Lesson 11's
# any-painting network (Ghiasi et al.) was trained by Magenta on many
# paintings and photos. Its conditional instance norms take their scale
# and shift from the painting's style vector $S$:
#
# $$\gamma = W_\gamma S + b_\gamma, \qquad \beta = W_\beta S + b_\beta.$$
#
# For *one* painting $S$ is fixed, so every $(\gamma, \beta)$ is a
# constant. Baking them in gives an ordinary one-painting network
# (instance norm with its own affine parameters, like the improved
# network) that already paints the painting. The perceptual loss then
# fine-tunes it like any other: `stylelib train --network pretrained`.
# That is transfer learning: training starts where Magenta's ended.
#
# By hand, for the first residual block's first norm:

# %%
from stylelib.anystyle import AnyStyle, load_network
from stylelib.pretrained import bake

any_net = load_network("arbitrary").transformer
S = AnyStyle(precision="fp32").style_vector("starry-night")  # (1, 100)
cin = any_net.residual[0].conv1.norm
gamma = cin.gamma.weight @ S[0] + cin.gamma.bias  # (C,)
baked = bake(any_net, S)
torch.testing.assert_close(
    baked.transformer.residual[0].conv1.norm.gamma.weight[:, 0], gamma)

# %%
x = stylelib.load_example("grace-hopper", size=pick(160, 48))
with torch.no_grad():
    torch.testing.assert_close(baked(x), any_net(x, S))
print("baked == conditioned; trainable weights:",
      sum(p.numel() for p in baked.parameters()))

# %% [markdown]
# The bundled `starry-night` was fine-tuned this way (the recipe is
# `scripts/train_models.sh`); `starry-night-improved` is the improved
# network trained from random weights. Step 0 of the fine-tuning is the
# any-painting network itself. The titles give the kit's relative
# errors (lesson 04): content (0 = the photo) and style (1 = the photo).

# %%
from stylelib.evaluate import relative_errors

painting = stylelib.data.resolve_image("starry-night")

# %%
rivals = {"any-painting (step 0)": baked.eval(),
          "fine-tuned": Stylizer("starry-night"),
          "from random": Stylizer("starry-night-improved")}
photo = stylelib.load_example("chelsea-the-cat", size=pick(384, 64))
outs, titles = [photo], ["photo"]
for name, run in rivals.items():
    with torch.no_grad():
        y = run(photo).clamp(0, 1)
    e = relative_errors(y, photo, painting)
    outs.append(y)
    titles.append(f"{name}: c {e['content']:.2f}, s {e['style']:.2f}")
plots.show_images(outs, titles, height=2.6)

# %% [markdown]
# **What fine-tuning bought.** Measured when the models were made
# (`python bench/fast_quality.py`, the six bundled photos at 384 px,
# mean / worst; training on an Intel Xeon, the last two rows on an AMD EPYC):
#
# | Starry Night network | content | style | CPU min |
# |---|---|---|---|
# | any-painting, step 0 | 0.86 / 1.29 | 0.35 / 0.47 | 0 |
# | from random, 3,800 steps | 0.63 / 0.84 | 0.36 / 0.47 | 55 |
# | fine-tuned, 4 × 128 px | 0.51 / 0.67 | 0.36 / 0.47 | 25 |
# | fine-tuned, 1 × 256 px | 0.44 / 0.64 | 0.36 / 0.43 | 24 |
# | the same, 5,600 steps (bundled) | 0.40 / 0.58 | 0.37 / 0.45 | 42 |
#
# The first two fine-tuned rows ran 3,000 steps: of four 128 px crops
# each at β = 1.5, then of one 256 px crop each at β = 1.2.
#
# The last two rows also measure each photo's style error in the photo's
# own unit, as the judge does (`--style-norm photo`). About the same
# style, a fifth to over a third less content error, in half to three
# quarters of the CPU time. The start is the reason: a network that
# already paints has only to learn to keep more of the photo.
# Deviation from Johnson et al.: this network
# is Ghiasi et al.'s quarter-width one (108,318 weights against 1.7
# million), so it also does a twelfth of the arithmetic (1.6 against 20
# GFLOP for a 256² photo, counted by `torch.utils.flop_counter`).

# %% [markdown]
# ## Speed: one pass against an optimisation
#
# The same photo, the same painting, at the same size: Gatys' method with
# `stylelib`'s defaults against one bundled network.

# %%
photo = stylelib.load_example("kingfisher", size=pick(256, 64))
start = time.perf_counter()
slow = stylelib.stylize(photo, stylelib.load_example("starry-night"),
                        size=photo.shape[-1], steps=pick(100, 3))
gatys_s = time.perf_counter() - start
run = Stylizer("starry-night")
run(photo)  # warm-up
start = time.perf_counter()
fast = run(photo)
fast_s = time.perf_counter() - start
print(f"Gatys: {gatys_s:.1f} s   fast network: {1000 * fast_s:.0f} ms")

# %%
plots.show_images([photo, slow, fast], ["photo", f"Gatys ({gatys_s:.0f} s)",
                                        f"fast ({1000 * fast_s:.0f} ms)"])

# %% [markdown]
# ## Polishing the network's picture
#
# Why does the optimisation still win on quality? Its picture carries
# detail fitted to *this* photo at *this* size, which a network that must
# paint every photo does not learn (docs/fast_recipe.md). The two combine:
# start Gatys' optimisation from the network's picture,
#
# $$x_0 = f_W(p), \qquad x_{k+1} = \text{L-BFGS step on }
#   \alpha E_c(x_k) + \beta \textstyle\sum_l w_l E_s^l(x_k) + \gamma\,
#   \mathrm{TV}(x_k),$$
#
# the seed's objective of lesson 04, for a few steps only.
# `init="model"` starts there; the `polish` preset takes 10 steps at
# β = 2 (`stylelib apply MODEL photo.jpg --refine 10` on the command line).

# %%
photo = stylelib.load_example("chelsea-the-cat", size=pick(384, 64))
x0 = Stylizer("starry-night")(photo)  # f_W(p): one pass
outs, titles = [photo], ["photo"]
for steps in pick([0, 3, 10], [0, 2]):
    y = x0 if steps == 0 else stylelib.stylize(
        photo, painting, preset="polish", steps=steps,
        size=max(photo.shape[-2:]), preview_every=0)
    e = relative_errors(y, photo, painting)
    outs.append(y)
    titles.append(f"{steps} steps: c {e['content']:.2f}, "
                  f"s {e['style']:.2f}")
plots.show_images(outs, titles, height=2.6)

# %% [markdown]
# Both errors fall. On the six bundled photos at 384 px, ten steps take
# every bundled model under 0.5 on both (the README's table; about 3 s a
# photo on two CPU cores). The price: it is an optimisation again, a few
# seconds rather than milliseconds, so video stays one pass.

# %% [markdown]
# ## Experiment: one network, three sizes
#
# A network's filters have a fixed size in pixels, so its strokes do too:
# the same model on a larger photo paints relatively finer strokes. Run a
# bundled model at three sizes and compare (change `SIZES` or the model).
# At which size does the result look most like the painting?

# %%
SIZES = pick([160, 320, 640], [48, 64, 96])
model = Stylizer("starry-night")  # or another name from list_models()
outs = [model(stylelib.load_example("machu-picchu", size=s))
        for s in SIZES]
shown = [resize_tensor(o, outs[-1].shape[-2:]) for o in outs]  # same size
plots.show_images(shown, [f"stylised at {s} px" for s in SIZES])

# %% [markdown]
# ## Summary
#
# - A transformation network $f_W$ is trained once per painting with the
#   seed's losses, averaged over photos; the content target is the photo
#   itself. By hand == `stylelib.train.perceptual_terms`.
# - Then one forward pass stylises any photo: milliseconds instead of
#   minutes, at some cost in quality (compare the two results above).
# - A network that already paints trains faster: baking one painting's
#   $(\gamma, \beta)$ into the any-painting network and fine-tuning it
#   kept more of the photo at the same style, in half the CPU time.
# - Ten steps of Gatys' optimisation from the network's picture add the
#   per-photo detail one pass lacks: seconds, not minutes, not one pass.
# - The paper's transposed convolutions print a checkerboard (about half
#   the output's energy at period 2, untrained); resize-convolution has
#   none. Instance norm makes each output independent of the batch and of
#   the photo's contrast; reflection padding removes the borders.
#
# ## Exercises
#
# 1. For a 256×256 input, what is the height of the feature maps in the
#    residual blocks? Self-check below.
# 2. Write `instance_norm(x)`: normalise each (image, channel) map to mean
#    0 and variance 1 (use `eps=1e-5` inside the square root, biased
#    variance), with tensor operations, not torch's normalisation layers.
#    Self-check below.
# 3. Train the toy network for twice as many steps with `network="paper"`.
#    Measure the period-2 energy of its previews. Does training remove the
#    checkerboard?
# 4. Put the validation photo in a batch with a very dark photo and run a
#    `paper` network in train mode. Does the output change? Why?
# 5. Run the toy training again with `network="pretrained"` (and a
#    smaller `lr`, say 5e-4). Compare its first preview with the toy
#    network's: which one paints from step 1, and why?
# 6. Polish the cat from `init="instant"` (the any-painting network's
#    picture) instead, with the same steps and β. Which error is higher
#    than from the fine-tuned model's picture, and what does the start
#    carry that the steps do not add?

# %%
answer_1 = None  # residual-block map height for a 256×256 input
_ = check("09.1", answer_1)

# %%
instance_norm = None  # def instance_norm(x): ...
_ = check("09.2", instance_norm)
