"""A probe, not an option of the kit: the weight-by-weight average of two models of one network.

    python scripts/soup_probe.py A.safetensors B.safetensors 0.5 OUT.safetensors
    python bench/fast_quality.py OUT.safetensors --style PAINTING

OUT = (1 - t) A + t B, with A's metadata (so it loads as A's network); no recipe
is written, so the judge needs the painting named.
"""

import sys

from safetensors import safe_open
from safetensors.torch import load_file, save_file

a, b, t, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
wa, wb = load_file(a), load_file(b)
with safe_open(a, "pt") as f:
    meta = f.metadata()
save_file({k: ((1 - t) * wa[k].float() + t * wb[k].float()).half() for k in wa}, out, metadata=meta)
