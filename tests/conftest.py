"""Shared fixtures: a private weights cache, tiny images, the real Caffe extractor."""

import os

import pytest
import torch


def pytest_report_header(config):
    """Name the CPU in every test log: timings and memory differ between the machines CI draws."""
    from pathlib import Path

    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), "unknown")
    flags = [f for f in ("amx_bf16", "avx512_bf16") if f in info]
    return f"cpu: {model} ({os.cpu_count()} cores; {', '.join(flags) or 'no bf16 units'})"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Keep the dequantised-weights cache and torch hub out of the user's home."""
    cache = tmp_path_factory.mktemp("cache")
    old = {k: os.environ.get(k) for k in ("STYLELIB_CACHE", "TORCH_HOME")}
    os.environ["STYLELIB_CACHE"] = str(cache / "stylelib")
    os.environ["TORCH_HOME"] = str(cache / "torch")
    yield cache
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


@pytest.fixture
def pair(gen):
    """A tiny content/style pair of (1, 3, 32, 32) images with structure."""
    y, x = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    content = torch.stack([x, y, (x + y) / 2]).unsqueeze(0)  # smooth gradients
    stripes = (torch.sin(x * 25) > 0).float()
    style = torch.stack([stripes, 1 - stripes, stripes * y]).unsqueeze(0)  # hard-edged texture
    style = (0.9 * style + 0.1 * torch.rand(1, 3, 32, 32, generator=gen)).clamp(0, 1)
    return content, style
