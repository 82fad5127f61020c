"""Benchmark the fast networks: inference ms per image, training ms per step, and quality against Gatys.

    python bench/fast_speed.py [--model starry-night] [--skip-quality]

Inference: 512x512 and 1920x1080, fp32 and bf16 (fp16 too on CUDA),
bf16 weights or fp32 weights under autocast, eager or torch.compile
(first_call_s: the compile), channels_last or not, batch 1 and 4, for the bundled model's own network
(a fine-tuned any-painting network, or a TransformerNet of its width) and the paper's width 32, on the CPU
and (when there is one) the GPU. Training: one
step of the bundled models' CPU recipe. Quality: on a held-out photo, the
seed's content and style errors (stylelib's default Gatys objective,
VGG-19, each term relative to its all-zero value) of the fast network's
output against Gatys' optimised output. Prints JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import tempfile
import time

import torch

import stylelib
from stylelib.fast import Stylizer, stylize_fast
from stylelib.models import list_models, load_model
from stylelib.transformer_net import TransformerNet


def time_run(run: Stylizer, x: torch.Tensor, repeats: int) -> tuple[float, float]:
    """(seconds of the first call, ms per image afterwards); the first call is where compiling happens."""
    sync = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)
    start = time.perf_counter()
    run(x, batch=len(x))
    sync()
    first = time.perf_counter() - start
    run(x, batch=len(x))
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        run(x, batch=len(x))
    sync()
    return first, (time.perf_counter() - start) / repeats * 1000 / len(x)


def autocast_run(net: torch.nn.Module, dtype: torch.dtype):
    """The old way, for comparison: fp32 weights under autocast."""
    def run(x, batch):
        with torch.no_grad(), torch.autocast(x.device.type, dtype=dtype):
            return net(x).float()
    return run


def inference(device: torch.device, nets: dict[str, torch.nn.Module]) -> list[dict]:
    cpu = device.type == "cpu"
    low = ["bf16"] + ([] if cpu else ["fp16"])
    rows = []
    for label, net in nets.items():
        net = net.eval().to(device)
        for (h, w) in [(512, 512), (1080, 1920)]:
            for batch in (1, 4):
                if cpu and (h, w) == (1080, 1920) and batch == 4:
                    continue  # minutes on 2 cores, and tells nothing batch 1 does not
                x = torch.rand(batch, 3, h, w, device=device)
                cases = [("fp32", "eager", cl) for cl in (False, True)]
                cases += [("bf16", "autocast", False)]
                cases += [(p, "eager", cl) for p in low for cl in (False, True)]
                if batch == 1 or not cpu:
                    cases += [(p, "compile", not cpu) for p in low]
                for precision, mode, cl in cases:
                    torch._dynamo.reset()
                    if mode == "autocast":
                        run = autocast_run(net, torch.bfloat16)
                    else:
                        run = Stylizer(net, precision=precision, compile=mode == "compile")
                        if cl:  # on a copy: fp32 runs the network itself, which the later rows reuse
                            run.net = copy.deepcopy(run.net).to(memory_format=torch.channels_last)
                            run.memory = torch.channels_last
                    first, ms = time_run(run, x, repeats=2 if cpu else 20)
                    rows.append({"device": device.type, "network": label, "size": f"{w}x{h}", "batch": batch,
                                 "precision": precision, "mode": mode, "channels_last": cl,
                                 "ms_per_image": round(ms, 1), "first_call_s": round(first, 1)})
                    print(json.dumps(rows[-1]), flush=True)
    return rows


def training_step(model_name: str) -> dict:
    from stylelib.train import TrainConfig, train_iter

    recipe = next(m.recipe for m in list_models() if m.name == model_name)
    keep = {k: v for k, v in recipe["config"].items() if k in {f for f in TrainConfig.__dataclass_fields__}}
    keep.update(steps=6, checkpoint_every=1000, preview_every=1000, data=os.environ.get("STYLELIB_PHOTOS", "train_photos"))
    cfg = TrainConfig(**keep)
    stamps = [it.seconds for it in train_iter(cfg, os.path.join(tempfile.mkdtemp(), "m.safetensors"))]
    return {"config": {k: keep[k] for k in ("network", "width", "image_size", "batch_size", "arch")},
            "ms_per_step": round((stamps[-1] - stamps[1]) / (len(stamps) - 2) * 1000)}


def quality(model_name: str, photo_name: str = "kingfisher", size: int = 384) -> dict:
    """The kit's relative errors (stylelib.evaluate) of the fast network and of Gatys on one held-out photo."""
    from stylelib.data import resolve_image
    from stylelib.evaluate import relative_errors

    photo = stylelib.load_example(photo_name, size=size)
    style_name = next(m.recipe["style"] for m in list_models() if m.name == model_name)
    painting = resolve_image(style_name)
    start = time.perf_counter()
    gatys = stylelib.stylize(photo, painting, size=size)
    gatys_s = time.perf_counter() - start
    net = load_model(model_name)
    start = time.perf_counter()
    fast = stylize_fast(net, photo)
    fast_s = time.perf_counter() - start
    return {"photo": photo_name, "style": style_name, "size": size,
            "photo_itself": relative_errors(photo, photo, painting),
            "gatys": {**relative_errors(gatys, photo, painting), "seconds": round(gatys_s, 1)},
            "fast": {**relative_errors(fast, photo, painting), "seconds": round(fast_s, 3)},
            "note": "stylelib.evaluate.relative_errors: content E_c/E_c(0) at relu4_2; style S(result)/S(photo)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="starry-night")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    model = load_model(args.model)
    nets = {"improved, width 32": TransformerNet("improved", 32)}
    if model.kind != "improved" or model.width != 32:
        nets[f"{args.model}: {model.kind}, width {model.width}"] = model
    report = {"machine": {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
                          "torch": torch.__version__,
                          "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}}
    report["inference"] = inference(torch.device("cpu"), nets)
    if torch.cuda.is_available():
        report["inference"] += inference(torch.device("cuda"), nets)
    if not args.skip_training:
        report["training"] = training_step(args.model)
    if not args.skip_quality:
        report["quality"] = quality(args.model)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
