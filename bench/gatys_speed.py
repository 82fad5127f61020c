"""Benchmark: our default Gatys path against a plain PyTorch-tutorial loop.

Both use the same network (Caffe VGG-19), the same layers and the same
objective (stylelib's target-normalised α E_c + β Σ w_l E_s^l, written out
again below in the tutorial's style). They differ in how they run it:

- reference: the PyTorch tutorial's way: the loss modules sit inside an
  nn.Sequential that runs the *whole* VGG-19 feature stack every step, in
  fp32; torch's L-BFGS with its defaults (lr 1, no line search, 20
  iterations per ``step``), pixels clamped inside the closure.
- ours: ``stylelib.stylize_iter`` with its defaults (network cut at relu5_1,
  a bf16 copy of the network + channels_last where the CPU has bf16,
  Winograd convolutions through NNPACK in fp32 where it has AVX2, Gram
  matrices with a one-product gradient, L-BFGS with a
  strong-Wolfe line search and no repeated evaluations).

All three paths (the reference, ours, and the bare network) run with
stylelib's memory setting (``stylelib.runtime.keep_freed_memory``, set
first; ``STYLELIB_KEEP_FREED_MEMORY=0`` runs them without it), so the
speed-up per evaluation is the arithmetic's, not the allocator's; each
path's page faults per evaluation show what the setting saves.

Prints JSON: seconds per evaluation (one forward + backward), and the loss
reached after a fixed wall-clock budget, measured for both results by the
same fp32 evaluation. Usage:

    python bench/gatys_speed.py [--sizes 256 512] [--budget 30 90] [--precision fp32]

``--precision fp32`` runs ours as a CPU without fast bf16 would
(``STYLELIB_WINOGRAD=0`` then keeps oneDNN's direct convolutions).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time

import torch
from torch import nn

import stylelib
from stylelib.images import resize_tensor
from stylelib.losses import gram_matrix
from stylelib.objective import Objective
from stylelib.choices import PRECISION_HELP, PRECISIONS
from stylelib.options import DEFAULTS
from stylelib.runtime import keep_freed_memory, resolve_precision
from stylelib.vgg import VGGFeatures, get_extractor, layer_names


def square(name: str, size: int) -> torch.Tensor:
    x = stylelib.load_example(name)
    h, w = x.shape[-2:]
    s = min(h, w)
    x = x[..., (h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    return resize_tensor(x, (size, size))


# ---- the reference, in the PyTorch tutorial's style ---------------------------------
class ContentLoss(nn.Module):
    def __init__(self, target, norm, weight):
        super().__init__()
        self.target, self.norm, self.weight = target.detach(), norm, weight

    def forward(self, x):
        self.loss = self.weight * 0.5 * (x - self.target).pow(2).sum() / self.norm
        return x


class StyleLoss(nn.Module):
    def __init__(self, target_gram, norm, weight):
        super().__init__()
        self.target, self.norm, self.weight = target_gram.detach(), norm, weight

    def forward(self, x):
        n, m = x.shape[1], x.shape[2] * x.shape[3]
        self.loss = self.weight * (gram_matrix(x) - self.target).pow(2).sum() / (4 * n**2 * m**2) / self.norm
        return x


def reference_model(content, style):
    """Full VGG-19 (to pool5) with loss modules after the chosen layers."""
    full = VGGFeatures(["pool5"], weights="caffe")
    o = DEFAULTS
    model, content_losses, style_losses = nn.Sequential(), [], []
    x_c, x_s = full.preprocess(content), full.preprocess(style)
    for name, layer in full.net.named_children():
        model.add_module(name, layer)
        x_c, x_s = layer(x_c), layer(x_s)
        if name in o.content_layers:
            loss = ContentLoss(x_c, 0.5 * x_c.pow(2).sum().item(), o.content_weight)
            model.add_module(f"content_{name}", loss)
            content_losses.append(loss)
        if name in o.style_layers:
            a = gram_matrix(x_s)
            norm = a.pow(2).sum().item() / (4 * a.shape[1] ** 2 * (x_s.shape[2] * x_s.shape[3]) ** 2)
            loss = StyleLoss(a, norm, o.style_weight / len(o.style_layers))
            model.add_module(f"style_{name}", loss)
            style_losses.append(loss)
    return full, model, content_losses + style_losses


def reference_eval(full, model, losses, x):
    model(full.preprocess(x))
    return sum(l.loss for l in losses)


def run_reference(content, style, budget):
    full, model, losses = reference_model(content, style)
    x = content.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x])
    start, evals = time.perf_counter(), 0

    def closure():
        nonlocal evals
        with torch.no_grad():
            x.clamp_(0, 1)
        opt.zero_grad()
        loss = reference_eval(full, model, losses, x)
        loss.backward()
        evals += 1
        return loss

    while time.perf_counter() - start < budget:
        opt.step(closure)
    return x.detach().clamp(0, 1), evals, time.perf_counter() - start


def run_ours(content, style, budget, precision):
    start, it = time.perf_counter(), None
    # steps=10_000: stopped by the budget; preview_every=1 hands us each image
    gen = stylelib.stylize_iter(content, style, size=content.shape[-1], steps=10_000, preview_every=1,
                                precision=precision)
    for it in gen:
        if time.perf_counter() - start >= budget:
            break
    gen.close()
    return it.image, it.step, time.perf_counter() - start


def per_call(fn, n: int) -> tuple[float, int]:
    """Seconds and page faults (new pages the kernel had to hand over) per call of ``fn``, after two warm-up calls
    (the first calls map the memory in any case)."""
    for _ in range(2):
        fn()
    faults, t = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) // n


def time_evals(fn, x, n):
    """:func:`per_call` of one evaluation: ``fn(x)``'s value and its gradient to the image."""
    def evaluation():
        x.grad = None
        fn(x).backward()

    return per_call(evaluation, n)


def bench(size: int, budget: float, n: int, precision: str) -> dict:
    content, style = square("grace-hopper", size), square("starry-night", size)
    o = DEFAULTS
    layers = tuple(dict.fromkeys(o.content_layers + o.style_layers))
    extractor = get_extractor(layers, "vgg19", "caffe", "max", "cpu", resolve_precision(precision, torch.device("cpu")))
    ours_obj = Objective(
        extractor,
        content, [style], content_layers=o.content_layers, style_layers=o.style_layers, style_weight=o.style_weight,
    )
    fp32_obj = Objective(VGGFeatures(layers, weights="caffe"), content, [style], content_layers=o.content_layers,
                         style_layers=o.style_layers, style_weight=o.style_weight)
    full, model, losses = reference_model(content, style)
    x = content.clone().requires_grad_(True)
    ref_s, ref_faults = time_evals(lambda x: reference_eval(full, model, losses, x), x, n)
    ours_s, ours_faults = time_evals(lambda x: ours_obj(x)[0], x, n)
    # the bare network: the same copy (bf16, or fp32 with its convolutions) to relu5_1, backward from there alone
    deepest = layers[-1] if "relu5_1" not in layers else "relu5_1"
    bare_s, bare_faults = time_evals(lambda x: ours_obj.extractor(x)[deepest].sum(), x, n)
    ref_img, ref_evals, ref_t = run_reference(content, style, budget)
    ours_img, ours_steps, ours_t = run_ours(content, style, budget, precision)
    with torch.no_grad():
        ref_loss, ours_loss = fp32_obj(ref_img)[0].item(), fp32_obj(ours_img)[0].item()
        start_loss = fp32_obj(content)[0].item()
    return {
        "size": f"{size}x{size}",
        "budget_s": budget,
        "loss_at_start": round(start_loss, 4),
        "reference": {"s_per_eval": round(ref_s, 4), "page_faults_per_eval": ref_faults, "evals_in_budget": ref_evals,
                      "loss_at_budget": round(ref_loss, 4)},
        "ours": {"s_per_eval": round(ours_s, 4), "page_faults_per_eval": ours_faults, "steps_in_budget": ours_steps,
                 "loss_at_budget": round(ours_loss, 4), "precision": str(extractor.net[0].weight.dtype)[6:],
                 "conv_algorithm": extractor.conv_algorithm},
        "bare_network": {"s_per_eval": round(bare_s, 4), "page_faults_per_eval": bare_faults},
        "ours_over_bare": round(ours_s / bare_s, 2),
        "speedup_per_eval": round(ref_s / ours_s, 2),
    }


def cpu_info() -> tuple[str, str]:
    """(the CPU's model name, /proc/cpuinfo's text for its flags): figures differ by machine, name it beside each."""
    info = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    name = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")),
                platform.processor() or platform.machine())
    return name, info


def cpu_name() -> str:
    """The CPU's model name and its fast bf16, if any: "AMD EPYC" alone has been both kinds (README, Speed)."""
    name, info = cpu_info()
    return name + (" (AMX)" if "amx_bf16" in info else " (avx512_bf16)" if "avx512_bf16" in info
                   else " (no fast bf16)")


def machine() -> dict:
    """What every benchmark's JSON says of the CPU: bf16 hardware decides stylelib's arithmetic (fp32 without)."""
    name, info = cpu_info()
    return {"cpu": name, "amx": "amx_bf16" in info, "avx512_bf16": "avx512_bf16" in info,
            "threads": torch.get_num_threads(), "cores": os.cpu_count(), "torch": torch.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--budget", type=float, nargs="+", default=[30.0, 90.0], help="seconds, one per size")
    parser.add_argument("--evals", type=int, default=5, help="evaluations timed per path")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS, help=f"ours: {PRECISION_HELP}")
    args = parser.parse_args()
    budgets = args.budget if len(args.budget) == len(args.sizes) else [args.budget[0]] * len(args.sizes)
    kept = keep_freed_memory()  # as stylize sets it: before any path runs, so that all three share it
    results = [bench(s, b, args.evals, args.precision) for s, b in zip(args.sizes, budgets)]
    print(json.dumps({
        "machine": {**machine(), "freed_memory_kept": kept},
        "network": "Caffe VGG-19; layers relu4_2 / relu1_1..relu5_1; stylelib default objective",
        "results": results,
    }, indent=2))


if __name__ == "__main__":
    main()
