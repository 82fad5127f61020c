"""Where networks run: the freed-memory setting that keeps VGG's feature maps from being paged in at each evaluation."""

import json
import os
import subprocess
import sys

import pytest

# In a fresh process (the setting is process-wide and once): a 256 MiB block filled and freed, then eight
# "evaluations" of two convolutions, forward and backward, whose 64-channel maps (36 MiB each) are over glibc's 32 MiB.
PROBE = """
import json, resource, torch
from stylelib.runtime import keep_freed_memory
on = keep_freed_memory()
def rss():  # resident bytes now (statm's second field, in pages)
    return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
x = torch.ones(2**26)  # 256 MiB of float32, every page written
held = rss()
del x
returned = (held - rss()) / 2**20
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3, padding=1), torch.nn.ReLU(),
                          torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ReLU())
image = torch.rand(1, 3, 384, 384, requires_grad=True)
faults = []
for _ in range(8):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    image.grad = None
    net(image).square().sum().backward()
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps({"on": on, "returned_mib": returned, "faults": faults}))
"""

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")


def probe(keep: str) -> dict:
    env = dict(os.environ, STYLELIB_KEEP_FREED_MEMORY=keep)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@linux_only
def test_freed_memory_is_kept_and_pages_are_not_written_anew_at_every_evaluation():
    kept, plain = probe("1"), probe("0")
    assert kept["on"] is True and plain["on"] is False
    assert kept["returned_mib"] < 32, kept  # the block stayed with the process
    assert plain["returned_mib"] > 200, plain  # glibc as it is: unmapped on free
    # Glibc as it is pages in every map of every evaluation (about 20 maps' worth, 184,000 faults here); kept, the
    # heap settles over a few evaluations (measured: none, or a few maps paged in again now and then).
    assert sum(kept["faults"][1:]) < 0.25 * sum(plain["faults"][1:]), (kept, plain)
