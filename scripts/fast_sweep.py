"""One row of the fast-model recipe sweep: train, then judge on the held-out photos.

    python scripts/fast_sweep.py NAME STYLE [stylelib train flags...]

Trains ``runs/sweeps/NAME.safetensors`` on ``train_photos/`` (made by
scripts/train_models.sh: the shared photos minus the six bundled ones) with
``stylelib train STYLE --data train_photos -o ... FLAGS``, judges it with
``bench/fast_quality.py`` on the six bundled photos at 384 px, and appends a
JSON line (flags, seconds, CPU, the errors) to ``runs/sweeps/results.jsonl``.
``scripts/sweep_table.py`` turns that file into the table in docs/fast_recipe.md.
With ``--resume`` among the flags and a larger ``--steps``, the same NAME
continues exactly where it stopped (rows are named NAME@steps).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                flags = open("/proc/cpuinfo").read()
                return line.split(":", 1)[1].strip() + (" (AMX)" if "amx_bf16" in flags else "")
    except OSError:
        pass
    return "unknown"


def torch_threads() -> int:
    import os

    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))


def main() -> None:
    name, style, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = ROOT / "runs" / "sweeps" / f"{name}.safetensors"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["stylelib", "train", style, "--data", "train_photos", "-o", str(out.relative_to(ROOT)),
           "--checkpoint-every", "100000", "--preview-every", "100000", *flags]
    clock = time.time()
    subprocess.run([PY, "-m", "stylelib", *cmd[1:]], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    seconds = time.time() - clock
    judged = json.loads(subprocess.run([PY, "bench/fast_quality.py", str(out)], cwd=ROOT, check=True,
                                       capture_output=True, text=True).stdout)[0]
    recipe = json.loads(out.with_suffix(".json").read_text())
    steps = flags[flags.index("--steps") + 1] if "--steps" in flags else "?"
    row = {"name": f"{name}@{steps}", "style": style, "flags": flags, "command": " ".join(cmd), "train_seconds": round(seconds),
           "cpu_seconds": recipe.get("cpu_seconds"),
           "cpu": cpu_name(), "threads": torch_threads(), **{k: round(judged[k], 4) for k in ("content_mean", "content_max", "style_mean", "style_max")},
           "photos": {p: {k: round(v, 4) for k, v in r.items()} for p, r in judged["photos"].items()}}
    with open(out.parent / "results.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps({k: v for k, v in row.items() if k != "photos"}))


if __name__ == "__main__":
    main()
