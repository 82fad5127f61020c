"""Timing this machine for the cost estimate (stylelib.cost): two short real runs of the default objective.

Kept apart from :mod:`stylelib.cost` (which only counts) because it runs
the optimiser: the estimate's time comes from here, its memory from there.
"""

from __future__ import annotations

from functools import lru_cache

from .cost import evaluation
from .data import resolve_image
from .optimize import stylize_iter
from .options import DEFAULTS


@lru_cache(maxsize=4)
def calibrate(device: str = "cpu", precision: str = "auto") -> tuple[float, float, float, float]:
    """Seconds per L-BFGS step a + b · GFLOP, and of the setup and first step c + d · GFLOP, measured here.

    Two short real runs of the default objective (64 and 160 px, 6 steps
    each) fit both lines; b carries the line search's extra evaluations, a
    the Python and the optimiser's own work, c + d the targets and the
    first step's longer line search. About two seconds on a 2-core CPU.
    Returns (a, b, c, d).
    """
    run = dict(device=device, precision=precision, preview_every=0)
    list(stylize_iter(resolve_image("grace-hopper"), resolve_image("starry-night"), size=32, steps=1, **run))  # load
    points = []
    for side in (64, 160):
        stamps = [it.seconds for it in stylize_iter(resolve_image("grace-hopper"), resolve_image("starry-night"),
                                                      size=side, steps=6, **run)]
        step = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
        gflop = evaluation(DEFAULTS, side, round(side * 218 / 256))[0]  # grace-hopper: 256 x 218 at 256 px
        points.append((gflop, step, stamps[0] - step))
    (g1, t1, f1), (g2, t2, f2) = points
    b = max((t2 - t1) / (g2 - g1), 1e-6)
    d = max((f2 - f1) / (g2 - g1), 0.0)
    return max(t1 - b * g1, 0.0), b, max(f1 - d * g1, 0.0), d
