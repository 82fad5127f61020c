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
# # 05 · Optimisers, initialisation and total variation
#
# We have a loss; now we need to make it small. Unusually, the thing we
# optimise is not a network's weights but the *pixels* of one image: the
# network stays frozen. This lesson does gradient descent on pixels by
# hand, races three optimisers against the clock, compares starting from
# noise with starting from the photo (and from the photo in the
# painting's colours), and adds one more term, total
# variation, that removes the speckle the others leave behind.

# %%
# %matplotlib inline
import time
import torch
from matplotlib.figure import Figure
import stylelib
from stylelib import plots
from stylelib.color import painting_colors
from stylelib.losses import tv_loss
from stylelib.objective import Objective
from stylelib.optimize import get_extractor
from stylelib.options import DEFAULTS
from lesson_utils import pick, check

# %%
SIZE, BUDGET, STEPS = pick(192, 64), pick(20.0, 2.0), pick(100, 4)
photo = stylelib.load_example("chelsea-the-cat", size=SIZE)
painting = stylelib.load_example("great-wave", size=SIZE)

# %% [markdown]
# ## Gradient descent on pixels
#
# With $x$ the image and $\mathcal{L}(x)$ the total loss, one step of
# gradient descent is
#
# $$x \leftarrow x - \eta\, \nabla_x \mathcal{L}(x)$$
#
# PyTorch computes $\nabla_x \mathcal{L}$ through the frozen VGG for us.
# The same objective `stylize` uses (lesson 04's scaled total):

# %%
net = get_extractor(DEFAULTS.layers, "vgg19", "caffe", "max", "cpu")
objective = Objective(net, photo, [painting],
                      content_layers=DEFAULTS.content_layers,
                      style_layers=DEFAULTS.style_layers,
                      style_weight=DEFAULTS.style_weight,
                      tv_weight=DEFAULTS.tv_weight)

# %% [markdown]
# How big should η be? The gradient's size depends on how the loss is
# scaled, so we pick η to move the average pixel by about 0.01 on the
# first step, and keep it.

# %%
x = photo.clone().requires_grad_(True)
loss, terms, raw = objective(x)
loss.backward()
eta = 0.01 / x.grad.abs().mean().item()
print(f"loss {loss.item():.3f}, mean |gradient| "
      f"{x.grad.abs().mean().item():.2e}, η = {eta:.3g}")

# %%
def descend(x, eta, budget):
    x = x.clone().requires_grad_(True)
    trace, start = [], time.perf_counter()
    while time.perf_counter() - start < budget:
        loss, _, _ = objective(x)
        loss.backward()
        with torch.no_grad():
            x -= eta * x.grad  # the update, by hand
            x.clamp_(0, 1)  # pixels stay in [0, 1]
        x.grad = None
        trace.append((time.perf_counter() - start, loss.item()))
    return x.detach(), trace

# %%
sgd_image, sgd = descend(photo, eta, BUDGET)
print(f"{len(sgd)} steps: loss {sgd[0][1]:.3f} -> {sgd[-1][1]:.3f}")

# %% [markdown]
# ## SGD against Adam against L-BFGS
#
# Adam (Kingma & Ba 2015) scales each pixel's step by a running estimate
# of its gradient's size. L-BFGS (Liu & Nocedal 1989) builds an estimate
# of the curvature from recent steps and uses it to take much larger,
# better-aimed steps; Gatys et al. used it. `stylize` runs both with the
# same call; only `optimizer=` changes. Each gets the same time budget.

# %%
def race(optimizer, budget):
    trace, start, image = [], time.perf_counter(), None
    run = stylelib.stylize_iter(photo, painting, optimizer=optimizer,
                                init="content",  # as `descend` starts
                                size=SIZE, steps=10_000, preview_every=1)
    for it in run:
        trace.append((time.perf_counter() - start, it.loss))
        image = it.image
        if trace[-1][0] > budget:
            break
    run.close()  # stop the generator: the work stops with it
    return image, trace


# %%
adam_image, adam = race("adam", BUDGET)
lbfgs_image, lbfgs = race("lbfgs", BUDGET)

# %%
fig = Figure(figsize=(7, 3.8))
ax = fig.subplots()
for name, trace in [("gradient descent (by hand)", sgd), ("Adam", adam),
                    ("L-BFGS", lbfgs)]:
    ax.plot(*zip(*trace), label=name, linewidth=2)
ax.set(xlabel="wall-clock seconds", ylabel="total loss (scaled)",
       yscale="log", title="The same objective, three optimisers")
ax.legend()
fig

# %%
plots.show_images([sgd_image, adam_image, lbfgs_image],
                  ["gradient descent", "Adam", "L-BFGS"])

# %% [markdown]
# L-BFGS gets low first, which is why it is the default; Adam follows
# and slowly closes the gap (the two curves start a moment late: that is
# `stylize` computing the painting's targets). Adam is still useful: its
# steps are cheap and predictable, it tolerates noisy losses, and it is
# what fast-style networks are trained with (lesson 09). Plain gradient
# descent with one fixed η is far behind: a step that is safe for some
# pixels is much too small for others.
#
# L-BFGS has the same question as η on its very first step, before it
# has seen any curvature. torch tries a step of $1/\sum|g|$, tiny for a
# whole image, and its line search then spends several evaluations
# growing it; `stylize` instead sizes the first trial like our η, so that
# the steepest pixel moves by `stylelib.optimize.FIRST_STEP` (0.03), and
# the search usually accepts it at once. (With an `lr=` of your own,
# torch's rule applies.)

# %% [markdown]
# ## Where to start: noise or the photo?
#
# Gatys et al. started from white noise; most implementations start from
# the photo. Same steps, both starts:

# %%
from_noise = stylelib.stylize(photo, painting, init="noise", size=SIZE,
                              steps=STEPS)
from_photo = stylelib.stylize(photo, painting, init="content", size=SIZE,
                              steps=STEPS)
plots.show_images([from_noise, from_photo], ["from noise", "from photo"])

# %% [markdown]
# From noise, the first steps are spent finding the photo's layout, and
# after the same number of steps the result is rougher; different seeds
# give different results. From the photo, content is right from step 0 and
# the optimiser only has to add the style.
#
# Much of the style it has to add is colour: relu1_1's Gram matrix is
# nearly a colour covariance, and the photo's colours are as far from the
# painting's as anything. So `stylelib` starts, by default, from the photo
# *in the painting's colours* (`init="matched"`): every pixel $x$ is
# mapped affinely so that the photo's colour mean $\mu_c$ and covariance
# $\Sigma_c$ become the painting's $\mu_s$ and $\Sigma_s$,
#
# $$x' = \Sigma_s^{1/2}\,\Sigma_c^{-1/2}\,(x - \mu_c) + \mu_s$$
#
# with symmetric matrix square roots (lesson 08 uses the same map the
# other way round, to keep the photo's colours). `stylelib` adds a small
# ridge to $\Sigma_c$ before inverting it. By hand:

# %%
def power(m, p):
    """A symmetric matrix to the power p, through its eigenvectors."""
    vals, vecs = torch.linalg.eigh(m)
    return vecs @ torch.diag(vals ** p) @ vecs.T


# %%
def my_matched(photo, painting):
    c = photo.double().flatten(2)[0]  # (3, N): one column per pixel
    s = painting.double().flatten(2)[0]  # (3, M)
    cov_c, cov_s = torch.cov(c), torch.cov(s)
    # a ridge of 1% of the photo's mean variance: a grey photo has no
    # colour spread, and Σ_c^(-1/2) would blow up its faint colour noise
    ridge = (1e-5 + 0.01 * cov_c.trace() / 3) * torch.eye(3).double()
    centred = c - c.mean(1, keepdim=True)
    mapped = (power(cov_s, 0.5) @ power(cov_c + ridge, -0.5) @ centred
              + s.mean(1, keepdim=True))  # (3, N)
    return mapped.reshape(photo.shape).float().clamp(0, 1)


# %%
torch.testing.assert_close(my_matched(photo, painting),
                           painting_colors(photo, [painting]))
print("by hand == stylelib.color.painting_colors")

# %% [markdown]
# Race the two starts, step by step, on the same objective:

# %%
curves = {init: [it.loss for it in stylelib.stylize_iter(
    photo, painting, init=init, size=SIZE, steps=STEPS, preview_every=0)]
    for init in ("content", "matched")}
final = curves["content"][-1]
caught = [k for k, v in enumerate(curves["matched"], 1) if v <= final]
print(f"the photo's start after {STEPS} steps: {final:.3f}; the matched "
      f"start reaches it at step {caught[0] if caught else None}")

# %%
fig = Figure(figsize=(7, 3.8))
ax = fig.subplots()
for init, trace in curves.items():
    ax.plot(range(1, len(trace) + 1), trace, label=f'init="{init}"',
            linewidth=2)
ax.set(xlabel="L-BFGS step", ylabel="total loss (scaled)", yscale="log",
       title="From the photo, or from the photo in the painting's colours")
ax.legend()
fig

# %% [markdown]
# The matched start begins with a higher content loss (the colours moved)
# and a much lower style loss, and stays ahead: in the README's benchmark
# at 512 px, 85 steps from the matched start reached a lower objective
# than 100 from the photo on each of three photo-painting pairs, with
# 10–20% fewer evaluations. That is why it is the default. Where a mask
# leaves part of the photo unpainted, that part starts as the photo.

# %% [markdown]
# ## Total variation
#
# The results above are speckled: nothing in $E_c$ or $E_s$ forbids
# high-frequency noise the network barely sees. Mahendran & Vedaldi
# (2015) penalise the differences between neighbouring pixels with
#
# $$V^\beta(x) = \sum_{i,j} \left((x_{i,j+1} - x_{i,j})^2 +
# (x_{i+1,j} - x_{i,j})^2\right)^{\beta/2}$$
#
# With β = 1 that is the length of the gradient vector at each pixel,
# $\sqrt{dx^2 + dy^2}$ (isotropic: an edge costs the same at any angle);
# with β = 2 it is the plain sum of squares, which is what `stylelib`
# uses:
#
# $$TV(x) = \sum_{i,j} (x_{i,j+1} - x_{i,j})^2 + (x_{i+1,j} - x_{i,j})^2$$
#
# summed over the colour channels. By hand:

# %%
def my_tv(x):
    dx = x[..., :, 1:] - x[..., :, :-1]  # horizontal neighbours
    dy = x[..., 1:, :] - x[..., :-1, :]  # vertical neighbours
    return dx.pow(2).flatten(1).sum(1) + dy.pow(2).flatten(1).sum(1)


x = torch.rand(2, 3, 6, 7)
torch.testing.assert_close(my_tv(x), tv_loss(x))
print("by hand == stylelib.losses.tv_loss")

# %% [markdown]
# `stylize` adds $\gamma \cdot TV / (3HW)$, the mean over pixels, so γ
# means the same at every size. Three weights:

# %%
GAMMAS = [0, 5, 50]
smooth = [stylelib.stylize(photo, painting, tv_weight=g, size=SIZE,
                           steps=STEPS) for g in GAMMAS]
h, w = photo.shape[-2:]
crops = [im[..., h // 4: h // 2, w // 4: w // 2] for im in smooth]
plots.show_images(crops, [f"γ = {g} (detail)" for g in GAMMAS])

# %%
for g, im in zip(GAMMAS, smooth):
    print(f"γ = {g:3d}: TV/(3HW) = {tv_loss(im).item() / im[0].numel():.4f}")

# %% [markdown]
# A little TV (the default γ = 5) removes the single-pixel speckle; a lot
# of it blurs the brushstrokes away too.

# %% [markdown]
# ## Experiment: Adam's step size
#
# Adam moves each pixel by about `lr` per step, whatever the gradient's
# size, so its one knob is easy to read: `stylelib` uses 0.02 (2% of the
# pixel range). Three step sizes, the same number of steps; change `LRS`
# and run again. Which is lowest after 10 steps, and which at the end?
# Does the largest one keep going down?

# %%
LRS = [0.005, 0.02, 0.08]
curves = {}
for lr in LRS:
    run = stylelib.stylize_iter(photo, painting, optimizer="adam", lr=lr,
                                size=SIZE, steps=STEPS, preview_every=0)
    curves[lr] = [it.loss for it in run]

# %%
fig = Figure(figsize=(7, 3.8))
ax = fig.subplots()
for lr, losses in curves.items():
    ax.plot(range(1, len(losses) + 1), losses, label=f"lr = {lr}")
ax.set(xlabel="Adam step", ylabel="total loss (scaled)", yscale="log",
       title="Adam with three step sizes")
ax.legend()
fig

# %% [markdown]
# ## Summary
#
# - Style transfer optimises pixels: $x \leftarrow x - \eta\nabla_x
#   \mathcal{L}$ through a frozen network. The step size depends on the
#   loss's scale.
# - L-BFGS reaches a lower loss much sooner than Adam or plain gradient
#   descent; Adam is cheap, robust, and trains the fast networks.
# - Starting from the photo gives the content for free; starting from
#   noise is Gatys et al.'s original and gives more varied results.
#   Starting from the photo in the painting's colours (the default)
#   gives the colour part of the style for free too.
# - Total variation $\sum (\Delta x)^2$ (Mahendran & Vedaldi's β = 2)
#   removes high-frequency speckle; too much of it blurs the style.
#   Their β = 1 is the isotropic $\sum \sqrt{dx^2 + dy^2}$.
# - Adam's `lr` is roughly how far a pixel moves per step.
#
# ## Exercises
#
# 1. What is $TV$ of a 1-channel 2×2 image with pixels 0, 1 (top row) and
#    1, 0 (bottom row)? Self-check below.
# 2. Write `tv_iso(x)`, Mahendran & Vedaldi's β = 1: at each pixel that
#    has a right and a lower neighbour, $\sqrt{dx^2 + dy^2}$, summed over
#    those pixels and the channels; shape (B,). Self-check below. Why
#    does it charge a diagonal edge the same as a straight one of the same
#    contrast, while $|dx| + |dy|$ charges the diagonal up to √2 times
#    more?
# 3. Rerun the race with twice the budget. Does Adam catch up with L-BFGS?
# 4. In `descend`, try η ten times larger and ten times smaller. What goes
#    wrong in each case?

# %%
answer_1 = None  # TV of [[0, 1], [1, 0]]
_ = check("05.1", answer_1)

# %%
tv_iso = None  # def tv_iso(x): ...
_ = check("05.2", tv_iso)
