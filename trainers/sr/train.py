"""Train the 4x super-resolution network on a folder of paintings.

Only the SR-specific part lives here: the network (model.py), the patches and
their degradation (data.py) and the pixel and perceptual losses (losses.py).
The common Trainer runs it with a progress bar, and every `sample_every` steps
a sample triptych (bicubic | SR | original, on held-out paintings), the loss
plot, the held-out PSNR of SR against bicubic (psnr.png, its history in
psnr.json) and a checkpoint; Ctrl-C saves the last completed step and `resume`
continues the same curve.
"""
from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from live.core.atomic_file import atomic_file
from trainers.common.batches import Batches
from trainers.common.callbacks import LOSS_PLOT_NAME, Periodic, standard_callbacks
from trainers.common.config_checks import require_counts, require_weights
from trainers.common.distributed import Placement
from trainers.common.images import image_grid
from trainers.common.loop import Callback, Trainer
from trainers.common.loss_networks import LossNetwork, loss_network
from trainers.common.metrics import psnr
from trainers.common.plots import save_curves_plot
from trainers.common.rng import seed_all
from trainers.sr import losses
from trainers.sr.data import degrade, downscale, load_pictures, painting_files, random_patches, split_held_out
from trainers.sr.model import SRConfig, SRNetwork

KIND = "sr"
NETWORK = "sr"  # the network's name in checkpoints
CHECKPOINT_NAME = "sr.pt"
SAMPLES_NAME = "samples.png"
PSNR_PLOT_NAME, PSNR_HISTORY_NAME = "psnr.png", "psnr.json"
# TrainConfig fields a resumed run may change: how long and where, not what is trained
RESUME_MAY_CHANGE = ("steps", "out_dir", "sample_every", "command", "data_licence")
SAMPLE_COUNT = 3  # held-out paintings in the triptych
SAMPLE_SIDE = 48  # low-resolution side of each triptych crop
EVAL_SIDE = 256  # high-resolution side of the centre crops measured while training (the end measures whole pictures)


@dataclass
class TrainConfig:
    data: str  # a folder of paintings (sub-folders too)
    out_dir: str  # checkpoint, samples, plots (and the ONNX file, by the command) land here
    steps: int = 2000
    patch: int = 96  # high-resolution patch side; the input is patch / scale
    batch_size: int = 8
    lr: float = 5e-4  # Adam learning rate
    pixel_weight: float = 1.0
    perceptual_weight: float = 0.02  # relative VGG distance (~1 when unlike): a third of the pixel loss, so PSNR stays above bicubic
    max_blur: float = 1.0  # the degradation's blur, sigma in high-resolution pixels
    holdout_every: int = 10  # every n-th painting (sorted by path) is held out
    seed: int = 0  # first weights, batch order and patches
    loss_net: str = "vgg16"  # vgg16, vgg19 or random (trainers/common/loss_networks.py)
    loss_net_file: str | None = None
    loss_net_seed: int = 0
    sample_every: int = 100  # steps between samples, plots, PSNR and checkpoint; 0: only at the end
    network: SRConfig = field(default_factory=SRConfig)
    held_out: list[str] = field(default_factory=list)  # filled by train(): the held-out files' paths
    command: str = ""
    data_licence: str = ""

    def __post_init__(self) -> None:
        require_counts(self, ("steps", "batch_size", "holdout_every"))
        if self.patch < 4 * self.network.scale or self.patch % self.network.scale:
            raise ValueError(f"patch must be a multiple of the scale {self.network.scale} and at least "
                             f"{4 * self.network.scale} pixels, got {self.patch}")
        require_weights(self, ("lr", "pixel_weight", "perceptual_weight", "max_blur"))
        if self.sample_every < 0:
            raise ValueError(f"sample-every must be 0 or more, got {self.sample_every}")


@dataclass
class TrainResult:
    model: SRNetwork
    losses: dict[str, list[float]]
    loss_network: str
    psnr: float  # mean over the whole held-out pictures, dB
    psnr_bicubic: float
    held_out: list[str]
    checkpoint: Path
    samples: Path
    loss_plot: Path
    psnr_plot: Path
    seconds: float


class SRTraining:
    """The recipe of super-resolution training (trainers.common.loop.Recipe)."""

    kind = KIND

    def __init__(self, config: TrainConfig, pictures: list[np.ndarray], held_out: list[np.ndarray],
                 vgg: LossNetwork | None, placement: Placement):
        self.config = dataclasses.asdict(config)
        self.settings = config
        self.device = placement.device
        seed_all(config.seed)  # the same first weights in every run of this config
        self.model = SRNetwork(config.network).to(self.device)
        self.trained_model = placement.wrap(self.model)
        self.vgg = vgg.to(self.device) if vgg is not None else None
        self.pictures = pictures
        self.held_out = held_out
        self.adam = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.networks = {NETWORK: self.model}
        self.optimizers = {"adam": self.adam}
        self.schedulers = {}

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        c = self.settings
        high = random_patches(self.pictures, batch.tolist(), c.patch).to(self.device)
        low = degrade(high, c.network.scale, c.max_blur)
        self.adam.zero_grad(set_to_none=True)
        made = self.trained_model(low)
        terms = {"pixel": c.pixel_weight * losses.pixel_loss(made, high)}
        if self.vgg is not None and c.perceptual_weight > 0:
            layer = losses.PERCEPTUAL_LAYER
            with torch.no_grad():
                target = self.vgg(high, (layer,))[layer]
            terms["perceptual"] = c.perceptual_weight * losses.perceptual_loss(self.vgg(made, (layer,))[layer], target)
        total = sum(terms.values())
        total.backward()
        self.adam.step()
        return {"total": total.item(), **{name: value.item() for name, value in terms.items()}}

    def samples(self) -> np.ndarray:
        """One row per held-out painting: bicubic | SR | original, on a centre crop."""
        scale = self.settings.network.scale
        shown = self.held_out[:SAMPLE_COUNT]
        side = min(SAMPLE_SIDE * scale, *(min(picture.shape[:2]) for picture in shown)) // scale * scale
        tiles = []
        for picture in shown:
            high = centre_crop(picture, side)
            low = downscale(high, scale)
            tiles += [bicubic_upscale(low, scale), upscale(self.model, low, self.device), high]
        return image_grid(tiles, columns=3, gap=2)


def train(config: TrainConfig, placement: Placement | None = None, resume: str | Path | None = None,
          callbacks: Sequence[Callback] = (), warn: Callable[[str], None] | None = None) -> TrainResult:
    """Train an SR network as `config` says; writes samples, plots and a checkpoint to out_dir. A stop
    request (Ctrl-C) saves the last completed step, then raises KeyboardInterrupt."""
    placement = placement or Placement()
    files = painting_files(config.data)
    training_files, held_files = split_held_out(files, config.holdout_every)
    config = dataclasses.replace(config, held_out=[str(path.relative_to(config.data)) for path in held_files])
    pictures = load_pictures(training_files, config.patch)
    held_out = load_pictures(held_files, config.network.scale)
    vgg = None
    if config.perceptual_weight > 0:
        vgg = loss_network(config.loss_net, config.loss_net_file, config.loss_net_seed,
                           warn=warn if placement.is_main else None, deepest=losses.PERCEPTUAL_LAYER)
    recipe = SRTraining(config, pictures, held_out, vgg, placement)
    out_dir, every = Path(config.out_dir), config.sample_every
    measure = HeldOutPSNR(out_dir / PSNR_PLOT_NAME, every, recipe)
    trainer = Trainer(
        recipe,
        Batches(list(range(len(pictures))), config.batch_size, seed=config.seed, rank=placement.rank,
                world_size=placement.world_size),
        placement,
        callbacks=[*standard_callbacks(out_dir, every, "sr", "super-resolution training", SAMPLES_NAME,
                                      CHECKPOINT_NAME), measure, *callbacks],
        provenance={"command": config.command, "data": config.data,
                    "loss_network": vgg.info.describe() if vgg is not None else "none",
                    "loss_network_credit": vgg.info.credit if vgg is not None else ""},
    )
    if resume is not None:
        trainer.resume(resume, may_change=RESUME_MAY_CHANGE)
    started = time.perf_counter()
    trainer.run(config.steps)
    seconds = time.perf_counter() - started
    model = recipe.model.eval()
    made, plain = held_out_psnr(model, held_out, config.network.scale)
    return TrainResult(model, trainer.losses, vgg.info.describe() if vgg is not None else "none", made, plain,
                       config.held_out, out_dir / CHECKPOINT_NAME, out_dir / SAMPLES_NAME, out_dir / LOSS_PLOT_NAME,
                       out_dir / PSNR_PLOT_NAME, seconds)


class HeldOutPSNR(Periodic):
    """The held-out PSNR of SR and of bicubic (centre crops), plotted over the steps; the history lives in
    psnr.json beside the plot, so a resumed run's plot continues."""

    def __init__(self, path: Path, every: int, recipe: SRTraining):
        super().__init__(path, every)
        self.recipe = recipe
        self.history_path = path.with_name(PSNR_HISTORY_NAME)

    def write(self, trainer: Trainer) -> None:
        if not trainer.placement.is_main:
            return
        history = self._history(trainer.step)
        crops = [centre_crop(picture, EVAL_SIDE) for picture in self.recipe.held_out]
        made, plain = held_out_psnr(self.recipe.model, crops, self.recipe.settings.network.scale)
        history.append({"step": trainer.step, "sr": made, "bicubic": plain})
        with atomic_file(self.history_path) as file:
            file.write(json.dumps(history, indent=1).encode())
        steps = [entry["step"] for entry in history]
        save_curves_plot(steps, {"SR": [entry["sr"] for entry in history],
                                 "bicubic": [entry["bicubic"] for entry in history]},
                         self.path, f"held-out PSNR ({len(crops)} paintings): SR {made:.2f} dB, bicubic {plain:.2f} dB",
                         "PSNR, dB")

    def _history(self, step: int) -> list[dict]:
        try:
            entries = json.loads(self.history_path.read_text())
        except (OSError, ValueError):
            return []
        return [entry for entry in entries if entry.get("step", step) < step]


def held_out_psnr(model: SRNetwork, pictures: list[np.ndarray], scale: int) -> tuple[float, float]:
    """Mean PSNR (dB) over the pictures of SR and of bicubic from their area-downscaled versions, a
    `scale`-pixel border left out."""
    device = next(model.parameters()).device
    made, plain = [], []
    for picture in pictures:
        high = picture[:picture.shape[0] // scale * scale, :picture.shape[1] // scale * scale]
        low = downscale(high, scale)
        target = _inner(high, scale)
        made.append(psnr(_inner(upscale(model, low, device), scale), target))
        plain.append(psnr(_inner(bicubic_upscale(low, scale), scale), target))
    return float(np.mean(made)), float(np.mean(plain))


def upscale(model: SRNetwork, low: np.ndarray, device: torch.device) -> np.ndarray:
    """(h, w, 3) uint8 -> (scale*h, scale*w, 3) float in [0, 1] through the model, without gradients."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            tensor = torch.from_numpy(low).permute(2, 0, 1).float().div(255.0).unsqueeze(0).to(device)
            return model(tensor)[0].permute(1, 2, 0).cpu().numpy()
    finally:
        model.train(was_training)


def bicubic_upscale(low: np.ndarray, scale: int) -> np.ndarray:
    """(h, w, 3) uint8 -> (scale*h, scale*w, 3) float in [0, 1]: OpenCV's bicubic, clipped."""
    high = cv2.resize(low.astype(np.float32) / 255.0, (low.shape[1] * scale, low.shape[0] * scale),
                      interpolation=cv2.INTER_CUBIC)
    return np.clip(high, 0.0, 1.0)


def centre_crop(picture: np.ndarray, side: int) -> np.ndarray:
    """The centre side x side part of an (H, W, 3) picture (smaller pictures: as much as there is)."""
    height, width = picture.shape[:2]
    h, w = min(side, height), min(side, width)
    top, left = (height - h) // 2, (width - w) // 2
    return picture[top:top + h, left:left + w]


def _inner(picture: np.ndarray, border: int) -> np.ndarray:
    as_float = picture.astype(np.float32) / 255.0 if picture.dtype == np.uint8 else picture
    return as_float[border:-border, border:-border]
