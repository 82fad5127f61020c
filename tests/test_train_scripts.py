"""The model-training scripts run end to end (a tiny step count, on the CPU) and write what they promise."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tiny_photos(tmp_path: Path) -> Path:
    from stylelib import list_examples, load_example, save_image

    photos = tmp_path / "photos"
    photos.mkdir()
    for e in list_examples("content")[:3]:
        save_image(load_example(e.name, size=64), photos / f"{e.name}.png")
    return photos


def test_cpu_training_script_fine_tunes_the_any_painting_network_by_default(tmp_path):
    photos = tiny_photos(tmp_path)
    env = {**os.environ, "STEPS": "2", "SIZE": "32", "BATCH": "2", "OUT": str(tmp_path), "PY": sys.executable,
           "THREADS": "1", "DATA": str(photos)}
    result = subprocess.run(["bash", "scripts/train_models.sh", "great-wave"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    recipe = json.loads((tmp_path / "great-wave.json").read_text())
    assert recipe["network"] == "pretrained" and recipe["width"] == 8 and recipe["steps"] == 2
    assert recipe["config"]["style_weight"] == 1.5 and recipe["config"]["lr"] == 5e-4  # the recipe's, not the defaults
    assert len(recipe["quality"]["photos"]) == 6


def test_gpu_training_script_runs_on_the_cpu_with_a_tiny_step_count(tmp_path):
    photos = tiny_photos(tmp_path)
    env = {**os.environ, "DEVICE": "cpu", "STEPS": "2", "SIZE": "32", "WIDTH": "8", "BATCH": "2",
           "OUT": str(tmp_path), "PY": sys.executable, "THREADS": "1", "DATA": str(photos)}
    result = subprocess.run(["bash", "scripts/train_models_gpu.sh", "great-wave", "paper:great-wave"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    for name, network in (("great-wave-improved", "improved"), ("great-wave-paper", "paper")):
        recipe = json.loads((tmp_path / f"{name}.json").read_text())
        assert recipe["network"] == network and recipe["width"] == 8 and recipe["steps"] == 2
        assert recipe["config"]["style_layers"][-1] == "relu5_1" and recipe["config"]["style_size"] == 384
        assert set(recipe["quality"]) >= {"content_max", "style_max", "photos"} and len(recipe["quality"]["photos"]) == 6
        assert recipe["sha256"]


def test_record_quality_keeps_the_models_and_the_polished_figures_apart(tmp_path):
    import shutil

    from stylelib.models import ModelInfo, describe, model_path

    src = model_path("starry-night")
    model = tmp_path / "m.safetensors"
    shutil.copy(src, model)
    shutil.copy(src.with_suffix(".json"), model.with_suffix(".json"))
    row = {"content_mean": 0.3, "content_max": 0.41, "style_mean": 0.2, "style_max": 0.33,
           "photos": {"cat": {"content": 0.41, "style": 0.33, "ms": 900.0}}}
    for extra in ({}, {"refine": 10, "refine_style_weight": 2.0}):
        (tmp_path / "q.json").write_text(json.dumps([{**row, **extra}]))
        subprocess.run([sys.executable, "scripts/record_quality.py", str(model), str(tmp_path / "q.json")],
                       cwd=ROOT, check=True, capture_output=True)
    recipe = json.loads(model.with_suffix(".json").read_text())
    assert recipe["quality"]["style_max"] == 0.33 and "steps" not in recipe["quality"]
    assert recipe["quality_polished"] | {"steps": 10, "style_weight": 2.0} == recipe["quality_polished"]
    assert recipe["quality_polished"]["photos"] == {"cat": {"content": 0.41, "style": 0.33}}
    assert "with --refine 10: 0.33, 0.41" in describe(ModelInfo("m", model, recipe))
