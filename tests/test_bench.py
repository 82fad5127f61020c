"""The benchmarks run, in a tiny configuration, and print the JSON they promise (their figures are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench(*args: str) -> dict:
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    start = out.stdout.rindex("\n{\n") + 1 if "\n{\n" in out.stdout else out.stdout.index("{")
    return json.loads(out.stdout[start:])


def test_time_to_quality_benchmark_tiny():
    report = bench("bench/gatys_quality.py", "--tiny")
    rows = [r for r in report["results"] if "config" in r]
    assert {r["config"] for r in rows} >= {"default", "scales 2 (80 + 40 fine)", "init instant (50 steps)",
                                          "torch's first L-BFGS step"}
    assert all(r["seconds"] > 0 and r["objective"] > 0 for r in rows)
    # 3 steps at 64², each at least one evaluation; coarse-to-fine does 3 at 32² and 2 at 64²
    work = {r["config"]: r["work"] for r in rows}
    c2f = work["scales 2 (80 + 40 fine)"]
    assert work["default"] >= 3 and work["default"] == int(work["default"])  # whole full-size evaluations
    assert c2f >= 2 + 3 / 4 and 4 * c2f == int(4 * c2f)  # quarters: the 32² evaluations
    assert report["machine"]["threads"] >= 1


def test_per_evaluation_benchmark_tiny():
    report = bench("bench/gatys_speed.py", "--sizes", "64", "--budget", "1", "--evals", "1")
    (row,) = report["results"]
    for path in ("reference", "ours", "bare_network"):
        assert row[path]["s_per_eval"] > 0 and row[path]["page_faults_per_eval"] >= 0
    assert isinstance(report["machine"]["freed_memory_kept"], bool)


def test_winograd_benchmark_tiny():
    report = bench("bench/winograd_speed.py", "--sizes", "64", "--rounds", "1")
    (row,) = report["objective"]
    assert len(row) == 6 and all(v["best_s"] > 0 for k, v in row.items() if k != "size")
    report = bench("bench/winograd_speed.py", "--layers", "--sides", "32", "--rounds", "1")
    assert len(report["layers_ms"]) == 8 and all(r["nnpack"] > 0 for r in report["layers_ms"])


def test_memory_benchmark_tiny():
    report = bench("bench/memory_kept.py", "--sizes", "64", "--calls", "1")
    (row,) = report["results"]
    assert row["bare_network"]["s"] > 0 and row["fast_model_frame"]["shape"][0] == 64
    assert report["peak_rss_gb"] > 0


def test_any_painting_speed_benchmark_tiny():
    report = bench("bench/arbitrary_speed.py", "--sizes", "64", "--repeats", "1", "--no-compile")
    parts = {(r["impl"], r["network"], r["part"]) for r in report["rows"]}
    assert ("stylelib", "arbitrary", "predictor") in parts and ("stylelib", "arbitrary", "end to end") in parts


def test_fast_model_quality_benchmark_tiny():
    (row,) = json.loads(subprocess.run(
        [sys.executable, "bench/fast_quality.py", "starry-night", "--photos", "kingfisher", "--size", "64"],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=True).stdout)
    assert 0 < row["style_mean"] and 0 <= row["content_mean"]


def test_fast_model_quality_benchmark_judges_gatys_too():
    (row,) = json.loads(subprocess.run(
        [sys.executable, "bench/fast_quality.py", "starry-night", "--gatys", "--photos", "kingfisher", "--size", "64"],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=True).stdout)
    assert row["model"].startswith("gatys") and row["style"] == "starry-night"
    assert 0 < row["style_mean"] < 1 and 0 < row["content_mean"]  # the optimisation moved towards the painting


def test_fast_model_quality_benchmark_judges_the_polish():
    one, polished = (json.loads(subprocess.run(
        [sys.executable, "bench/fast_quality.py", "starry-night", "--photos", "kingfisher", "--size", "64", *extra],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=True).stdout)[0]
        for extra in ([], ["--refine", "5"]))
    assert polished["model"] == "starry-night, then 5 steps (polish, style_weight 2)"
    assert polished["style_mean"] < 0.8 * one["style_mean"]  # the steps went towards the painting


def test_first_preview_benchmark_tiny():
    import os

    chromium = os.environ.get("STYLELIB_CHROMIUM", "/usr/bin/chromium")
    browser = ["--browser", chromium] if os.path.exists(chromium) else []  # CI has it (tests/test_browser.py)
    report = bench("bench/first_preview.py", "--tiny", *browser)
    (app,), (cli,) = report["app"], report["cli"]
    assert app["size"] == cli["size"] == 64 and app["best"] > 0 and cli["best"] > 0
    assert report["app_cold"]["seconds"] > 0 and report["cli_import_seconds"] > 0
    # the first step's picture comes after the first picture, on the cold Run and on every other
    assert report["app_cold"]["first_step_seconds"] > report["app_cold"]["seconds"] and report["app_cold"]["warmed_up"]
    assert all(s > t for s, t in zip(app["first_step_seconds"], app["warm_seconds"]))
    # the CLI's NumPy picture comes first, then torch's rewrites the file
    assert report["cli_numpy_import_seconds"] > 0
    assert all(s > t for s, t in zip(cli["torch_picture_seconds"], cli["cold_seconds"]))
    if browser:
        (clicked,) = report["browser"]
        assert clicked["size"] == 64 and clicked["best"] > 0
