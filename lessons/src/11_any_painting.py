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
# # 11 · Any painting, instantly (Dumoulin et al. 2017; Ghiasi et al. 2017)
#
# Johnson et al.'s networks (lesson 09) paint in one pass, but each knows
# one painting, and training one costs hours. Two papers took the next
# steps. Dumoulin, Shlens and Kudlur noticed that networks trained for
# different paintings can share *every convolution*: only the scale and
# shift after each normalisation need to differ. One network then holds
# 26 paintings, and mixes them. Ghiasi, Lee, Kudlur, Dumoulin and Shlens
# then let a second network *predict* that scale and shift from the
# painting itself: any painting, one pass, no training. This lesson
# builds the normalisation by hand, opens both released networks, and
# puts them next to Gatys' optimisation.

# %%
# %matplotlib inline
import time
import torch
import stylelib
from stylelib import anystyle, plots
from stylelib.cin import instance_norm
from stylelib.evaluate import relative_errors
from lesson_utils import pick, check

# %% [markdown]
# ## Three normalisations
#
# A layer's output $x_{bchw}$ has a batch index $b$, a channel $c$ and a
# position $(h, w)$. Batch norm (used by Johnson et al.'s paper) takes
# each channel's mean and variance over the whole batch; instance norm
# (Ulyanov et al. 2016) over each image alone; *conditional* instance
# norm picks the scale and shift by style $s$:
#
# $$\mathrm{BN}(x)_{bchw} = \gamma_c \frac{x_{bchw} - \mu_c}
# {\sqrt{\sigma_c^2 + \varepsilon}} + \beta_c, \qquad
# \mu_c = \frac{1}{BHW}\sum_{b,h,w} x_{bchw}$$
#
# $$\mathrm{IN}(x)_{bchw} = \gamma_c \frac{x_{bchw} - \mu_{bc}}
# {\sqrt{\sigma_{bc}^2 + \varepsilon}} + \beta_c, \qquad
# \mu_{bc} = \frac{1}{HW}\sum_{h,w} x_{bchw}$$
#
# $$\mathrm{CIN}(x, s)_{bchw} = \gamma_{s,c} \frac{x_{bchw} - \mu_{bc}}
# {\sqrt{\sigma_{bc}^2 + \varepsilon}} + \beta_{s,c}$$
#
# (σ² is the biased variance, the mean of squared deviations.) By hand:

# %%
def my_batch_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean((0, 2, 3), keepdim=True)
    var = (x - mu).pow(2).mean((0, 2, 3), keepdim=True)
    return gamma.view(1, -1, 1, 1) * (x - mu) / (var + eps).sqrt() \
        + beta.view(1, -1, 1, 1)


def my_instance_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean((2, 3), keepdim=True)
    var = (x - mu).pow(2).mean((2, 3), keepdim=True)
    return gamma[..., None, None] * (x - mu) / (var + eps).sqrt() \
        + beta[..., None, None]

# %%
torch.manual_seed(0)
x = torch.randn(4, 8, 5, 7, dtype=torch.float64)
g, b = torch.randn(8, dtype=torch.float64), torch.randn(8, dtype=torch.float64)
torch.testing.assert_close(
    my_batch_norm(x, g, b),
    torch.nn.functional.batch_norm(x, None, None, g, b, training=True))
torch.testing.assert_close(my_instance_norm(x, g[None], b[None]),
                           instance_norm(x, g[None], b[None]))
print("by hand == torch's batch norm and stylelib.cin.instance_norm")

# %% [markdown]
# What the difference means: under batch norm one photo's output depends
# on the *other* photos in its batch. Change photo 2 and watch photo 1:

# %%
other = x.clone()
other[1] = 3 * other[1] + 2  # a brighter, higher-contrast second photo
for name, norm in (("batch", my_batch_norm), ("instance", my_instance_norm)):
    gg, bb = (g, b) if name == "batch" else (g[None], b[None])
    change = (norm(other, gg, bb)[0] - norm(x, gg, bb)[0]).abs().max()
    print(f"{name:8s} norm: photo 1's output moved by {change:.3f}")

# %% [markdown]
# ## One network, 26 paintings (Dumoulin et al.)
#
# The released network (TensorFlow's Android demo) stores a table: for
# each of its 18 normalisations, one row of (γ, β) per painting. A style
# is a one-hot code $s$; `stylelib` writes both tables as linear maps
# $\gamma = W_\gamma s$, so a *mix* of styles is a code with several
# non-zero weights, and it mixes (γ, β) exactly:

# %%
net26 = anystyle.load_network("multistyle26")
layer = net26.transformer.residual[0].conv1.norm
print("γ table of one layer:", tuple(layer.gamma.weight.shape),
      "(channels x styles)")
a, c = anystyle.mix_weights(3), anystyle.mix_weights(12)
mixed = anystyle.mix_weights({3: 0.5, 12: 0.5})
torch.testing.assert_close(layer.gamma(mixed),
                           0.5 * layer.gamma(a) + 0.5 * layer.gamma(c))
print("γ(mix of two styles) == the mix of their γ")

# %%
photo = stylelib.load_example("chelsea-the-cat", size=pick(256, 64))
picks = [0, 3, 7, 12, 19, 25]
outs = [anystyle.stylize_builtin(photo, i) for i in picks]
plots.show_images([photo] + outs, ["photo"] + [f"style {i}" for i in picks],
                  height=2.0)

# %%
steps = [0, 0.25, 0.5, 0.75, 1]
blends = [anystyle.stylize_builtin(photo, {3: 1 - t, 12: t}) for t in steps]
plots.show_images(blends, [f"{1 - t:.2f}·s3 + {t:.2f}·s12" for t in steps],
                  height=2.0)

# %% [markdown]
# ## Any painting (Ghiasi et al.)
#
# Ghiasi et al. replace the table by a function of the painting. A style
# prediction network (in the released, distilled model a MobileNet-v2)
# turns a painting into a 100-number *style vector* $S$, and every
# normalisation's scale and shift are affine in it:
#
# $$\gamma = W_\gamma S + b_\gamma, \qquad \beta = W_\beta S + b_\beta$$
#
# Trained on tens of thousands of paintings, it paints ones it never saw.

# %%
run = anystyle.AnyStyle()
names = [e.name for e in stylelib.list_examples("style")]
vectors = torch.cat([run.style_vector(n) for n in names])
print("style vectors:", tuple(vectors.shape))
unit = torch.nn.functional.normalize(vectors, dim=1)
similar = unit @ unit.T  # cosine similarity between paintings

# %%
from matplotlib.figure import Figure
fig = Figure(figsize=(5.5, 4.5))
ax = fig.subplots()
im = ax.imshow(similar, vmin=-1, vmax=1, cmap="RdBu_r")
ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
ax.set_yticks(range(len(names)), names)
ax.set_title("cosine similarity of style vectors")
fig.colorbar(im)
fig.tight_layout()
fig

# %% [markdown]
# Because (γ, β) are linear in $S$, walking from one painting's vector to
# another's walks between their styles. `strength` is the same walk,
# from the *photo's own* vector (0) to the painting's (1):

# %%
s0, s1 = run.style_vector("starry-night"), run.style_vector("great-wave")
walk = [run.transform(photo, (1 - t) * s0 + t * s1) for t in steps]
plots.show_images(walk, [f"{1 - t:.2f} Starry + {t:.2f} Wave" for t in steps],
                  height=2.0)

# %%
strengths = [run(photo, "starry-night", strength=t) for t in steps]
plots.show_images(strengths, [f"strength {t}" for t in steps], height=2.0)

# %% [markdown]
# ## Only arrays
#
# Nothing here needs a deep-learning framework. `stylelib.anystyle_np`
# runs the same predictor and transformer, with the same weights, in
# NumPy: a convolution is a sliding window and a tensor product,
# instance norm a mean and a variance per channel. The command line
# uses it to paint its first picture before torch has loaded. Read
# `_layer` below, then check the two agree, from painting to picture:

# %%
import inspect
from stylelib import anystyle_np
print(inspect.getsource(anystyle_np._layer))

# %%
net = anystyle.load_network("arbitrary")  # fp32: the same numbers
art = stylelib.load_example("starry-night", size=pick(320, 128))
with torch.no_grad():
    s_torch = net.predictor(art)  # (1, 100)
    y_torch = net.transformer(photo, s_torch)  # (1, 3, H, W)
s_np = anystyle_np.style_vector(art[0].numpy())  # (100,)
y_np = anystyle_np.transform(photo[0].numpy(), s_np)  # (3, H, W)
close = dict(atol=1e-4, rtol=1e-4)
torch.testing.assert_close(torch.from_numpy(s_np)[None], s_torch, **close)
torch.testing.assert_close(torch.from_numpy(y_np)[None], y_torch, **close)
print("NumPy == torch, from painting to picture")

# %% [markdown]
# ## Gatys against one pass
#
# The same photo and painting, at the same size, measured with the kit's
# own yardstick (`stylelib.evaluate.relative_errors`): content error
# $c = E_c/E_c(0)$ at relu4_2 (0 = the photo) and style error $s$ = the
# result's style error over the untouched photo's (1 = the photo, 0 = the
# painting's Gram matrices).

# %%
photo = stylelib.load_example("kingfisher", size=pick(256, 64))
painting = stylelib.data.resolve_image("starry-night")
start = time.perf_counter()
slow = stylelib.stylize(photo, painting, size=max(photo.shape[-2:]),
                        steps=pick(100, 3))
gatys_s = time.perf_counter() - start
start = time.perf_counter()
fast = run(photo, "starry-night")
fast_s = time.perf_counter() - start

# %%
rows = {"Gatys": (slow, gatys_s), "any-painting network": (fast, fast_s)}
for name, (image, seconds) in rows.items():
    e = relative_errors(image, photo, painting)
    print(f"{name:21s} {seconds:7.2f} s   content {e['content']:.2f}   "
          f"style {e['style']:.2f}")
plots.show_images([photo, slow, fast], ["photo", f"Gatys {gatys_s:.0f} s",
                                        f"one pass {1000 * fast_s:.0f} ms"])

# %% [markdown]
# The optimisation goes further towards the painting's statistics (its
# style error is lower) because it is allowed to change anything; the
# network gives a similar picture in a thousandth of the time, and it has
# never seen this painting.

# %% [markdown]
# ## Experiment: the brush size
#
# The predictor sees the painting with its shorter side `style_size`
# pixels (256, the released model's crop). Does that set the size of the
# strokes? Measure the share of the result's spectral energy at periods
# shorter than 10 pixels (frequencies above 0.1 cycles per pixel), where
# strokes live, for three sizes. Try other paintings, photos and
# cut-offs (at 0.25, pixel-level noise takes over).

# %%
def high_frequency_share(image, cutoff=0.1):
    gray = image.mean(1)[0]
    power = torch.fft.rfft2(gray - gray.mean()).abs().pow(2)
    fy = torch.fft.fftfreq(gray.shape[0]).abs()[:, None]
    fx = torch.fft.rfftfreq(gray.shape[1])[None]
    return (power[(fx**2 + fy**2).sqrt() > cutoff].sum() / power.sum()).item()

# %%
from stylelib.diagnostics import high_frequency_share as library_share
x = torch.rand(2, 3, 20, 31)
torch.testing.assert_close(torch.tensor([high_frequency_share(x[i:i + 1])
                                         for i in range(2)]),
                           library_share(x))
print("by hand == stylelib.diagnostics.high_frequency_share")

# %%
photo = stylelib.load_example("grace-hopper", size=pick(384, 96))
sizes = [128, 256, 512]
brushes = [run(photo, "starry-night", style_size=n) for n in sizes]
for n, y in zip(sizes, brushes):
    print(f"style_size {n}: high-frequency share "
          f"{high_frequency_share(y):.3f}")
plots.show_images(brushes, [f"style_size {n}" for n in sizes], height=2.6)

# %% [markdown]
# ## Summary
#
# - Batch norm normalises with the batch's statistics, instance norm with
#   each image's own; conditional instance norm chooses (γ, β) per style.
# - Dumoulin et al.: one network, N paintings, sharing all convolutions;
#   a style is a row of (γ, β), and mixing codes mixes the rows.
# - Ghiasi et al.: (γ, β) are affine in a 100-d style vector predicted
#   from any painting; interpolating vectors interpolates styles, and
#   strength walks from the photo's own vector to the painting's.
# - Both networks are only arrays: the same weights run in NumPy
#   (`stylelib.anystyle_np`), to the same numbers.
# - One pass costs milliseconds; the optimisation still reaches the
#   painting's statistics more closely.
#
# ## Exercises
#
# 1. A batch of one photo, in training mode: what does batch norm's
#    output equal, written with instance norm? Answer with the word
#    `"instance"` or `"different"`.
# 2. How many numbers define one style in the 26-style network (all its
#    γ and β)? Count them from `net26` (hint: every conditional norm has a
#    `gamma` and a `beta` linear map; one style is one column).
# 3. Write `my_cin(x, code, w_gamma, w_beta)`: conditional instance norm
#    whose γ and β are the linear maps of a style code, γ = code W_γᵀ and
#    β = code W_βᵀ (no bias, as in the 26-style network). Shapes: x
#    (B, C, H, W), code (B, D), W_γ and W_β (C, D). Build it from the
#    equation; the check refuses torch's and stylelib's instance norm.
# 4. Find, to one decimal, the strength at which the kingfisher's style
#    error (Starry Night, 256 px) is halfway between its values at
#    strength 0 and 1.

# %%
answer_1 = None  # "instance" or "different"
_ = check("11.1", answer_1)

# %%
answer_2 = None  # a number
_ = check("11.2", answer_2)

# %%
my_cin = None  # def my_cin(x, code, w_gamma, w_beta): ...
_ = check("11.3", my_cin)

# %%
answer_4 = None  # a strength between 0 and 1, one decimal
_ = check("11.4", answer_4)
