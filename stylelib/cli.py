"""``stylelib``: the command line. The only module besides app.py that talks to people.

Flags of ``stylize`` are built from :class:`stylelib.options.Options`, so they
and their defaults cannot drift from the library.

Nothing at the top of this module imports torch (1.5 s or more): ``stylize
--live`` parses its flags and writes a first picture with
:mod:`stylelib.anystyle_np` (NumPy) before torch loads; every command's own
imports come after.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import io
import json
import sys
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .data import list_examples, resolve_image
from .images import ImageError, fit_size, image_format, save_image
from .options import Options

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
MAX_APPLY_SIZE = 8192


def add_options(parser: argparse.ArgumentParser, options_class: type = Options, skip: tuple = ()) -> None:
    """One ``--flag`` per dataclass field; unset flags keep the dataclass default."""
    for f in dataclasses.fields(options_class):
        if f.name in skip:
            continue
        meta = f.metadata
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
        text = meta["help"].replace("%", "%%")  # argparse formats help with %: a literal "80-100%" must be escaped
        kwargs = dict(default=argparse.SUPPRESS, type=meta["type"], help=f"{text} (default: {shown})")
        if meta["type"] is bool:
            kwargs = dict(default=argparse.SUPPRESS, action="store_true", help=text)
        elif "tuple" in str(f.type):
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
    from .optimize import stylize_iter, with_init_model
    from .recipe import make_recipe

    options, content, styles, out = _stylize_inputs(args)
    image_format(out)  # a name we can't write is refused now, not after the run
    options = with_init_model(options, styles)  # init "model": named, so that the recipe says which
    if args.estimate:
        from .calibrate import calibrate
        from .cost import estimate_stylize
        from .images import load_image

        h, w = load_image(content, size=options.size).shape[-2:]
        cost = estimate_stylize(options, h, w, rates=calibrate(options.device, options.precision))
        verdict = "fits" if cost.fits else "does NOT fit"
        print(f"stylize {w}x{h}, {options.total_steps} steps over {options.scales} size(s): {cost.describe()}; "
              f"{verdict}")
        return 0
    # On a terminal the bar appears at once (at 1024 px the first step takes a while: the photo, the targets, a
    # line search) and is erased if the run fails, so an error stays one line; in a pipe it starts with step 1.
    bar, final = None, None
    if sys.stderr.isatty():
        bar = _progress(options.total_steps, f"stylize {out.name}")
        bar.set_postfix_str("loading the network and the targets")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if args.live:  # something to look at while the targets are computed
            from .anystyle import first_picture

            save_image(first_picture(content, styles, weights=options.style_blend, size=options.size), out)
        for it in stylize_iter(content, styles if len(styles) > 1 else styles[0], options):
            bar = bar or _progress(options.total_steps, f"stylize {out.name}")
            bar.update(1)
            bar.set_postfix(loss=f"{it.loss:.4g}", scale=f"{it.scale}/{it.scales}")
            if args.live and it.image is not None and not it.final:
                save_image(it.image, out)
            final = it
    except BaseException:
        if bar is not None:
            bar.leave = False
        raise
    finally:
        if bar is not None:
            bar.close()
    save_image(final.image, out)
    recipe = make_recipe(options, final, content=args.content, styles=args.style, output=str(out))
    out.with_suffix(".json").write_text(json.dumps(recipe, indent=2) + "\n")
    print(f"wrote {out} and {out.with_suffix('.json')} ({final.seconds:.1f} s, loss {final.loss:.4g})")
    return 0


def _stylize_inputs(args: argparse.Namespace) -> tuple[Options, str, list[str], Path]:
    """The options (checked), the photo's and paintings' files, and OUTPUT, from ``stylize``'s arguments."""
    names = {f.name for f in dataclasses.fields(Options)}
    options = Options(**{k: v for k, v in vars(args).items() if k in names})
    content, styles = str(resolve_image(args.content)), [str(resolve_image(s)) for s in args.style]
    return options, content, styles, Path(args.output or f"{Path(args.content).stem}_{Path(args.style[0]).stem}.png")


class _Refused(Exception):
    """A command line the NumPy picture leaves to the full parser, which says what is wrong."""


class _QuietParser(argparse.ArgumentParser):
    def error(self, message: str):
        raise _Refused(message)


def numpy_first_picture(argv: Sequence[str]) -> bool:
    """``stylize ... --live``: write the one-pass picture to OUTPUT with NumPy, before torch loads; True if written.

    Best effort and silent: anything wrong with the command line or the
    files is left to the run that follows, which reports it in one line.
    """
    if list(argv[:1]) != ["stylize"] or "--live" not in argv or {"-h", "--help", "--estimate"} & set(argv):
        return False
    from PIL import Image

    from .anystyle_np import first_picture
    from .files import write_atomic

    parser = _QuietParser(add_help=False)
    add_stylize_arguments(parser)
    try:
        options, content, styles, out = _stylize_inputs(parser.parse_args(argv[1:]))
        fmt = image_format(out)
        picture = first_picture(content, styles, weights=options.style_blend, size=options.size)  # (H, W, 3)
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, format=fmt)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, buffer.getvalue())
    except Exception:  # noqa: BLE001 - the run that follows says what went wrong, in one line
        return False
    return True


def cmd_train(args: argparse.Namespace) -> int:
    from .train import TrainConfig, train_iter

    names = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in names})
    bar, last = None, None
    try:
        for it in train_iter(cfg, args.output, resume=args.resume):
            if bar is None:
                bar = _progress(cfg.steps, f"train {Path(args.output).name}")
            bar.update(it.step - bar.n)  # from where a resumed run starts; a step the guard undid is skipped
            bar.set_postfix(loss=f"{it.loss:.4g}", **({"saved": f"step {it.step}"} if it.checkpoint else {}))
            last = it
    finally:
        if bar is not None:
            bar.close()
    if last is not None:
        print(f"wrote {args.output} ({last.seconds:.0f} s on {last.info['device']}, final loss {last.loss:.4g})")
    return 0


def _split_apply_args(args: argparse.Namespace) -> tuple[str | None, list[str]]:
    """MODEL and INPUTs from the positionals, undoing greedy ``--style-image``/``--blend``.

    ``--style-image A photo.jpg`` reads as one painting and one photo;
    ``--blend 2 1 photo.jpg`` gives back the words that are not numbers.
    """
    items = list(args.items)
    if args.blend is not None:
        numbers = []
        for word in args.blend:
            try:
                numbers.append(float(word))
            except ValueError:
                items.append(word)
        args.blend = numbers
    if args.style_image:
        count = len(args.blend) if args.blend else (len(args.style_image) if items else 1)
        items = args.style_image[count:] + items
        args.style_image = args.style_image[:count]
    if args.style_image or args.builtin is not None:
        return None, items
    if not items:
        raise ValueError("give a MODEL (see `stylelib models`), --style-image PAINTING or --builtin N, then INPUTs")
    return items[0], items[1:]


def parse_builtin(spec: str) -> dict[int, float]:
    """"7" or "3:0.5,12:0.5" -> {index: weight}."""
    out: dict[int, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        index, _, weight = part.partition(":")
        try:
            out[int(index)] = out.get(int(index), 0.0) + (float(weight) if weight else 1.0)
        except ValueError:
            raise ValueError(f"--builtin {spec!r}: use an index like 7 or a mix like 3:0.5,12:0.5") from None
    if not out:
        raise ValueError("--builtin needs a style index (0-25) or a mix like 3:0.5,12:0.5")
    return out


def cmd_apply(args: argparse.Namespace) -> int:
    from .media import apply_to_files

    model, inputs = _split_apply_args(args)
    if not inputs:
        raise ValueError("no INPUT files given")
    if args.size is not None and not 16 <= args.size <= MAX_APPLY_SIZE:
        raise ValueError(f"--size must be from 16 to {MAX_APPLY_SIZE} px; got {args.size}")
    if args.refine < 0:
        raise ValueError(f"--refine takes a number of steps (0: one pass); got {args.refine}")
    if args.refine and model is None:
        raise ValueError("--refine polishes a trained MODEL's picture; --style-image and --builtin have no model")
    if args.style_image or args.builtin is not None:
        from .anystyle import AnyStyle

        anystyle = AnyStyle(device=args.device, precision=args.precision, compile=args.compile)
        if args.style_image:
            run = anystyle.frames([str(resolve_image(p)) for p in args.style_image], weights=args.blend,
                                  strength=args.strength, style_size=args.style_size,
                                  preserve_color=args.preserve_color, work_size=args.work_size or None)
        else:
            run = anystyle.builtin_frames(parse_builtin(args.builtin), strength=args.strength,
                                          preserve_color=args.preserve_color, work_size=args.work_size or None)
    elif args.refine:
        run = _refine_run(model, inputs, args)
    else:
        from .fast import Stylizer

        stylizer = Stylizer(model, device=args.device, precision=args.precision, compile=args.compile)
        run = lambda x: stylizer(x, batch=args.batch)  # noqa: E731
    check_apply_memory(inputs, args, model)
    if args.estimate:
        return estimate_apply_files(run, inputs, args, model)
    bars: dict = {}

    def report(name: str, done: int, total: int) -> None:
        bar = bars.get(name) or bars.setdefault(name, _progress(total or None, Path(name).name))
        bar.update(done - bar.n)

    try:
        written = apply_to_files(run, inputs, args.output, size=args.size, batch=args.batch, smooth=args.smooth,
                                 callback=report)
    finally:
        for bar in bars.values():
            bar.close()
    for path in written:
        print(f"wrote {path}")
    return 0


def _refine_run(model: str, inputs: list[str], args: argparse.Namespace) -> Callable:
    """``apply MODEL --refine N``: the model's picture, then N optimisation steps against its painting (polish)."""
    from .media import is_video
    from .models import painting_of
    from .optimize import check_memory, stylize
    from .options import polish_options
    from .runtime import resolve_device

    videos = [Path(p).name for p in inputs if is_video(p)]
    if videos:
        raise ValueError(f"--refine polishes images, not videos ({videos[0]}): each frame would take seconds")
    if args.estimate:
        raise ValueError("--estimate times the one pass; for --refine's steps, see `stylelib stylize --estimate`")
    painting = str(resolve_image(painting_of(model)))
    options = polish_options(model, steps=args.refine, device=args.device, precision=args.precision,
                             compile=args.compile, preview_every=0)  # --compile: VGG's, for the steps
    for path, h, w, _ in _input_sizes(inputs, args.size):  # the optimisation's memory, before the first file
        check_memory(dataclasses.replace(options, size=max(h, w)), h, w, str(resolve_device(args.device)))
    return lambda x: stylize(x, painting, dataclasses.replace(options, size=max(x.shape[-2:])))


def _apply_kind(model: str | None) -> tuple[str, int]:
    if model is None:
        return "anystyle", 32
    from .models import FIXED_WIDTH, load_model

    net = load_model(model)
    # a fine-tuned any-painting network (stylelib.pretrained, .photo_coded) costs what the any-painting network costs
    return ("anystyle", 32) if net.kind in FIXED_WIDTH else ("johnson", net.width)


def _input_sizes(inputs: list[str], size: int | None) -> list[tuple[str, int, int, int]]:
    """(path, height, width, frames) of each input at the size it will be stylised at; errors for bad files."""
    from .images import load_pil
    from .media import _scaled, is_video

    out = []
    for path in inputs:
        if is_video(path):
            import av

            try:
                with av.open(str(path)) as f:
                    v = f.streams.video[0]
                    h, w = _scaled(v.codec_context.height, v.codec_context.width, size)
                    out.append((path, h, w, v.frames or 1))
            except Exception as err:
                raise ValueError(f"{path}: not a video that can be read ({type(err).__name__})") from None
        else:
            image = load_pil(path, size=size)  # decoded small where the format allows
            out.append((path, image.height, image.width, 1))
    return out


def check_apply_memory(inputs: list[str], args: argparse.Namespace, model: str | None) -> None:
    """Refuse, before any output, an input whose pass would not fit in memory."""
    from .cost import check_fits, estimate_apply

    kind, width = _apply_kind(model)
    for path, h, w, frames in _input_sizes(inputs, args.size):
        batch = min(args.batch, frames)

        def at(size: int, h=h, w=w, batch=batch):
            return estimate_apply(kind, *fit_size(h, w, size), batch=batch, width=width)

        check_fits(at(max(h, w)), Path(path).name, lambda size: at(size).fits, max(h, w))


def estimate_apply_files(run, inputs: list[str], args: argparse.Namespace, model: str | None) -> int:
    """Time one pass at 256 px here, scale it by pixels; print the expected time and memory per input."""
    import time

    import torch

    from .cost import estimate_apply

    kind, width = _apply_kind(model)
    probe = torch.rand(1, 3, 256, 256)
    run(probe)  # the first pass builds kernels
    start = time.perf_counter()
    run(probe)
    per_pixel = (time.perf_counter() - start) / (256 * 256)
    for path, h, w, frames in _input_sizes(inputs, args.size):
        cost = estimate_apply(kind, h, w, batch=min(args.batch, frames), width=width)
        seconds = per_pixel * h * w * frames
        verdict = "fits" if cost.fits else "does NOT fit"
        print(f"{Path(path).name}: {w}x{h} x {frames} frame(s): about {seconds:.1f} s, "
              f"{cost.peak_bytes / 2**30:.1f} GiB at peak ({cost.available_bytes / 2**30:.1f} GiB free); {verdict}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .anystyle import N_STYLES
    from .models import describe, list_models

    models = list_models()
    w = max([20, *(len(m.name) for m in models)])  # one column, however long a model's name
    for m in models:
        print(f"{m.name:{w}} {m.recipe.get('style', '?')}: {describe(m)}")
    print(f"{'--builtin 0..' + str(N_STYLES - 1):{w}} Dumoulin et al.'s {N_STYLES} styles in one network "
          "(mix them: --builtin 3:0.5,12:0.5)")
    print(f"{'--style-image FILE':{w}} any painting, Ghiasi et al.'s arbitrary-style network")
    return 0


def cmd_examples(args: argparse.Namespace) -> int:
    for e in list_examples(args.kind):
        print(f"{e.name:22} {e.kind:8} {e.credit}")
    return 0


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr (and exit code 2), like every other error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def add_stylize_arguments(p: argparse.ArgumentParser) -> None:
    """``stylize``'s arguments (torch-free: the NumPy first picture parses them before torch loads)."""
    p.add_argument("content", metavar="CONTENT")
    p.add_argument("style", metavar="STYLE", nargs="+")
    p.add_argument("-o", "--output", help="output PNG (default: CONTENT_STYLE.png)")
    p.add_argument("--estimate", action="store_true",
                   help="print the expected time and peak memory (measured on this machine), and stop")
    p.add_argument("--live", action="store_true",
                   help="keep OUTPUT up to date as the run goes (a viewer that reloads the file shows it): "
                        "the one-pass network's picture at once, then the image every --preview-every steps")
    add_options(p)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="stylelib", description="Neural style transfer: a teaching kit.")
    parser.add_argument("--version", action="version", version=f"stylelib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)

    p = sub.add_parser(
        "stylize", help="Gatys et al.: optimise an image to have the photo's content and the painting's style",
        description="Write OUTPUT (PNG) and OUTPUT.json (the recipe). CONTENT and STYLE are files "
        "or names of bundled examples (see `stylelib examples`); several STYLEs are blended.",
    )
    add_stylize_arguments(p)
    COMMANDS["stylize"] = cmd_stylize

    from .anystyle import AnyStyle
    from .color import PRESERVE_COLOR
    from .runtime import DEVICES, PRECISIONS
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

    p = sub.add_parser(
        "apply", help="stylise images and videos in one pass: a trained model, any painting, or a built-in style",
        description="stylelib apply MODEL INPUT... -o OUTDIR (a network trained per painting); "
        "stylelib apply --style-image PAINTING [PAINTING...] INPUT... -o OUTDIR (any painting); "
        "stylelib apply --builtin N INPUT... -o OUTDIR (one of 26 styles). Images become OUTDIR/<name>.png, "
        "videos OUTDIR/<name>.mp4 with their audio. With several paintings, give --blend or put the INPUTs first.",
    )
    p.add_argument("items", metavar="[MODEL] INPUT", nargs="*",
                   help="a model file or bundled name (see `stylelib models`), then image or video files")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the results")
    any_defaults = {k: v.default for k, v in inspect.signature(AnyStyle.frames).parameters.items()}
    p.add_argument("--style-image", nargs="+", metavar="PAINTING",
                   help="any painting(s): files or bundled names (Ghiasi et al.'s arbitrary-style network)")
    p.add_argument("--blend", nargs="+", metavar="W", help="weights of several paintings (default: equal)")
    p.add_argument("--builtin", metavar="N", help="one of the 26 built-in styles (0-25) or a mix: 3:0.5,12:0.5")
    p.add_argument("--strength", type=float, default=any_defaults["strength"],
                   help=f"0 = the photo, 1 = the painting (default: {any_defaults['strength']})")
    p.add_argument("--style-size", type=int, default=any_defaults["style_size"],
                   help=f"the painting's shorter side as the network sees it: the brush size "
                        f"(default: {any_defaults['style_size']})")
    p.add_argument("--work-size", type=int, default=any_defaults["work_size"],
                   help="any painting and built-in styles: paint photos larger than this (longest side) at it and "
                        "scale back, as the networks learnt their strokes; 0: at their own size "
                        f"(default: {any_defaults['work_size']})")
    p.add_argument("--preserve-color", default="none", choices=PRESERVE_COLOR,
                   help="keep the photo's colours (with --style-image or --builtin; default: none)")
    p.add_argument("--size", type=int, help="longest side of the results (default: the input's)")
    p.add_argument("--batch", type=int, default=8, help="frames per pass (default: 8)")
    p.add_argument("--smooth", type=float, default=0.0,
                   help="video: blend each frame with the last, 0-0.9, against flicker (default: 0.0)")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--precision", default="auto", choices=PRECISIONS)
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the network: ~15-30 s more for the first frame of each size, then ~2-3x faster "
                        "(worth it for videos and folders)")
    p.add_argument("--refine", type=int, default=0, metavar="N",
                   help="a MODEL's images only: then N steps of Gatys' optimisation against the model's painting "
                        "(the polish preset's weights; 10 steps: the painting's strength, ~3 s at 384 px); 0: one pass "
                        "(default: 0)")
    p.add_argument("--estimate", action="store_true", help="print the expected time and peak memory, and stop")
    COMMANDS["apply"] = cmd_apply

    p = sub.add_parser("models", help="list the bundled fast-style models")
    COMMANDS["models"] = cmd_models

    p = sub.add_parser("examples", help="list the bundled example photos and paintings")
    p.add_argument("--kind", choices=("content", "style"))
    COMMANDS["examples"] = cmd_examples
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    numpy_first_picture(argv)  # stylize --live: a picture on disk before torch loads
    parser = build_parser()
    args = parser.parse_args(argv)
    from .weights import WeightsError

    # Errors that are the user's input, not our bug: one line, exit code 2.
    user_errors = (ImageError, ValueError, KeyError, WeightsError, FileNotFoundError, FloatingPointError)
    try:
        return COMMANDS[args.command](args)
    except user_errors as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"stylelib {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
