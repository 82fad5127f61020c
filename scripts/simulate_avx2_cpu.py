"""pytest plugin: run the suite in this process as on a CPU with AVX2 only (fp32, NNPACK from 32²).

    PYTHONPATH=scripts python -m pytest -p simulate_avx2_cpu

Subprocesses (the CLI, the app) still see the real CPU, so a test comparing the two can differ.
"""
import stylelib.runtime as r
import stylelib.winograd as w
FLAGS = frozenset({"avx2", "fma", "sse4_2"})
r.cpu_flags = lambda: FLAGS
w.cpu_flags = lambda: FLAGS
assert not r.cpu_has_fast_bf16() and w.wanted("cpu", None) and w.min_side() == 32
