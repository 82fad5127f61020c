"""The answer key's source: every self-checked exercise, its answer, its hint and the mistakes it expects.

Teachers only. Students run ``lesson_utils.check("NN.k", answer)``, which
reads ``lessons/answer_key.json``: a salted hash of each number and, for a
function, its outputs on three fixed random inputs, so the notebooks and
``lesson_utils`` never show an answer. After editing this file run

    python lessons/solutions/answers.py

to rewrite the key; tests/test_lessons.py fails when the key and this file
disagree, and tries every right answer and every listed mistake.

A hint points at the idea without giving the answer. A mistake is a wrong
answer we expect (a forgotten ½, the ratio the wrong way round), with the
message that explains it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

LESSONS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(LESSONS))
from lesson_utils import KEY_PATH, answer_hash, tensor_to_json  # noqa: E402


@dataclass
class Value:
    answer: float | str
    name: str
    hint: str
    mistakes: dict = field(default_factory=dict)  # wrong answer -> message


@dataclass
class Function:
    answer: Callable
    inputs: Callable  # torch.Generator -> tuple of tensors
    name: str
    hint: str
    mistakes: list = field(default_factory=list)  # (wrong function, message)
    forbid: tuple = ()  # library functions the answer may not call
    forbid_message: str = ""


def gram(f):
    f = f.flatten(2)  # (B, N, M)
    return f @ f.transpose(1, 2)  # (B, N, N)


def tv_dx_dy(x):
    """Differences on the (H-1) x (W-1) pixels that have a right and a lower neighbour."""
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]
    return dx, dy


IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

EXERCISES = {
    # 01 · images, tensors, VGG
    "01.1": Value(32, "relu4_1 height", "count the poolings that come before block 4; each halves the side",
                  {16: "that is four poolings; relu4_1 is inside block 4, before pool4",
                   64: "block 3 ends with a pooling too"}),
    "01.2": Value(256 * 64 * 64, "N×M at relu3_1", "N is the number of maps at relu3_1 and M = H_l·W_l; "
                  "how many poolings come before block 3?",
                  {256 * 128 * 128: "relu3_1 comes after two poolings, not one",
                   64 * 64: "that is M alone; multiply by the number of maps N",
                   256 * 256 * 256: "the maps are smaller than the image: count the poolings"}),
    "01.3": Function(lambda x: (x - IMAGENET_MEAN) / IMAGENET_STD,
                     lambda g: (torch.rand(2, 3, 4, 5, generator=g),),
                     "tv_preprocess", "subtract the mean and divide by the std, one number per channel, "
                     "shaped (1, 3, 1, 1) so they broadcast",
                     [(lambda x: (x.flip(1) - IMAGENET_MEAN) / IMAGENET_STD,
                       "torchvision's weights take RGB, as the image comes: no channel flip"),
                      (lambda x: (255 * x - IMAGENET_MEAN) / IMAGENET_STD,
                       "torchvision's weights take values in [0, 1], not 0-255")]),
    # 02 · content loss
    "02.1": Value(0.5 * 64 * 32 * 32, "E_c", "count the entries of F (N maps of M positions) and what each adds",
                  {64 * 32 * 32: "remember the ½ in front of the sum"}),
    "02.2": Function(lambda F_, P: (F_ - P).pow(2).flatten(1).mean(1),
                     lambda g: (torch.randn(2, 4, 3, 3, generator=g), torch.randn(2, 4, 3, 3, generator=g)),
                     "content_mean", "one number per image: average over every dimension except the first",
                     [(lambda F_, P: 0.5 * (F_ - P).pow(2).flatten(1).sum(1),
                       "that is E_c itself, half the sum; the tutorial takes the mean")]),
    "02.3": Value(4, "growth of E_c", "how many times more positions does each feature map have?",
                  {2: "both the width and the height double: M grows by 2 × 2",
                   16: "E_c is a sum over positions, each adding about the same: it grows like M, not M²"}),
    # 03 · Gram matrices
    "03.1": Value(2 * 2 * 4, "G_12", "G_12 = Σ_k F_1k F_2k: how many terms, each of what size?",
                  {4: "one term per position: add up all M of them",
                   48: "G_12 is one entry: the sum runs over positions k only"}),
    "03.2": Function(lambda F_: gram(F_) / (F_.shape[2] * F_.shape[3]),
                     lambda g: (torch.randn(2, 4, 3, 5, generator=g),),
                     "gram_per_position", "start from F Fᵀ; which number counts the positions?",
                     [(lambda F_: gram(F_), "divide by M, the number of positions"),
                      (lambda F_: gram(F_) / (F_.shape[1] * F_.shape[2] * F_.shape[3]),
                       "that divides by N·M (the tutorial's convention); crowsonkb divides by M only")]),
    "03.3": Value(512**2 / 4, "β multiplier at relu5_1", "the tutorial's loss is r times ours (the table's r "
                  "column); by what must β be multiplied so that β times that loss is our β·E_s again?",
                  {4 / 512**2: "that is r itself, the loss ratio. The tutorial's loss is r times smaller, "
                               "so β has to grow to make up for it",
                   512**2: "r = 4/N²: the 4 of Gatys' 1/(4N²M²) has no partner in the tutorial",
                   256**2 / 4: "that is relu3_1 (N = 256); relu5_1 has 512 maps"}),
    "03.4": Value(9 * 16**4 / 512**2, "Keras β multiplier at relu5_1",
                  "the Keras example divides by (4 · 3² · (HW)²) with HW the *input's* pixels; write M_l in "
                  "terms of HW (k poolings before the layer) and take the ratio to 4N²M²",
                  {512**2 / 9: "that uses the layer's M_l; Keras divides by the input image's rows × cols",
                   512**2 / (9 * 16**4): "that is r; the β multiplier is 1/r"}),
    # 04 · total loss
    "04.1": Value(2 * 3 + 10 * (0.5 * 1 + 0.5 * 4), "L", "α·E_c + β·Σ_l w_l·E_s^l, term by term",
                  {2 * 3 + 10 * (1 + 4): "each E_s^l is multiplied by its w_l first",
                   3 + 10 * (0.5 * 1 + 0.5 * 4): "E_c is multiplied by α"}),
    "04.3": Value(2, "γ factor", "write the whole objective with TV; which weight did not double?",
                  {1: "TV is on by default (γ = 5): if only α and β double, TV counts half as much as before"}),
    # 05 · optimisers, TV
    "05.1": Value(4.0, "TV", "list every pair of neighbours (left-right and top-bottom) and square each difference",
                  {2: "there are two horizontal pairs and two vertical pairs",
                   8: "count each pair once"}),
    "05.2": Function(lambda x: (lambda dx, dy: (dx.pow(2) + dy.pow(2)).sqrt().flatten(1).sum(1))(*tv_dx_dy(x)),
                     lambda g: (torch.rand(2, 3, 5, 4, generator=g),),
                     "tv_iso", "at each pixel with a right and a lower neighbour, the length of the "
                     "gradient vector (dx, dy); then sum over pixels and channels",
                     [(lambda x: (lambda dx, dy: (dx.abs() + dy.abs()).flatten(1).sum(1))(*tv_dx_dy(x)),
                       "that is the anisotropic |dx| + |dy|. Mahendran & Vedaldi's β = 1 is the "
                       "length √(dx² + dy²): it does not prefer edges along the axes"),
                      (lambda x: (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).sum(1)
                       + (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).sum(1),
                       "that is the anisotropic |dx| + |dy| (on all pairs). Mahendran & Vedaldi's β = 1 "
                       "is the length √(dx² + dy²) at each pixel"),
                      (lambda x: (lambda dx, dy: (dx.pow(2) + dy.pow(2)).flatten(1).sum(1))(*tv_dx_dy(x)),
                       "that is β = 2; β = 1 takes the square root at each pixel before summing")]),
    # 06 · choosing the network
    "06.1": Value(2 + 2 + 3 + 3 + 1, "conv layers", "list VGG-16's blocks and stop at conv5_1",
                  {13: "13 is every conv layer of VGG-16 (or VGG-19 up to relu5_1); relu5_1 needs only "
                       "conv5_1 of block 5",
                   16: "that is VGG-19's count; VGG-16 has three convolutions in blocks 3 and 4"}),
    "06.2": Value(16, "pixels with a gradient", "each output of a 2×2 max pooling passes its gradient to "
                  "how many of its four inputs? How many outputs are there?",
                  {64: "that is average pooling, where every input gets ¼; max pooling picks one",
                   4: "an 8×8 map pools to 4×4 = 16 outputs"}),
    # 07 · MRF
    "07.1": Value(6 * 8, "patches", "a 3×3 window fits in how many rows, and how many columns?",
                  {80: "a 3×3 window cannot start in the last two rows or columns",
                   8 * 10 - 9: "count the window's top-left corners: rows × columns"}),
    "07.2": Function(lambda P, Q: F.normalize(P, dim=1) @ F.normalize(Q, dim=1).T,
                     lambda g: (torch.randn(5, 7, generator=g), torch.randn(4, 7, generator=g)),
                     "ncc_matrix", "make every row a unit vector first; then one matrix product gives all "
                     "the dot products",
                     [(lambda P, Q: P @ Q.T, "normalise each row to length 1 before the product"),
                      (lambda P, Q: F.normalize(P, dim=0) @ F.normalize(Q, dim=0).T,
                       "normalise each *row* (a patch), not each column")]),
    # 08 · masks
    "08.1": Value(64 * 32, "positions", "how many positions a side does relu3_1 have for 256 px, and which "
                  "share of them is the left half?",
                  {64 * 64: "the mask keeps half of the positions",
                   128 * 64: "relu3_1 comes after two poolings"}),
    "08.2": Function(lambda f, m: gram(f * m),
                     lambda g: (torch.rand(2, 3, 4, 5, generator=g), torch.rand(2, 1, 4, 5, generator=g)),
                     "guided_gram", "weight every position of F by the mask, then take the Gram matrix",
                     [(lambda f, m: gram(f) * m.mean(), "weight each position before summing, not after"),
                      (lambda f, m: gram(f * m * m), "the equation's m² comes from F∘m appearing twice in "
                       "(F∘m)(F∘m)ᵀ: multiply F by m once")]),
    "08.3": Value(0.5, "weight of the ground's style", "compute G^r, A^r and E_s^r(0) for m = 0.5 and see which "
                  "factors cancel in E_s^r / E_s^r(0); what is left is the region's share",
                  {0.25: "the m² is in G^r and in A^r alike, and the objective divides by E_s^r(0): it cancels",
                   0.0625: "that is the raw E_s^r; the objective divides it by E_s^r(0), which shrinks just as "
                           "much",
                   1: "the relative error is unchanged, but each region is weighted by its share"}),
    # 09 · fast style transfer
    "09.1": Value(64, "height", "look at the layer table: which layers before the residual blocks change the "
                  "size, and by how much each?",
                  {128: "there are two stride-2 convolutions", 32: "only two of the layers have stride 2"}),
    "09.2": Function(lambda x: (x - x.mean((2, 3), keepdim=True))
                     / (x.var((2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt(),
                     lambda g: (torch.randn(2, 3, 5, 4, generator=g),),
                     "instance_norm", "for each image and channel: subtract the mean over (H, W), divide by "
                     "the square root of the (biased) variance plus eps; keepdim=True helps",
                     [(lambda x: (x - x.mean((2, 3), keepdim=True))
                       / (x.var((2, 3), keepdim=True) + 1e-5).sqrt(),
                       "use the biased variance (unbiased=False), as the layer does"),
                      (lambda x: (x - x.mean()) / (x.var(unbiased=False) + 1e-5).sqrt(),
                       "the statistics are per image and per channel: dims (2, 3)"),
                      (lambda x: (x - x.mean((0, 2, 3), keepdim=True))
                       / (x.var((0, 2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt(),
                       "that is batch norm: it pools over the batch too")],
                     forbid=("torch.nn.functional.instance_norm", "torch.nn.functional.group_norm",
                             "torch.nn.functional.layer_norm", "torch.nn.functional.batch_norm",
                             "torch.instance_norm", "torch.group_norm", "torch.layer_norm", "torch.batch_norm"),
                     forbid_message="write it with mean and var, without torch's normalisation layers"),
    # 10 · video
    "10.1": Value(0.25, "share", "write y_1 in terms of y_0 and f_W(x_1), then y_2 in terms of y_1",
                  {0.5: "that is frame 0's share in y_1; y_2 blends y_1 in again",
                   0.125: "frame 0 is blended in twice (into y_1, then y_1 into y_2), not three times"}),
    "10.2": Function(lambda f: (f[1:] - f[:-1]).abs().mean(),
                     lambda g: (torch.rand(4, 3, 6, 5, generator=g),),
                     "flicker_plain", "compare each frame with the frame before it at the same pixels, with "
                     "no crop; the same kind of average as flicker()",
                     [(lambda f: (f[1:] - f[:-1]).pow(2).mean(), "the mean *absolute* difference, not squared"),
                      (lambda f: (f[1:, ..., :-2] - f[:-1, ..., 2:]).abs().mean(),
                       "that lines the frames up (flicker with the shift); compare the same pixels")]),
    "10.5": Value(4, "shift", "a stride-2 layer sees a 1-pixel shift of its input as a different input; "
                  "what shift of the image is a whole-pixel shift after both stride-2 layers?",
                  {2: "that survives one stride-2 layer; after the second it is half a pixel",
                   1: "a 1-pixel shift is half a pixel after the first stride-2 layer"}),
    # 11 · any painting
    "11.1": Value("instance", "batch norm on a batch of one", "with a single image, over which positions does batch "
                  "norm take each channel's mean and variance?",
                  {"different": "with one image, the whole batch is that image: its μ_c and σ_c are that image's "
                                "own statistics over H·W, exactly instance norm's"}),
    "11.2": Value(2 * (3 * 32 + 6 * 2 * 32 + 8 + 4 + 3), "numbers per style",
                  "add up the channels of every conditional norm (contract, residual, expand), then count γ and β",
                  {3 * 32 + 6 * 2 * 32 + 8 + 4 + 3: "that counts γ only (or β only): each norm has both",
                   26 * 2 * (3 * 32 + 6 * 2 * 32 + 8 + 4 + 3): "that is all 26 styles; one style is one column",
                   2 * (3 * 32 + 5 * 2 * 32 + 8 + 4 + 3): "the 26-style network has six residual blocks"}),
    "11.3": Function(lambda x, z, wg, wb: (x - x.mean((2, 3), keepdim=True))
                     / (x.var((2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()
                     * (z @ wg.T)[..., None, None] + (z @ wb.T)[..., None, None],
                     lambda g: (torch.randn(2, 4, 5, 6, generator=g), torch.rand(2, 3, generator=g),
                                torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)),
                     "my_cin", "normalise each image's channels by their own mean and (biased) variance, then "
                     "γ = code W_γᵀ and β = code W_βᵀ give one scale and shift per image and channel",
                     [(lambda x, z, wg, wb: (x - x.mean((0, 2, 3), keepdim=True))
                       / (x.var((0, 2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()
                       * (z @ wg.T)[..., None, None] + (z @ wb.T)[..., None, None],
                       "that is batch norm's mean and variance: instance norm takes each image alone"),
                      (lambda x, z, wg, wb: (x - x.mean((2, 3), keepdim=True))
                       / (x.var((2, 3), keepdim=True) + 1e-5).sqrt()
                       * (z @ wg.T)[..., None, None] + (z @ wb.T)[..., None, None],
                       "use the biased variance (unbiased=False), as the layer does")],
                     forbid=("torch.nn.functional.instance_norm", "torch.nn.functional.group_norm",
                             "torch.nn.functional.batch_norm", "torch.instance_norm", "torch.group_norm",
                             "torch.batch_norm"),
                     forbid_message="write it from the equation, without torch's normalisation layers"),
    "11.4": Value(0.5, "halfway strength", "compute the style error at strengths 0, 0.1, ..., 1 and find where it "
                  "crosses the mean of the two ends",
                  {1.0: "that is the painting's end; the halfway point lies between", 0.0: "that is the photo's end"}),
}

TRIALS = 3


def key_entry(exercise: str, ex) -> dict:
    if isinstance(ex, Value):
        return {"kind": "value", "name": ex.name, "hint": ex.hint, "hash": answer_hash(exercise, ex.answer),
                "mistakes": {answer_hash(exercise, w): m for w, m in ex.mistakes.items()}}
    g = torch.Generator().manual_seed(1234)
    inputs = [ex.inputs(g) for _ in range(TRIALS)]
    with torch.no_grad():
        return {"kind": "function", "name": ex.name, "hint": ex.hint,
                "trials": [{"inputs": [tensor_to_json(a) for a in args], "output": tensor_to_json(ex.answer(*args))}
                           for args in inputs],
                "mistakes": [{"message": m, "outputs": [tensor_to_json(w(*args)) for args in inputs]}
                             for w, m in ex.mistakes],
                "forbid": list(ex.forbid), "forbid_message": ex.forbid_message}


def answer_key() -> dict:
    return {k: key_entry(k, ex) for k, ex in EXERCISES.items()}


if __name__ == "__main__":
    lines = [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in answer_key().items()]
    KEY_PATH.write_text("{\n" + ",\n".join(lines) + "\n}\n")  # one exercise a line
    print("wrote", KEY_PATH)
