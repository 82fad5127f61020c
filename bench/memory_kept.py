"""What glibc's handing back of freed memory costs: page faults and seconds, with and without the kit's setting.

    python bench/memory_kept.py                                  # the setting on (as stylize sets it)
    STYLELIB_KEEP_FREED_MEMORY=0 python bench/memory_kept.py     # glibc as it is

For each size: the bare VGG-19 pass (bf16 copy to relu5_1, forward and
backward to the image) and a bundled fast model's frame at that longest
side, each as seconds and minor page faults per call (after two warm-up
calls), then the process's peak resident memory (VmHWM). Prints JSON.
See ``stylelib.runtime.keep_freed_memory`` and the README's "Memory that stays".
"""

from __future__ import annotations

import argparse
import json

import torch

from gatys_speed import cpu_name, per_call, time_evals
from stylelib.data import example_path
from stylelib.fast import Stylizer
from stylelib.images import as_image
from stylelib.runtime import keep_freed_memory, resolve_precision
from stylelib.vgg import get_extractor


def as_row(measured: tuple[float, int]) -> dict:
    seconds, faults = measured
    return {"s": round(seconds, 4), "page_faults": faults}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--model", default="starry-night", help="the bundled fast model timed per frame")
    parser.add_argument("--calls", type=int, default=3)
    args = parser.parse_args()
    kept = keep_freed_memory()
    vgg = get_extractor(("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"), "vgg19", "caffe", "max",
                        "cpu", resolve_precision("auto", torch.device("cpu")))
    model = Stylizer(args.model)
    rows = []
    for size in args.sizes:
        x = torch.rand(1, 3, size, size, requires_grad=True)  # (1, 3, S, S)
        photo = as_image(str(example_path("grace-hopper")), size, 1, "photo")  # (1, 3, H, S)
        rows.append({"size": size, "bare_network": as_row(time_evals(lambda x: vgg(x)["relu5_1"].sum(), x, args.calls)),
                     "fast_model_frame": dict(as_row(per_call(lambda: model(photo), args.calls)),
                                              shape=list(photo.shape[-2:]))})
    peak = int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) * 1024
    print(json.dumps({"cpu": cpu_name(), "threads": torch.get_num_threads(), "freed_memory_kept": kept,
                      "model": args.model, "results": rows, "peak_rss_gb": round(peak / 1e9, 2)}, indent=1))


if __name__ == "__main__":
    main()
