"""``stylelib``: the command line. The only module besides app.py that talks to people.

Flags of ``stylize`` are built from :class:`stylelib.options.Options`, so they
and their defaults cannot drift from the library.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import sys
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .data import list_examples, resolve_image
from .fast import apply_to_files
from .images import ImageError, save_image
from .options import Options
from .weights import WeightsError

# Errors that are the user's input, not our bug: one line, exit code 2.
USER_ERRORS = (ImageError, ValueError, KeyError, WeightsError, FileNotFoundError, FloatingPointError)
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def add_options(parser: argparse.ArgumentParser, options_class: type = Options, skip: tuple = ()) -> None:
    """One ``--flag`` per dataclass field; unset flags keep the dataclass default."""
    for f in dataclasses.fields(options_class):
        if f.name in skip:
            continue
        meta = f.metadata
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
        kwargs = dict(default=argparse.SUPPRESS, type=meta["type"], help=f"{meta['help']} (default: {shown})")
        if "tuple" in str(f.type):
            kwargs["nargs"] = "+"
        if meta["choices"] and not meta["or_path"]:
            kwargs["choices"] = meta["choices"]
        elif meta["choices"]:
            kwargs["metavar"] = "{" + ",".join(meta["choices"]) + "} or PATH"
        parser.add_argument("--" + f.name.replace("_", "-"), **kwargs)


def _progress(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", dynamic_ncols=True, file=sys.stderr)


def cmd_stylize(args: argparse.Namespace) -> int:
    from .optimize import stylize_iter
    from .recipe import make_recipe

    names = {f.name for f in dataclasses.fields(Options)}
    options = Options(**{k: v for k, v in vars(args).items() if k in names})
    content, styles = str(resolve_image(args.content)), [str(resolve_image(s)) for s in args.style]
    out = Path(args.output or f"{Path(args.content).stem}_{Path(args.style[0]).stem}.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    bar, final = None, None
    try:
        for it in stylize_iter(content, styles if len(styles) > 1 else styles[0], **dataclasses.asdict(options)):
            bar = bar or _progress(options.steps * options.scales, f"stylize {out.name}")  # after inputs load
            bar.update(1)
            bar.set_postfix(loss=f"{it.loss:.4g}", scale=f"{it.scale}/{it.scales}")
            final = it
    finally:
        if bar is not None:
            bar.close()
    save_image(final.image, out)
    recipe = make_recipe(options, final, content=args.content, styles=args.style, output=str(out))
    out.with_suffix(".json").write_text(json.dumps(recipe, indent=2) + "\n")
    print(f"wrote {out} and {out.with_suffix('.json')} ({final.seconds:.1f} s, loss {final.loss:.4g})")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .train import TrainConfig, train_iter

    names = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in names})
    bar, last = None, None
    try:
        for it in train_iter(cfg, args.output, resume=args.resume):
            if bar is None:
                bar = _progress(cfg.steps, f"train {Path(args.output).name}")
                bar.update(it.step - 1)
            bar.update(1)
            bar.set_postfix(loss=f"{it.loss:.4g}", **({"saved": f"step {it.step}"} if it.checkpoint else {}))
            last = it
    finally:
        if bar is not None:
            bar.close()
    if last is not None:
        print(f"wrote {args.output} ({last.seconds:.0f} s on {last.info['device']}, final loss {last.loss:.4g})")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    bars: dict = {}

    def report(name: str, done: int, total: int) -> None:
        bar = bars.get(name) or bars.setdefault(name, _progress(total or None, Path(name).name))
        bar.update(done - bar.n)

    try:
        written = apply_to_files(args.model, args.inputs, args.output, size=args.size, batch=args.batch,
                                 precision=args.precision, device=args.device, compile=args.compile,
                                 smooth=args.smooth, callback=report)
    finally:
        for bar in bars.values():
            bar.close()
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .fast import list_models

    for m in list_models():
        r = m.recipe
        print(f"{m.name:20} {r.get('network', '?')}/{r.get('width', '?')}  style {r.get('style', '?')}, "
              f"{r.get('steps', '?')} steps x {r.get('batch_size', '?')} at {r.get('image_size', '?')} px "
              f"on {r.get('device', '?')}")
    return 0


def cmd_examples(args: argparse.Namespace) -> int:
    for e in list_examples(args.kind):
        print(f"{e.name:22} {e.kind:8} {e.credit}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stylelib", description="Neural style transfer: a teaching kit.")
    parser.add_argument("--version", action="version", version=f"stylelib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "stylize", help="Gatys et al.: optimise an image to have the photo's content and the painting's style",
        description="Write OUTPUT (PNG) and OUTPUT.json (the recipe). CONTENT and STYLE are files "
        "or names of bundled examples (see `stylelib examples`); several STYLEs are blended.",
    )
    p.add_argument("content", metavar="CONTENT")
    p.add_argument("style", metavar="STYLE", nargs="+")
    p.add_argument("-o", "--output", help="output PNG (default: CONTENT_STYLE.png)")
    add_options(p)
    COMMANDS["stylize"] = cmd_stylize

    from .options import DEVICES, PRECISIONS
    from .train import TrainConfig

    p = sub.add_parser(
        "train", help="Johnson et al.: train a fast network for one painting on a folder of photos",
        description="Write MODEL (fp16 safetensors), MODEL.json (the recipe), MODEL.ckpt (the checkpoint, "
        "for --resume) and MODEL_previews/ (the validation photo every --preview-every steps). "
        "With several processes: torchrun --nproc_per_node K -m stylelib train ...",
    )
    p.add_argument("style", metavar="STYLE", help="the painting: a file or a bundled example's name")
    p.add_argument("--data", required=True, help="folder of photos (searched recursively)")
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="the model file to write (.safetensors)")
    p.add_argument("--resume", action="store_true", help="continue from MODEL.ckpt if it exists")
    add_options(p, TrainConfig, skip=("style", "data"))
    COMMANDS["train"] = cmd_train

    p = sub.add_parser("apply", help="stylise images and videos with a trained fast network, in milliseconds")
    p.add_argument("model", metavar="MODEL", help="a model file or a bundled model's name (see `stylelib models`)")
    p.add_argument("inputs", metavar="INPUT", nargs="+", help="image or video files (audio is kept)")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the results")
    apply_defaults = {k: v.default for k, v in inspect.signature(apply_to_files).parameters.items()}
    p.add_argument("--size", type=int, help="longest side of the results (default: the input's)")
    p.add_argument("--batch", type=int, default=apply_defaults["batch"],
                   help=f"frames per pass (default: {apply_defaults['batch']})")
    p.add_argument("--smooth", type=float, default=apply_defaults["smooth"],
                   help=f"video: blend each frame with the last, 0-0.9, against flicker (default: {apply_defaults['smooth']})")
    p.add_argument("--device", default=apply_defaults["device"], choices=DEVICES)
    p.add_argument("--precision", default=apply_defaults["precision"], choices=PRECISIONS)
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the network: ~30 s more for the first frame of each size, then ~2x faster")
    COMMANDS["apply"] = cmd_apply

    p = sub.add_parser("models", help="list the bundled fast-style models")
    COMMANDS["models"] = cmd_models

    p = sub.add_parser("examples", help="list the bundled example photos and paintings")
    p.add_argument("--kind", choices=("content", "style"))
    COMMANDS["examples"] = cmd_examples
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except USER_ERRORS as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"stylelib {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
