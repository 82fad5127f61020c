"""What a run will cost before it starts: seconds and peak memory, and whether it fits.

One place that the CLI (``--estimate``, and refusing a run that cannot
fit), the app (its time note) and the library (the same refusal for
Python callers) all use. The model is counted, then calibrated:

- work: the convolutions' multiply-adds, counted from the layer tables
  (one VGG evaluation, forward and backward to the image, is twice the
  forward: the weights are frozen), plus the Gram matrices and the MRF
  correlations; ~1.15 evaluations per L-BFGS step (its line search);
- time = setup + steps x (overhead + work / throughput), where throughput
  and overhead are *measured* on this machine by two short real runs
  (:mod:`stylelib.calibrate`, about two seconds, once per process);
- memory: the feature maps kept for the backward pass, counted per
  layer, times a factor measured once (``tests/test_cost.py`` checks the
  result against real runs), plus L-BFGS's history and the MRF patches.

Memory is compared with what the machine has free (``/proc/meminfo``'s
MemAvailable, a cgroup limit if lower, or the GPU's free memory).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from .architecture import conv_shapes, layer_names

EVALS_PER_STEP = {"lbfgs": 1.15, "adam": 1.0}
# Peak bytes per feature-map element counted by vgg_counts (conv and ReLU
# outputs), fitted to the peak RSS of real runs (default options, 256-768
# px, bf16 and fp32; VmHWM, measured as tests/test_cost.py's MEASURE does),
# and the fixed part: the interpreter, torch and the network's weights.
BYTES_PER_ACTIVATION = {torch.bfloat16: 3.9, torch.float16: 3.9, torch.float32: 4.3}
BASE_BYTES = 0.85 * 2**30
FAST_BYTES_PER_PIXEL = {"johnson": 4 * 5 * 32, "anystyle": 4 * 5 * 32}  # ~5 live maps of 32 channels, fp32
SAFETY = 0.85  # leave this share of the free memory for everything else


@dataclass(frozen=True)
class Cost:
    seconds: float
    peak_bytes: int
    available_bytes: int
    gflop: float  # work of the whole run

    @property
    def fits(self) -> bool:
        return self.peak_bytes <= SAFETY * self.available_bytes

    def describe(self) -> str:
        fmt = f"{self.seconds:.0f} s" if self.seconds < 90 else f"{self.seconds / 60:.1f} min"
        return (f"about {fmt} and {self.peak_bytes / 2**30:.1f} GiB at peak "
                f"({self.available_bytes / 2**30:.1f} GiB free); {self.gflop:,.0f} GFLOP")


def available_bytes(device: torch.device | str = "cpu") -> int:
    """Free memory on ``device``: the GPU's, else MemAvailable or a cgroup limit, whichever is lower."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    free = None
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemAvailable:"):
            free = int(line.split()[1]) * 1024
    for limit_path, used_path in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                  ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                   "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit, used = _read(limit_path).strip(), _read(used_path).strip()
        if limit.isdigit() and int(limit) < 2**60:
            free = min(free or 2**62, int(limit) - (int(used) if used.isdigit() else 0))
    return free if free is not None else 8 * 2**30


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def vgg_counts(arch: str, layers: tuple, h: int, w: int) -> tuple[float, float]:
    """(forward GFLOP, feature-map elements) of VGG up to the deepest of ``layers`` on an h x w image."""
    names = layer_names(arch)
    deepest = max(names.index(l) for l in layers)
    shapes, flops, elements = conv_shapes(arch), 0.0, 3.0 * h * w
    for name in names[: deepest + 1]:
        if name.startswith("pool"):
            h, w = h // 2, w // 2
        elif name.startswith("conv"):
            c_in, c_out = shapes[name]
            flops += 2 * c_in * c_out * 9 * h * w
            elements += 2 * c_out * h * w  # the conv's output and its ReLU's
    return flops / 1e9, elements


def _level_sizes(o, h: int, w: int) -> list[tuple[int, int]]:
    return [(max(1, round(h * size / o.size)), max(1, round(w * size / o.size))) for size, _ in o.levels()]


def evaluation(o, h: int, w: int) -> tuple[float, float]:
    """(GFLOP, feature elements) of one evaluation of the objective (forward + backward) at h x w."""
    gflop, elements = vgg_counts(o.arch, o.layers or ("relu1_1",), h, w)
    gflop *= 2  # backward to the image: as much again (no weight gradients)
    for layer in o.gram_layers:
        n = conv_shapes(o.arch)[layer.replace("relu", "conv")][1]
        k = int(layer[4]) - 1
        gflop += 3 * 2 * n * n * (h * w / 4**k) / 1e9  # G = F Fᵀ and its gradient
    for layer in o.patch_layers:
        n = conv_shapes(o.arch)[layer.replace("relu", "conv")][1]
        k = int(layer[4]) - 1
        positions = h * w / 4**k
        patches = positions / o.mrf_style_stride**2 * len(o.mrf_rotations) * len(o.mrf_scales) * o.style_scale**2
        gflop += 2 * positions * patches * n * o.mrf_patch_size**2 / 1e9  # the NCC correlation
    return gflop, elements


def estimate_stylize(o, h: int, w: int, *, style_hw: tuple[int, int] | None = None, device: str = "auto",
                     rates: tuple[float, float, float, float] | None = None) -> Cost:
    """Seconds and peak memory of ``stylize`` with options ``o`` for an h x w result.

    ``rates`` are this machine's timings, :func:`stylelib.calibrate.calibrate`'s
    (a, b, c, d); without them the estimate is of memory only (seconds 0).
    """
    from .runtime import resolve_device, resolve_precision

    dev = resolve_device(device if device != "auto" else o.device)
    dtype = resolve_precision(o.precision, dev) or torch.float32
    sh, sw = style_hw or (round(h * o.style_scale), round(w * o.style_scale))
    overhead, per_gflop, setup, setup_per_gflop = rates or (0.0,) * 4
    seconds, total = 0.0, 0.0
    peak = 0.0
    for (lh, lw), (_, steps) in zip(_level_sizes(o, h, w), o.levels()):
        gflop, elements = evaluation(o, lh, lw)
        evals = steps * EVALS_PER_STEP[o.optimizer]
        relative = EVALS_PER_STEP[o.optimizer] / EVALS_PER_STEP["lbfgs"]  # calibrated with L-BFGS
        seconds += steps * (overhead + relative * per_gflop * gflop) + setup + setup_per_gflop * gflop
        total += evals * gflop
        history = (2 * 20 + 4) * 3 * lh * lw * 4  # L-BFGS: 20 pairs of image-sized vectors, and a few more
        peak = max(peak, BYTES_PER_ACTIVATION.get(dtype, 4.3) * elements + history + _mrf_bytes(o, lh, lw))
    style_elements = vgg_counts(o.arch, o.layers or ("relu1_1",), sh, sw)[1]
    peak = max(peak, 4.0 * style_elements)  # the painting's forward pass, fp32 copies of its features
    return Cost(seconds, int(peak + BASE_BYTES), available_bytes(dev), total)


def _mrf_bytes(o, h: int, w: int) -> float:
    out = 0.0
    for layer in o.patch_layers:
        n = conv_shapes(o.arch)[layer.replace("relu", "conv")][1]
        k = int(layer[4]) - 1
        positions = h * w / 4**k
        patches = positions / o.mrf_style_stride**2 * len(o.mrf_rotations) * len(o.mrf_scales) * o.style_scale**2
        out += 4 * patches * n * o.mrf_patch_size**2 * 2  # the patches, normalised and not
        out += 4 * positions * min(patches, 256) * 2  # one chunk of correlations and its argmax bookkeeping
        out += 4 * positions * n * o.mrf_patch_size**2 * 3  # the result's patches, their gradient
    return out


def estimate_apply(kind: str, h: int, w: int, *, batch: int = 1, width: int = 32) -> Cost:
    """Peak memory (and work) of one pass of a feed-forward network over ``batch`` images of h x w.

    ``kind``: "johnson" (a trained model of ``width``) or "anystyle" (the arbitrary or 26-style network).
    """
    scale = (width / 32) if kind == "johnson" else 1.0
    pixels = batch * h * w
    peak = FAST_BYTES_PER_PIXEL[kind] * scale * pixels + 4 * 3 * pixels * 3 + BASE_BYTES
    gflop = (21.0 * scale**2 if kind == "johnson" else 3.5) * pixels / 256**2
    return Cost(0.0, int(peak), available_bytes("cpu"), gflop)


def largest_fitting(fits_at, high: int, low: int = 16) -> int:
    """The largest size in [low, high] for which ``fits_at(size)`` is True (0 if none): a bisection."""
    if not fits_at(low):
        return 0
    while high - low > 8:
        mid = (low + high) // 2
        low, high = (mid, high) if fits_at(mid) else (low, mid)
    return low


def check_fits(cost: Cost, what: str, fits_at, size: int) -> None:
    """Raise MemoryError-like ValueError, naming the largest size that would fit, when ``cost`` does not fit."""
    if cost.fits:
        return
    best = largest_fitting(fits_at, size)
    hint = f"; {best} px would fit" if best else ""
    raise ValueError(f"{what} at {size} px needs about {cost.peak_bytes / 2**30:.1f} GiB, but only "
                     f"{cost.available_bytes / 2**30:.1f} GiB is free{hint}")
