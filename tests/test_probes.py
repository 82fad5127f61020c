"""The s20 probe scripts (docs/fast_recipe.md): each trains a step and reads its model back; the per-layer split adds up."""

import os
import subprocess
import sys

import pytest
import torch

from stylelib import load_example
from stylelib.data import resolve_image
from stylelib.evaluate import relative_errors

from .test_train_scripts import ROOT, tiny_photos

sys.path.append(str(ROOT / "scripts"))  # the probes import each other by name


@pytest.mark.parametrize("script, module, cls, extra", [
    ("scale_noise_probe.py", "scale_noise_probe", "ScaleNoise", ["0.1"]),
    ("coarse_probe.py", "coarse_probe", "Coarse", []),
])
def test_a_probe_trains_a_step_and_its_model_reads_back(tmp_path, script, module, cls, extra):
    from safetensors.torch import load_file

    from stylelib import pretrained

    out = tmp_path / "m.safetensors"
    args = [sys.executable, script, "train", "baked", *extra, "great-wave", "--data", str(tiny_photos(tmp_path)),
            "-o", str(out), "--network", "pretrained", "--steps", "1", "--image-size", "32", "--batch-size", "1"]
    result = subprocess.run(args, cwd=ROOT / "scripts", capture_output=True, text=True, timeout=600,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    net = getattr(__import__(module), cls)(pretrained.empty()).eval()
    net.load_state_dict({k: v.float() for k, v in load_file(out).items()})  # strict: every weight the probe adds
    x = load_example("grace-hopper", size=48)
    with torch.no_grad():
        y1, y2 = net(x), net(x)
    assert y1.shape == x.shape and torch.equal(y1, y2)  # eval mode: the same picture twice


def test_the_layers_shares_add_up_to_the_judges_style_figure():
    from style_per_layer import per_layer

    x = load_example("grace-hopper", size=64)
    y = (x + 0.1 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    painting = resolve_image("great-wave")
    split, judge = per_layer(y, x, painting), relative_errors(y, x, painting)
    assert split["style"] == pytest.approx(judge["style"], abs=1e-3)
    assert split["content"] == pytest.approx(judge["content"], abs=1e-3)
    assert sum(split["share"].values()) == pytest.approx(judge["style"], abs=5e-3)  # rounded to 3 digits each
    assert all(0 < r for r in split["ratio"].values())
