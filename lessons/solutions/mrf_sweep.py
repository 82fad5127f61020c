"""Lesson 07's measurements: face error and style strength of Gram and MRF results (teachers).

    python lessons/solutions/mrf_sweep.py PHOTO PAINTING SIZE STEPS 'label|{json options}' ...

e.g. ``python lessons/solutions/mrf_sweep.py grace-hopper starry-night 192 100
'g20|{"style_weight": 20}' 'm2.5|{"style_loss": "mrf"}'``. Prints one JSON
line per run (the photo itself first): lesson 04's face error (content error
at relu4_2 inside the face box, relative to the photo's), the whole-image
relative content error, the relative Gram style error (mean over relu1_1 ..
relu5_1, lesson 04's measure), the relative MRF error (relu3_1, relu4_1,
as the objective scales it), a sliced Wasserstein distance between the
result's and the painting's features (relu1_1 .. relu4_1; the photo's is
1), and the CPU seconds. Results are saved as PNG
in $MRF_SWEEP_OUT (default: a temporary folder). One thread, so that runs
sharing a busy CPU time alike. The face box fits grace-hopper only.
"""

import json
import os
import sys
import tempfile
import time

import torch

import stylelib
from stylelib.losses import content_loss, gram_matrix, style_loss
from stylelib.mrf import extract_patches, mrf_loss, patch_grid
from stylelib.vgg import VGGFeatures

torch.set_num_threads(1)
photo_name, paint_name, SIZE, STEPS = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
OUT = os.environ.get("MRF_SWEEP_OUT") or tempfile.mkdtemp()
photo = stylelib.load_example(photo_name, size=SIZE)
painting = stylelib.load_example(paint_name, size=SIZE)
C, S, MRF = "relu4_2", ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"], ["relu3_1", "relu4_1"]
vgg = VGGFeatures([C] + S, weights="caffe")
with torch.no_grad():
    fx, fp = vgg(photo), vgg(painting)
P = fx[C]
positions = lambda f: f.shape[2] * f.shape[3]
A = {l: gram_matrix(fp[l]) / positions(fp[l]) for l in S}  # per position
patches = {l: extract_patches(fp[l], 3, 2)[0] for l in MRF}  # the default style stride, 2
H, W = photo.shape[-2:]
FACE = (int(0.22 * H), int(0.55 * H), int(0.29 * W), int(0.64 * W))  # lesson 04's box
SWD_LAYERS = S[:4]  # relu1_1 .. relu4_1
g = torch.Generator().manual_seed(0)
DIRECTIONS = {l: torch.nn.functional.normalize(torch.randn(fp[l].shape[1], 64, generator=g), dim=0)
              for l in SWD_LAYERS}  # 64 random unit directions per layer


def sliced_wasserstein(f):
    """A style distance neither loss optimises: sorted 1-D projections of the features vs the painting's."""
    total = 0.0
    for l in SWD_LAYERS:
        a = (f[l].flatten(2)[0].T @ DIRECTIONS[l]).sort(0).values  # (M, 64)
        b = (fp[l].flatten(2)[0].T @ DIRECTIONS[l]).sort(0).values
        b = torch.nn.functional.interpolate(b.T[None], size=a.shape[0], mode="linear")[0].T  # same count
        total += ((a - b) ** 2).mean() / (b**2).mean()
    return (total / len(SWD_LAYERS)).item()


SWD_PHOTO = sliced_wasserstein(fx)


def measure(image):
    with torch.no_grad():
        f = vgg(image)
        t, b, l, r = (v // 8 for v in FACE)  # relu4_2 is 1/8 of the size
        fc, pc = f[C][..., t:b, l:r], P[..., t:b, l:r]
        face = (content_loss(fc, pc) / content_loss(torch.zeros_like(pc), pc)).item()
        whole = (content_loss(f[C], P) / (0.5 * P.pow(2).sum())).item()
        es = [(style_loss(f[l], A[l] * positions(f[l])) / (A[l].pow(2).sum() / (4 * A[l].shape[1] ** 2))).item()
              for l in S]
        em = []
        for l in MRF:
            rows, cols = patch_grid(f[l].shape[2], f[l].shape[3])
            norm = rows * cols * patches[l].pow(2).flatten(1).sum(1).mean().item()
            em.append(mrf_loss(f[l], patches[l]).item() / norm)
        swd = sliced_wasserstein(f) / SWD_PHOTO  # the photo itself: 1
    return dict(face=face, content=whole, style=sum(es) / len(es), mrf=sum(em) / len(em), swd=swd)


print(json.dumps(dict(label="photo", **{k: round(v, 4) for k, v in measure(photo).items()})), flush=True)
for spec in sys.argv[5:]:
    label, options = spec.split("|", 1)
    options = json.loads(options)
    start = time.process_time()
    out = stylelib.stylize(photo, painting, size=SIZE, steps=options.pop("steps", STEPS), **options)
    cpu = time.process_time() - start
    stylelib.save_image(out, os.path.join(OUT, f"{photo_name}_{paint_name}_{label}.png"))
    print(json.dumps(dict(label=label, cpu_s=round(cpu, 1), **{k: round(v, 4) for k, v in measure(out).items()})),
          flush=True)
