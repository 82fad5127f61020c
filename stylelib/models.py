"""Trained fast-style model files: save, list, find and load them, refusing damaged ones (lessons 09, 10).

A model file is fp16 safetensors holding a :class:`TransformerNet`'s
weights (or, for ``pretrained`` models, :mod:`stylelib.pretrained`'s
network), with its training config in the metadata; ``MODEL.json`` beside
it is the recipe (style image, steps, sizes, weights, seconds, device,
quality figures, the file's SHA-256). Bundled models live in
``assets/models`` and are used by name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .files import write_atomic
from .runtime import keep_freed_memory, resolve_device
from .transformer_net import NETWORKS, TransformerNet

# pretrained: stylelib.pretrained, the any-painting network fine-tuned; photo-coded: stylelib.photo_coded, the same
# with a code per photo
FAST_NETWORKS = (*NETWORKS, "pretrained", "photo-coded")
FIXED_WIDTH = ("pretrained", "photo-coded")  # the released any-painting network's shape: width not a choice
PRETRAINED_WIDTH = 8  # that network's first layer
MAX_NOISE = 16  # noise inputs a model may have (stylelib.style_transformer)

MODELS_DIR = Path(__file__).parent / "assets" / "models"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    recipe: dict


def sha256(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_model(net: nn.Module, path: str | os.PathLike, config, *, seconds: float, info: dict) -> None:
    """fp16 safetensors + the recipe JSON next to it (both written atomically)."""
    from safetensors.torch import save

    path = Path(path)
    state = {k: v.detach().half().contiguous().cpu() for k, v in net.state_dict().items()}
    cfg = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    meta = {"network": net.kind, "width": net.width, "config": cfg}
    write_atomic(path, save(state, metadata={"stylelib": json.dumps(meta)}))
    recipe = {
        "style": cfg.get("style"), "network": net.kind, "width": net.width, "steps": cfg.get("steps"),
        "batch_size": cfg.get("batch_size"), "image_size": cfg.get("image_size"), "config": cfg,
        "seconds": round(seconds, 1), **info, "sha256": sha256(path),
    }
    write_atomic(path.with_suffix(".json"), json.dumps(recipe, indent=2) + "\n")


def list_models() -> list[ModelInfo]:
    """The bundled models (name = file stem), with their recipes."""
    out = []
    for path in sorted(MODELS_DIR.glob("*.safetensors")):
        recipe_path = path.with_suffix(".json")
        recipe = json.loads(recipe_path.read_text()) if recipe_path.exists() else {}
        out.append(ModelInfo(path.stem, path, recipe))
    return out


def model_path(name_or_path: str | os.PathLike) -> Path:
    """A bundled model's file for a name, else the path itself."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = {m.name: m.path for m in list_models()}
    if str(name_or_path) in bundled:
        return bundled[str(name_or_path)]
    raise ValueError(f"no model file or bundled model {str(name_or_path)!r}; bundled: {', '.join(bundled) or 'none'}")


def painting_of(name_or_path: str | os.PathLike) -> str:
    """The painting a model was trained on, as its recipe names it (a bundled name or a file)."""
    recipe = model_path(name_or_path).with_suffix(".json")
    try:
        painting = json.loads(recipe.read_text()).get("style") if recipe.exists() else None
    except ValueError:
        painting = None
    if not painting:
        raise ValueError(f"{recipe.name} does not name the painting the model was trained on (its 'style')")
    return str(painting)


def model_named_after(painting: object) -> str:
    """The bundled model named after a painting given by bundled name or file (``init="model"``'s default).

    The painting's file stem is the model's name: ``"starry-night"`` or
    ``".../starry-night.jpg"`` -> the bundled ``starry-night`` model. A
    painting given as pixels has no name; then the caller names the model.
    """
    names = [m.name for m in list_models()]
    if not isinstance(painting, (str, os.PathLike)):
        raise ValueError("init='model' with a painting given as pixels needs init_model: a bundled model name "
                         f"({', '.join(names)}) or a model file")
    stem = Path(painting).stem
    if stem not in names:
        raise ValueError(f"no bundled model is named after the painting {stem!r}: give init_model "
                         f"({', '.join(names)}, or a model file), or train one with `stylelib train`")
    return stem


def describe(info: ModelInfo) -> str:
    """One line about a model: network, painting, training and, where measured, its errors."""
    r = info.recipe
    line = (f"{r.get('network', '?')}/{r.get('width', '?')}, {r.get('steps', '?')} steps x "
            f"{r.get('batch_size', '?')} at {r.get('image_size', '?')} px on {r.get('device', '?')}")
    if "quality" in r:
        q = r["quality"]
        line += f"; style error {q['style_max']:.2f}, content error {q['content_max']:.2f} (worst held-out photo)"
    if "quality_polished" in r:
        q = r["quality_polished"]
        line += f"; with --refine {q['steps']}: {q['style_max']:.2f}, {q['content_max']:.2f}"
    return line


def build_network(kind: str, width: int, *, noise: int = 0) -> nn.Module:
    """An untrained network of a model file's kind: TransformerNet, or the any-painting network (baked or photo-coded)."""
    if kind == "pretrained":
        from .pretrained import empty  # the any-painting network's modules load only when needed

        return empty(noise=noise)
    if kind == "photo-coded":
        from .photo_coded import empty as empty_coded

        return empty_coded(noise=noise)
    return TransformerNet(kind, width)


def load_model(name_or_path: str | os.PathLike, *, device: str = "cpu") -> nn.Module:
    """A trained network (:func:`build_network`) in eval mode, float32 weights, on ``device``.

    A file that is not a stylelib model, is truncated or damaged, holds
    non-finite weights, or does not match the SHA-256 in its recipe is
    refused with a ValueError that says which.
    """
    from safetensors.torch import load

    path = model_path(name_or_path)
    data = path.read_bytes()
    recipe_path = path.with_suffix(".json")
    try:
        expected = json.loads(recipe_path.read_text()).get("sha256") if recipe_path.exists() else None
    except ValueError:
        expected = None  # an unreadable recipe is not a reason to refuse the weights; the checks below still run
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise ValueError(f"{path.name} is damaged: its SHA-256 does not match its recipe {recipe_path.name}")
    try:
        n = int.from_bytes(data[:8], "little")  # safetensors: an 8-byte header length, the JSON header, the data
        meta = json.loads(data[8 : 8 + n]).get("__metadata__") or {}
        state = load(data)
    except Exception:
        raise ValueError(f"{path.name} is not a readable safetensors model (damaged or truncated?)") from None
    try:
        meta = json.loads(meta["stylelib"])
        kind, width = meta["network"], int(meta.get("width", 32))
        noise = int((meta.get("config") or {}).get("noise", 0))  # noise inputs (stylelib.style_transformer)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ValueError(f"{path.name} is not a stylelib model (no 'stylelib' metadata)") from None
    if kind not in FAST_NETWORKS or not 1 <= width <= 512 or not 0 <= noise <= MAX_NOISE:
        raise ValueError(f"{path.name}: unknown network {kind!r} / width {width} / noise {noise}")
    net = build_network(kind, width, noise=noise)
    try:
        net.load_state_dict({k: v.float() for k, v in state.items()})
    except RuntimeError:
        raise ValueError(f"{path.name}: its weights do not fit a {kind} network of width {width}") from None
    if not all(torch.isfinite(p).all() for p in net.state_dict().values() if p.is_floating_point()):
        raise ValueError(f"{path.name} holds non-finite (inf/NaN) weights: the file is damaged")
    keep_freed_memory()  # every frame's feature maps reuse the last one's memory
    return net.eval().to(resolve_device(device))
