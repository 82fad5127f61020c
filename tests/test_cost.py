"""The cost estimate: within 1.5x of measured peak memory and time, and runs that cannot fit are refused early."""

import json
import subprocess
import sys
import time

import pytest

from stylelib import stylize
from stylelib.calibrate import calibrate
from stylelib.cost import available_bytes, estimate_apply, estimate_stylize, vgg_counts
from stylelib.data import resolve_image
from stylelib.images import load_image
from stylelib.options import DEFAULTS, Options

MEASURE = """
import json, sys, torch
from stylelib import stylize
from stylelib.cost import estimate_stylize
from stylelib.data import resolve_image
from stylelib.images import load_image
from stylelib.options import Options
size, extra = int(sys.argv[1]), json.loads(sys.argv[2])
x = load_image(resolve_image("grace-hopper"), size=size)
stylize(x, resolve_image("starry-night"), size=size, steps=2, **extra)
# VmHWM, this process's own peak: ru_maxrss also counts the parent (pytest, gigabytes by now) it was spawned from
peak = int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) * 1024
estimate = estimate_stylize(Options(size=size, steps=2, **extra), *x.shape[-2:]).peak_bytes
print(json.dumps({"peak": peak, "estimate": estimate}))
"""


def test_vgg_work_is_counted_from_the_layer_table():
    gflop, elements = vgg_counts("vgg19", ("relu5_1",), 256, 256)
    assert abs(2 * gflop - 94.67) < 0.01  # one evaluation at 256², forward and backward: ≈ 94 GFLOP
    assert vgg_counts("vgg19", ("relu1_1",), 256, 256)[0] == 2 * 3 * 64 * 9 * 256 * 256 / 1e9


@pytest.mark.parametrize("size, extra", [(256, {}), (512, {}), (768, {}), (384, {"style_loss": "mrf"}),
                                         (384, {"precision": "fp32"})])
def test_peak_memory_within_1_5x_of_a_real_run(size, extra):
    out = subprocess.run([sys.executable, "-c", MEASURE, str(size), json.dumps(extra)], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["peak"] / 1.5 <= r["estimate"] <= 1.5 * r["peak"], r


def test_time_within_1_5x_of_a_real_run():
    x = load_image(resolve_image("kingfisher"), size=192)
    o = Options(size=192, steps=8, precision="fp32")
    stylize(x, resolve_image("great-wave"), **{**o.__dict__, "steps": 1})  # load the network once
    expected = estimate_stylize(o, *x.shape[-2:], rates=calibrate("cpu", "fp32")).seconds
    start = time.perf_counter()
    stylize(x, resolve_image("great-wave"), **o.__dict__)
    measured = time.perf_counter() - start
    assert measured / 1.5 <= expected <= 1.5 * measured, (expected, measured)


def test_a_run_that_cannot_fit_is_refused_before_any_work_with_a_size_that_would():
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"this run at 8192 px needs about .* GiB, but only .* is free; \d+ px would fit"):
        stylize(resolve_image("grace-hopper"), resolve_image("starry-night"), size=8192, steps=1)
    assert time.perf_counter() - start < 60


def test_apply_estimate_grows_with_pixels_and_memory_is_read():
    small, big = estimate_apply("johnson", 256, 256), estimate_apply("johnson", 2048, 2048)
    assert big.peak_bytes > 10 * (small.peak_bytes - 0.85 * 2**30)
    assert 0 < available_bytes() < 2**50
    assert estimate_apply("johnson", 100_000, 100_000).fits is False


def test_the_default_run_fits_here():
    assert estimate_stylize(DEFAULTS, 384, 384).fits
