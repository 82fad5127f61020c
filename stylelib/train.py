"""Training a fast style network with perceptual losses (Johnson et al. 2016; lesson 09).

The transformation network f_W maps a photo x to f_W(x); the loss is the
seed's, through the same frozen VGG and the same plain loss functions as
Gatys' method, averaged over a batch of photos:

    L = α E_c(f_W(x), x) / E_c(0) + β Σ_l w_l E_s^l(f_W(x), A) / E_s^l(0) + γ TV / (3HW)

with Johnson et al.'s layers (content relu2_2; style relu1_2, relu2_2,
relu3_3, relu4_3 of VGG-16, or the same blocks' last ReLUs relu1_2,
relu2_2, relu3_4, relu4_4 of VGG-19). Each term is divided by its target's
size, as in :mod:`stylelib.objective`. With ``style_norm="photo"`` each
photo's style sum is also divided by the photo's own, S(f(x))/S(x): the
kit's relative style error (:mod:`stylelib.evaluate`), a deviation from
Johnson et al.; ``style_target=τ`` then drops the style terms of a photo
already at S ≤ τ (β max(S - τ, 0); also ours). Johnson et al.'s code normalised
differently: it divided features and Gram matrices by C·H·W and took mean
squared errors, with weights tuned to that. Deviation: the default loss network is VGG-19 with
the Caffe weights; the paper's VGG-16 is offered, but the VGG-16 we have
offline (HED's, fine-tuned for edges) trained visibly worse models.

Training is reproducible and resumable exactly: the photos and crops of
step t depend only on (seed, t), so a run restarted from a checkpoint sees
the same batches as one that never stopped. Under ``torchrun`` every
process takes an equal share of each step's batch and DDP averages the
gradients, which is the single-process batch mean.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset

from .data import resolve_image
from .files import write_atomic
from .images import load_image, load_pil, resize_long_side, save_image, to_tensor
from .models import FAST_NETWORKS, FIXED_WIDTH, MAX_NOISE, PRETRAINED_WIDTH, save_model
from .losses import content_loss, content_scale, gram_per_position, loss_terms, style_loss, style_scale, tv_loss
from .runtime import keep_freed_memory, resolve_device, resolve_precision
from .choices import PRECISION_HELP
from .options import DEVICES, PRECISIONS, option
from .transformer_net import TransformerNet
from .architecture import ARCHS, check_layers
from .batchnorm import synchronise
from .guard import MAX_HALVINGS, Guard
from .validate import SEED_MAX, check_choice, check_fields
from .vgg import VGGFeatures, get_extractor
from .weights import WEIGHTS

STYLE_LAYERS = {"vgg16": ("relu1_2", "relu2_2", "relu3_3", "relu4_3"), "vgg19": ("relu1_2", "relu2_2", "relu3_4", "relu4_4")}
LR_SCHEDULES = ("constant", "cosine", "tail")
STYLE_NORMS = ("painting", "photo")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


@dataclass(kw_only=True)
class TrainConfig:
    """Everything a training run depends on; saved in checkpoints and recipes."""

    style: str = field(metadata={"help": "the painting: a file or a bundled example's name"})
    data: str = field(metadata={"help": "a folder of photos (searched recursively)"})
    network: str = option("improved", "transformation network: improved (IN, reflection, resize-conv), paper, "
                                      "pretrained (the any-painting network with this painting baked in, fine-tuned), "
                                      "or photo-coded (the same, its norms also seeing each photo)",
                          FAST_NETWORKS)
    width: int = option(32, "channels of the first layer (the paper: 32); 16 is about 4x cheaper; pretrained's and "
                            "photo-coded's is fixed (8)", bounds=(1, 256))
    noise: int = option(0, "channels of Gaussian noise beside the photo, weights from 0 (pretrained and photo-coded "
                           "networks): something to paint strokes from in flat skies and backgrounds",
                        bounds=(0, MAX_NOISE))
    arch: str = option("vgg19", "loss network; Johnson et al. used vgg16, but our offline VGG-16 (edge-tuned HED "
                              "weights) trained visibly worse models than the Caffe VGG-19", ARCHS)
    weights: str = option("auto", "loss network weights: a name or a file path", WEIGHTS, or_path=True)
    content_layer: str = option("relu2_2", "content layer (Johnson et al.: relu2_2)")
    style_layers: tuple | None = option(None, "style layers (default: relu1_2 relu2_2 relu3_3 relu4_3, or the VGG-19 "
                                            "equivalents relu1_2 relu2_2 relu3_4 relu4_4)", elem=str)
    content_weight: float = option(1.0, "α, on the target-scaled content error", bounds=(0, 1e6))
    style_weight: float = option(1.5, "β, on the target-scaled style error (4 and more drowned the content)",
                                  bounds=(0, 1e6))
    style_norm: str = option("painting", "each photo's style error in units of: painting (E_s of zero features, as the "
                                         "optimisation) or photo (also over the photo's own style error, "
                                         "S(f(x))/S(x), as the kit judges)", STYLE_NORMS)
    style_target: float = option(0.0, "with --style-norm photo: a photo whose style error S(f(x))/S(x) is already "
                                      "at most this is no longer pushed toward the painting, so its content can "
                                      "come back (the gradient of β max(S - target, 0)); 0: off",
                                 bounds=(0, 1))
    content_target: float = option(0.0, "a photo whose content error is already at most this is no longer held to "
                                        "the photo, so it can take more of the painting (the gradient of α max(C - "
                                        "target, 0)); 0: off", bounds=(0, 1))
    tv_weight: float = option(5.0, "γ, on the total variation Σ (squared neighbour differences) / (3 H W)",
                                bounds=(0, 1e6))
    lr: float = option(1e-3, "Adam learning rate", bounds=(1e-8, 1.0))
    lr_schedule: str = option("constant", "learning rate over the steps: constant, cosine decay to 0, or tail "
                                          "(constant, then linearly to 0 over the last --lr-tail of the steps)",
                              LR_SCHEDULES)
    lr_tail: float = option(0.4, "with --lr-schedule tail: the share of the steps over which the rate decays",
                            bounds=(0, 1))
    guard: float = option(4.0, "divergence guard: skip a step whose loss exceeds this many times the median of "
                               "the last 100; after 3 in a row, go back to an earlier snapshot and halve the "
                               "learning rate (0: off)",
                          bounds=(0, 1e6))
    batch_size: int = option(4, "photos per step (all processes together)", bounds=(1, 1024))
    image_size: int = option(256, "side of the square training crops", bounds=(16, 4096))
    photo_size: int | None = option(None, "scale the photos to this shorter side before cropping (the scale the "
                                          "model will be used at); default: crops cover 80-100% of a photo",
                                    elem=int, bounds=(16, 8192))
    style_size: int | None = option(None, "the painting's longest side (default: 2 x image_size)", elem=int,
                                          bounds=(16, 8192))
    steps: int = option(2000, "optimiser steps", bounds=(1, 10_000_000))
    seed: int = option(0, "seed of the initial weights and of every batch", bounds=(0, SEED_MAX))
    checkpoint_every: int = option(200, "write the checkpoint every this many steps (atomically)", bounds=(1, 10_000_000))
    preview_every: int = option(100, "stylise the validation photo every this many steps", bounds=(1, 10_000_000))
    val_image: str = option("chelsea-the-cat", "validation photo (keep it out of --data)")
    device: str = option("auto", "where to run", DEVICES)
    precision: str = option("auto", f"autocast and loss-network dtype ({PRECISION_HELP})", PRECISIONS)
    workers: int = option(0, "DataLoader worker processes", bounds=(0, 64))

    def __post_init__(self) -> None:
        check_choice("network", self.network, FAST_NETWORKS)
        if self.network in FIXED_WIDTH:  # the released network's width, recorded as it is, whatever was asked
            self.width = PRETRAINED_WIDTH
        elif self.noise:
            raise ValueError(f"noise needs network pretrained or photo-coded; got network={self.network!r}")
        check_choice("arch", self.arch, ARCHS)
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_choice("style_norm", self.style_norm, STYLE_NORMS)
        self.style_layers = tuple(self.style_layers or STYLE_LAYERS[self.arch])
        check_fields(self)
        if self.style_target and self.style_norm != "photo":  # the target is a share of the photo's own error
            raise ValueError(f"style_target needs style_norm='photo'; got style_norm={self.style_norm!r}")
        if 0 < self.guard < 1:  # below 1 every loss above the median would count as a spike
            raise ValueError(f"guard must be 0 (off) or at least 1; got {self.guard:g}")
        check_layers((self.content_layer, *self.style_layers), self.arch)


@dataclass
class TrainIterate:
    step: int
    steps: int
    loss: float
    terms: dict[str, float]
    seconds: float  # wall clock since step 0 (across resumes)
    cpu_seconds: float = 0.0  # CPU time of this process's threads since step 0: the budget measure
    preview: torch.Tensor | None = None  # the validation photo, stylised, every preview_every steps
    checkpoint: str | None = None  # path written at this step
    info: dict = field(default_factory=dict)


def find_photos(folder: str | os.PathLike) -> list[Path]:
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"no photos ({', '.join(IMAGE_SUFFIXES)}) found in {folder}")
    return files


class Crops(Dataset):
    """Item (index, seed) -> a random square crop of photo ``index``, flipped or not, decided by ``seed``.

    By default a crop covers 80-100% of the photo's shorter side, scaled to
    ``size``: the network sees whole photos at the crop's size. With
    ``photo_size`` the photo is first scaled so its shorter side is
    ``photo_size`` (±10%) and a ``size`` crop is cut from it: the network
    then sees photos at the scale it will be used at, whatever the crop
    size costs. Photos are decoded once at a reduced size and kept (a
    ~100-photo folder is a few tens of MB); a bigger folder (COCO) is
    decoded as it comes.
    """

    def __init__(self, files: list[Path], size: int, cache_limit: int = 2000, photo_size: int | None = None) -> None:
        self.files, self.size, self.cache, self.cache_limit = files, size, {}, cache_limit
        self.photo_size = photo_size

    def photo(self, index: int) -> torch.Tensor:
        if index not in self.cache:
            image = load_pil(self.files[index], size=None)
            short = min(image.size)
            target = 1.25 * (self.photo_size or self.size)
            image = resize_long_side(image, round(max(image.size) * target / short))
            tensor = to_tensor(image)[0]  # (3, H, W), shorter side 1.25 x the working size
            if len(self.cache) >= self.cache_limit:
                return tensor
            self.cache[index] = tensor
        return self.cache[index]

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, item: tuple[int, int]) -> torch.Tensor:
        index, seed = item
        g = torch.Generator().manual_seed(seed)
        x = self.photo(index)
        jitter = torch.rand((), generator=g).item()
        if self.photo_size:
            factor = self.photo_size * (0.9 + 0.2 * jitter) / min(x.shape[1:])  # shorter side ~ photo_size
            factor = max(factor, (self.size + 1) / min(x.shape[1:]))  # never smaller than the crop
        else:
            factor = self.size * (1 + 0.25 * jitter) / min(x.shape[1:])  # crop 80-100% of the shorter side
        x = torch.nn.functional.interpolate(x[None], scale_factor=factor, mode="bilinear",
                                            antialias=True, align_corners=False)[0]
        top = int(torch.randint(0, x.shape[1] - self.size + 1, (), generator=g))
        left = int(torch.randint(0, x.shape[2] - self.size + 1, (), generator=g))
        crop = x[:, top : top + self.size, left : left + self.size]
        return crop.flip(-1) if torch.rand((), generator=g) < 0.5 else crop


class StepBatches(torch.utils.data.Sampler):
    """Batches of (photo index, crop seed) for steps start+1 ... steps; a function of (seed, step) only."""

    def __init__(self, n_photos: int, batch: int, seed: int, start: int, steps: int, rank: int = 0, world: int = 1):
        self.n, self.batch, self.seed, self.start, self.steps = n_photos, batch, seed, start, steps
        self.rank, self.world = rank, world

    def __len__(self) -> int:
        return self.steps - self.start

    def __iter__(self):
        for step in range(self.start + 1, self.steps + 1):
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
            photos = torch.randint(0, self.n, (self.batch,), generator=g).tolist()
            seeds = torch.randint(0, 2**62, (self.batch,), generator=g).tolist()
            items = list(zip(photos, seeds))
            yield items[self.rank :: self.world]  # this process's share of the step's batch


def perceptual_terms(
    vgg: VGGFeatures, out: torch.Tensor, photos: torch.Tensor, grams: dict[str, torch.Tensor],
    cfg: TrainConfig,
) -> dict[str, torch.Tensor]:
    """The weighted, target-scaled terms of the batch loss, each averaged over the batch.

    The same functions as the optimisation's objective (``losses.loss_terms``
    with each term divided by its target's size); ``vgg`` runs in its own
    arithmetic (a bf16 copy on fast hardware).
    """
    return batch_terms(photo_terms(vgg, out, photos, grams, cfg), cfg)


def photo_terms(
    vgg: VGGFeatures, out: torch.Tensor, photos: torch.Tensor, grams: dict[str, torch.Tensor],
    cfg: TrainConfig,
) -> dict[str, torch.Tensor]:
    """Each photo's terms, (B,) each, before the targets' hinges: "content" and "style:i" weighted, and "tv" not."""
    f_out = vgg(out)
    with torch.no_grad():
        f_photo = vgg(photos)
        p = f_photo[cfg.content_layer].float()  # P: each photo is its own content target
    e_c = content_loss(f_out[cfg.content_layer], p)  # (B,)
    style_norms = [style_scale(grams[l]) for l in cfg.style_layers]

    def style_errors(f: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        return [style_loss(f[l], grams[l] * (f[l].shape[2] * f[l].shape[3])) for l in cfg.style_layers]  # (B,) each

    parts = loss_terms(e_c, style_errors(f_out), alpha=cfg.content_weight, beta=cfg.style_weight,
                       content_norm=content_scale(p), style_norms=style_norms)
    if cfg.style_norm == "photo":
        # S(f(x)) / S(x), the judge's relative style error (stylelib.evaluate), per photo: each photo is asked for
        # the same share of its way to the painting, however far it starts (in the painting's unit, the photos
        # farthest from the painting weighed most in the batch's style loss)
        with torch.no_grad():
            own = sum(loss_terms(None, style_errors(f_photo), alpha=0.0, beta=1.0, style_norms=style_norms).values())
        parts = {k: v / own.clamp_min(1e-8) if k.startswith("style") else v for k, v in parts.items()}
    if cfg.tv_weight:
        parts["tv"] = tv_loss(out.float()) / out[0].numel()  # (B,)
    return parts


def batch_terms(parts: dict[str, torch.Tensor], cfg: TrainConfig, *, hinges: bool = True) -> dict[str, torch.Tensor]:
    """The batch loss's terms from :func:`photo_terms`: the targets' hinges (if ``hinges``), the batch's mean."""
    if cfg.style_target and hinges:
        # β max(S - τ, 0) per photo: a photo already past the target spends its gradient on the content alone
        # (the held-out cat reaches style 0.3 while its content error is the worst)
        parts = _hinge(parts, "style", cfg.style_weight * cfg.style_target)
    if cfg.content_target and hinges:
        # α max(C - κ, 0) per photo, C the judge's relative content error: a photo that keeps more of itself
        # than the target asks spends its gradient on the painting instead (the style target's mirror)
        parts = _hinge(parts, "content", cfg.content_weight * cfg.content_target)
    terms = {"content": parts["content"].mean()}
    terms.update({f"style:{l}": parts[f"style:{i}"].mean() for i, l in enumerate(cfg.style_layers)})
    if "tv" in parts:
        terms["tv"] = cfg.tv_weight * parts["tv"].mean()
    return terms


def _hinge(parts: dict[str, torch.Tensor], prefix: str, floor: float) -> dict[str, torch.Tensor]:
    """Zero each photo's ``prefix`` terms where their sum X is at most ``floor``: the gradient of max(X - floor, 0).

    The logged term is X above the floor and 0 below, whose gradient is the hinge's.
    """
    total = sum(v for k, v in parts.items() if k.startswith(prefix)).detach()  # (B,)
    keep = (total > floor).to(total.dtype)  # (B,)
    return {k: v * keep if k.startswith(prefix) else v for k, v in parts.items()}


def _save_atomic(obj: dict, path: Path) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_atomic(path, buffer.getvalue())  # a resume after SIGKILL never sees half a file


def load_checkpoint(path: Path, device: torch.device) -> dict:
    """A training checkpoint, or one ValueError saying it is damaged (truncated, garbage, not ours)."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
        if not {"model", "optimizer", "step", "seconds", "config"} <= set(state):
            raise KeyError("keys")
    except Exception as err:
        raise ValueError(f"cannot resume: {path} is damaged or not a stylelib checkpoint "
                         f"({type(err).__name__}); delete it to start over") from None
    return state


def paths_for(output: str | os.PathLike) -> dict[str, Path]:
    """The files a run writes next to MODEL: checkpoint, recipe, previews folder."""
    model = Path(output)
    stem = model.with_suffix("")
    return {"model": model, "checkpoint": Path(f"{stem}.ckpt"), "recipe": model.with_suffix(".json"),
            "previews": Path(f"{stem}_previews")}


def first_network(cfg: TrainConfig) -> torch.nn.Module:
    """The network at step 0: random weights (seeded), or the any-painting network painting this painting."""
    if cfg.network == "pretrained":
        from .pretrained import from_painting  # loads the any-painting network only when asked

        return from_painting(resolve_image(cfg.style), noise=cfg.noise)
    if cfg.network == "photo-coded":
        from .photo_coded import from_painting as coded

        return coded(resolve_image(cfg.style), noise=cfg.noise)
    return TransformerNet(cfg.network, cfg.width)


def train_iter(cfg: TrainConfig, output: str | os.PathLike, *, resume: bool = False) -> Iterator[TrainIterate]:
    """Train, yielding a :class:`TrainIterate` per step; writes checkpoints, previews and the model."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if cfg.batch_size % world:
        raise ValueError(f"batch_size {cfg.batch_size} must divide among {world} processes")
    device = resolve_device(cfg.device)
    keep_freed_memory()  # every step's feature maps reuse the last one's memory
    if world > 1:
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    dtype = resolve_precision(cfg.precision, device)
    files = find_photos(cfg.data)
    paths = paths_for(output)
    torch.manual_seed(cfg.seed)
    net = first_network(cfg).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)  # bf16 needs none
    start, seconds, cpu_seconds = 0, 0.0, 0.0
    # the guard's learning-rate factor, [step, snapshot step] of each step back, the steps it skipped, its history
    lr_scale, rollbacks, skipped, history = 1.0, [], [], None
    if resume and paths["checkpoint"].exists():
        state = load_checkpoint(paths["checkpoint"], device)
        saved = {k: tuple(v) if isinstance(v, list) else v for k, v in state["config"].items()}
        # fields newer than the checkpoint take their defaults; the guard changes nothing until it acts
        defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
        free = ("steps", "device", "workers", "guard", "lr_schedule", "lr_tail") + (
            ("width",) if cfg.network in FIXED_WIDTH else ())
        changed = [k for k, v in dataclasses.asdict(cfg).items()  # (a pretrained network's width is not a choice)
                   if k not in free and saved.get(k, defaults[k]) != v]
        old = dataclasses.replace(cfg, **{k: saved[k] for k in ("steps", "lr_schedule", "lr_tail") if k in saved})
        # a new schedule is welcome if the steps taken would have had the same rates (a decay added at the end)
        if any(lr_factor(old, s) != lr_factor(cfg, s) for s in range(1, state["step"] + 1)):
            changed.append("learning rates (--lr-schedule, --lr-tail or --steps) at the steps already taken")
        if changed:
            raise ValueError(f"--resume: the checkpoint was trained with other {', '.join(changed)}")
        try:
            net.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as err:
            raise ValueError(f"cannot resume from {paths['checkpoint']}: its weights do not fit this network "
                             f"({type(err).__name__})") from None
        start, seconds, cpu_seconds = state["step"], state["seconds"], state.get("cpu_seconds", 0.0)
        lr_scale, rollbacks, history = state.get("lr_scale", 1.0), state.get("rollbacks", []), state.get("history")
        if (cfg.style_target or cfg.content_target) and not state.get("guard_unhinged"):
            history = None  # the guard's record, from before it watched the unhinged loss, holds hinged losses
        skipped = state.get("skipped", [])
    memory = torch.channels_last if device.type == "cuda" else torch.contiguous_format
    net = net.to(memory_format=memory)
    if world > 1:  # batch norm (the paper network) over the whole step's batch, not each process's share
        net = synchronise(net, device)
    model = torch.nn.parallel.DistributedDataParallel(net) if world > 1 else net
    # the loss network: a frozen copy in the low-precision dtype, cast once (not autocast at every step)
    vgg = get_extractor((cfg.content_layer,) + cfg.style_layers, cfg.arch, cfg.weights, "max", str(device), dtype,
                        winograd=cfg.batch_size <= world)  # Winograd takes one image at a time (stylelib.winograd)
    style_image = load_image(resolve_image(cfg.style), size=cfg.style_size or 2 * cfg.image_size).to(device)
    with torch.no_grad():
        sf = vgg(style_image)
    grams = {l: gram_per_position(sf[l]) for l in cfg.style_layers}  # Â = A / M: crops may differ in size
    val = load_image(resolve_image(cfg.val_image), size=384).to(device)
    loader = DataLoader(
        Crops(files, cfg.image_size, photo_size=cfg.photo_size), batch_sampler=StepBatches(len(files), cfg.batch_size, cfg.seed, start, cfg.steps, rank, world),
        num_workers=cfg.workers, collate_fn=torch.stack,
    )
    info = {"device": str(device), "precision": str(dtype).replace("torch.", "") if dtype else "float32",
            "photos": len(files), "processes": world, "weights": vgg.weights, "weights_note": vgg.weights_note,
            "conv_algorithm": vgg.conv_algorithm, "rollbacks": rollbacks, "skipped": skipped}
    guard = Guard(cfg.guard, history=history) if cfg.guard else None
    if guard:
        guard.snapshot(start, net, optimizer)
    if rank == 0:
        paths["model"].parent.mkdir(parents=True, exist_ok=True)
        paths["previews"].mkdir(parents=True, exist_ok=True)
    clock, cpu_clock = time.perf_counter(), time.process_time()
    step = start
    for step, photos in enumerate(loader, start=start + 1):
        if cfg.noise:  # the noise inputs' draws depend on (seed, step, process) alone: --resume stays exact
            torch.manual_seed(hash((cfg.seed, step, rank)) & 0xFFFF_FFFF)
        photos = photos.to(device, memory_format=memory)
        lr = cfg.lr * lr_scale * lr_factor(cfg, step)  # the step and the guard's record alone: --resume is exact
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = model(photos)
        parts = photo_terms(vgg, out, photos, grams, cfg)
        terms = batch_terms(parts, cfg)
        loss = sum(terms.values())
        # the guard watches the loss before the targets' hinges: with them most photos add 0, the median of recent
        # losses falls near 0, and every photo outside a target looked like a spike (two s19 runs halved their
        # learning rate six times and stopped)
        watched = sum(batch_terms(parts, cfg, hinges=False).values()).detach()  # = loss without targets
        verdict = guard.judge(_mean_over_processes(watched, world)) if guard else "ok"  # alike everywhere
        if verdict == "ok":
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            if guard and step % cfg.checkpoint_every == 0:
                guard.snapshot(step, net, optimizer)
        elif verdict == "skip":  # an odd batch: its update is not applied (stylelib.guard)
            skipped.append(step)
        else:  # the weights went wrong: back to an earlier snapshot, at half the learning rate
            if lr_scale <= 0.5**MAX_HALVINGS:
                raise FloatingPointError(f"the training loss kept diverging (step {step}) after the learning rate "
                                         f"was halved {MAX_HALVINGS} times; lower --lr or --style-weight")
            rollbacks.append([step, guard.restore(net, optimizer)])
            lr_scale /= 2
        if rank != 0:
            continue
        elapsed = seconds + time.perf_counter() - clock
        cpu = cpu_seconds + time.process_time() - cpu_clock
        it = TrainIterate(step, cfg.steps, loss.item(), {k: v.item() for k, v in terms.items()}, elapsed, cpu,
                          info=info)
        if step % cfg.preview_every == 0 or step == cfg.steps:
            net.eval()
            with torch.no_grad():
                it.preview = net(val).float().cpu()
            save_image(it.preview, paths["previews"] / f"step_{step:06d}.jpg")
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:  # also after a skip: a kill loses one interval
            _save_atomic({"model": net.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                          "seconds": elapsed, "cpu_seconds": cpu, "config": dataclasses.asdict(cfg),
                          "lr_scale": lr_scale, "rollbacks": rollbacks, "skipped": skipped,
                          "history": guard.history if guard else None, "guard_unhinged": True},
                          paths["checkpoint"])
            it.checkpoint = str(paths["checkpoint"])
        if verdict == "ok":  # a step the guard undid is not reported as one
            yield it
    if rank == 0 and step == cfg.steps:
        cpu = cpu_seconds + time.process_time() - cpu_clock
        save_model(net, paths["model"], cfg, seconds=seconds + time.perf_counter() - clock,
                   info={**info, "cpu_seconds": round(cpu, 1)})
    if world > 1:
        dist.barrier()


def lr_factor(cfg: TrainConfig, step: int) -> float:
    """The learning rate at ``step`` (1-based) as a share of ``cfg.lr``.

    cosine: (1 + cos(π (step - 1) / steps)) / 2. tail: 1 for the first
    steps - D steps, then (steps - step + 1) / (D + 1) down to 1 / (D + 1),
    with D = round(lr_tail · steps): a constant rate's progress, then a decay
    that settles the weights (warmup-stable-decay, without the warmup: the
    pretrained network starts from good weights).
    """
    if cfg.lr_schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * (step - 1) / cfg.steps))
    decay = round(cfg.lr_tail * cfg.steps) if cfg.lr_schedule == "tail" else 0
    return min(1.0, (cfg.steps - step + 1) / (decay + 1)) if decay else 1.0


def _mean_over_processes(loss: torch.Tensor, world: int) -> float:
    """The step's loss over the whole batch: each process holds the mean of its own share."""
    if world > 1:
        loss = loss.clone()
        dist.all_reduce(loss)
        loss /= world
    return loss.item()


def train(cfg: TrainConfig, output: str | os.PathLike, *, resume: bool = False,
          callback: Callable[[TrainIterate], None] | None = None) -> Path:
    """Run :func:`train_iter` to the end; returns the model's path."""
    for it in train_iter(cfg, output, resume=resume):
        if callback:
            callback(it)
    return Path(output)
