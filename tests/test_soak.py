"""A long-running app stays bounded: a few hundred tiny runs through gradio_client, memory and disk flat."""

import os
import time
from pathlib import Path

import pytest
from gradio_client import handle_file

from stylelib.data import example_path
from tests.test_app import app_module, client, url  # noqa: F401  (fixtures: the same in-process server)

pytestmark = pytest.mark.filterwarnings("default")
RUNS = int(os.environ.get("STYLELIB_SOAK_RUNS", "200"))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no /proc/self/status")


def disk_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20 if folder.exists() else 0.0


def test_hundreds_of_runs_keep_memory_and_disk_flat(app_module, client):  # noqa: F811
    content, style = handle_file(str(example_path("kingfisher"))), handle_file(str(example_path("great-wave")))
    run = lambda: client.predict(content=content, style=style, size=64, steps=1, api_name="/stylize")  # noqa: E731
    out_dir, cache = app_module.stylise.new_run_dir.__globals__["OUT_DIR"], Path(os.environ["GRADIO_TEMP_DIR"])
    for _ in range(20):  # warm up: the networks, caches and arenas settle
        run()
    rss0, runs0, cache0 = rss_mb(), disk_mb(out_dir), disk_mb(cache)
    start = time.perf_counter()
    for _ in range(RUNS):
        out = run()
        assert "Done" in out[2]
    seconds = time.perf_counter() - start
    grown = rss_mb() - rss0
    assert grown < 150, f"resident memory grew {grown:.0f} MB over {RUNS} runs"
    folders = [p for p in out_dir.iterdir() if p.is_dir()]
    assert len(folders) <= app_module.stylise.new_run_dir.__globals__["KEEP_RUNS"], len(folders)
    assert disk_mb(out_dir) < runs0 + 20
    assert (disk_mb(cache) - cache0) / RUNS < 0.1, "Gradio's cache grows more than 100 KB a run"
    assert seconds < 30 * 60
