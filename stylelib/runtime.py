"""Where and in what arithmetic networks run: device and precision, shared by every method.

``auto`` picks CUDA, then Apple's MPS, then the CPU; bf16 where the
hardware is fast at it (NVIDIA GPUs since Ampere, x86 CPUs with AVX-512
bf16 or AMX), else fp16 on older GPUs and fp32 elsewhere.
"""

from __future__ import annotations

import ctypes
import os
import sys
from functools import lru_cache

import torch

from .choices import DEVICES, PRECISIONS


def resolve_device(device: str = "auto") -> torch.device:
    """``auto``: CUDA, else Apple's MPS, else the CPU."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}; got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but no CUDA GPU is available; use device='cpu' or 'auto'")
    return torch.device(device)


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


@lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Let the CPU reuse the memory torch frees instead of handing it back to the OS; True where it is in effect.

    glibc serves every block over 32 MiB with a fresh ``mmap`` and unmaps it
    on ``free``, so every evaluation of VGG-19 wrote its feature maps' pages
    anew: 706,000 page faults (2.8 GB) per evaluation of the objective at
    1024², a third of its time on an AMD EPYC, a fifth at 512² (README,
    "Memory that stays"). With ``mmap`` off and the heap never trimmed, a
    freed block serves the next evaluation. The cost: the process keeps its
    peak memory until it exits, and the peak is higher (2.01 against 1.77 GB
    in ``bench/memory_kept.py``).
    Process-wide, once, glibc only (elsewhere: False, nothing changes);
    ``STYLELIB_KEEP_FREED_MEMORY=0`` leaves glibc as it is.
    """
    if os.environ.get("STYLELIB_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    # -1 as size_t: no top-of-heap size is ever large enough to be trimmed
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, -1))


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none): they pick the arithmetic."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return frozenset()
    return frozenset(next((l.split(":", 1)[1].split() for l in lines if l.startswith("flags")), ()))


def cpu_has_fast_bf16() -> bool:
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The low-precision dtype for the network, or None for plain fp32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if device.type == "cpu" and cpu_has_fast_bf16() else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
