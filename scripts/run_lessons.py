"""Execute lessons top to bottom and report seconds per lesson (default settings unless STYLELIB_FAST=1).

    python scripts/run_lessons.py [lessons/01_*.ipynb ...] [--save DIR]

--save writes the executed notebooks (with outputs) to DIR for reading; the
committed notebooks stay output-free.
"""

import argparse
import json
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

parser = argparse.ArgumentParser()
parser.add_argument("notebooks", nargs="*")
parser.add_argument("--save")
args = parser.parse_args()
paths = [Path(p) for p in args.notebooks] or sorted(Path("lessons").glob("[0-9]*.ipynb"))
times = {}
for path in paths:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    times[path.name] = round(time.perf_counter() - start, 1)
    print(f"{path.name}: {times[path.name]} s", flush=True)
    if args.save:
        Path(args.save).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, Path(args.save) / path.name)
print(json.dumps(times, indent=2))
