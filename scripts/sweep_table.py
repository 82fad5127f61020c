"""The fast-model recipe sweep as a Markdown table (docs/fast_recipe.md), from runs/sweeps/results.jsonl.

    python scripts/sweep_table.py > table.md

One row per run of scripts/fast_sweep.py: what changed, the CPU seconds,
and the kit's relative content and style errors on the six held-out
photos at 384 px (mean and worst), with the command that reproduces it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "runs" / "sweeps" / "results.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print("| run | changed | CPU min | content mean / worst | style mean / worst | command |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        flags = " ".join(r["flags"]).replace("--style-layers relu1_1 relu2_1 relu3_1 relu4_1 relu5_1", "Gatys layers")
        cpu = f"{r['cpu_seconds'] / 60:.1f}" if r.get("cpu_seconds") else "—"
        print(f"| {r['name']} | `{flags}` | {cpu} | {r['content_mean']:.2f} / {r['content_max']:.2f} "
              f"| {r['style_mean']:.2f} / {r['style_max']:.2f} | `python scripts/fast_sweep.py "
              f"{r['name'].split('@')[0]} {r['style']} {' '.join(r['flags'])}` |")


if __name__ == "__main__":
    main()
