"""Gram vs MRF style loss: seconds per L-BFGS step and peak memory, at several sizes, on this machine.

    python bench/mrf_vs_gram.py [--sizes 384 768] [--steps 8]

Each configuration runs in a fresh process so that its peak resident memory
(ru_maxrss) is its own. Prints JSON.
"""

import argparse
import json
import subprocess
import sys

CHILD = """
import json, resource, sys, time, stylelib
size, loss, steps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c, s = stylelib.load_example("grace-hopper"), stylelib.load_example("starry-night")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
stamps = [it.seconds for it in stylelib.stylize_iter(c, s, size=size, steps=steps, style_loss=loss, preview_every=0)]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"size": size, "style_loss": loss,
                  "s_per_step": round((stamps[-1] - stamps[2]) / (len(stamps) - 3), 3),
                  "peak_extra_mb": round((peak - base) / 1024)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[384, 768])
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        for loss in ("gram", "mrf"):
            out = subprocess.run([sys.executable, "-c", CHILD, str(size), loss, str(args.steps)],
                                 capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"pair": "grace-hopper x starry-night", "results": rows}, indent=2))


if __name__ == "__main__":
    main()
