"""Train the StyleGAN2-family GAN (model.py) on a folder of pictures, on the common Trainer.

Only the GAN part lives here: the non-saturating logistic loss, lazy R1 on the
real pictures (every r1_every steps, its weight scaled up by that interval and
the discriminator's Adam adjusted as the paper does), style mixing, the mean w
for truncation, an EMA copy of the generator (what samples and exports use),
random left-right flips and DiffAugment (augment.py) on real and made pictures
alike. Every random draw (latents, noise, flips, augmentations, mixing) comes
from torch's global stream inside train_step, which checkpoints capture, so a
resumed run continues the very curve. The pictures are loaded once, fitted to
the resolution, and kept in memory.
"""
from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from trainers.common.batches import Batches
from trainers.common.callbacks import LOSS_PLOT_NAME, standard_callbacks
from trainers.common.config_checks import require_counts
from trainers.common.data import Frames, ImageFolder
from trainers.common.distributed import Placement
from trainers.common.images import image_grid
from trainers.common.loop import Callback, Trainer
from trainers.common.rng import seed_all
from trainers.gan.augment import diff_augment, parse_policy
from trainers.gan.model import Discriminator, GanConfig, Generator
from trainers.gan.quality import KidCallback

KIND = "gan"
CHECKPOINT_NAME = "gan.pt"
SAMPLES_NAME = "samples.png"
SAMPLE_ROWS, SAMPLE_COLUMNS = 4, 8
SAMPLE_SEED = 1234  # the fixed latents of every sample grid (independent of the run's seed)
# fields a resumed run may change: how long and where, not what is trained
RESUME_MAY_CHANGE = ("steps", "out_dir", "every", "command", "credit", "kid_every", "kid_samples")
# and with --new-data, the data: fine-tuning on other pictures (the card lists every command that took part)
NEW_DATA = ("data",)


@dataclass
class TrainConfig:
    data: str  # a folder of pictures, read recursively
    out_dir: str
    steps: int = 10000
    batch_size: int = 16
    lr: float = 0.0025  # both networks' Adam, betas (0, 0.99)
    r1_gamma: float = 0.0  # 0: the StyleGAN2-ADA heuristic 0.0002 * resolution^2 / batch
    r1_every: int = 16  # lazy regularisation interval
    style_mixing: float = 0.9  # probability that a made picture takes two latents
    ema_kimg: float = 0.0  # EMA half-life in thousands of pictures; 0: batch * 10 / 32 (StyleGAN2-ADA)
    ema_rampup: float = 0.05  # the half-life is at most this fraction of the pictures seen so far
    w_avg_beta: float = 0.995  # how slowly the mean w follows the mapped latents
    augment: str = "color,translation,cutout"
    xflip: bool = True
    every: int = 500  # steps between samples, loss plot and checkpoint; 0: only at the end
    kid_every: int = 0  # steps between KID figures; 0: none
    kid_samples: int = 0  # made pictures per KID figure; 0: as many as the data
    seed: int = 0
    network: GanConfig = field(default_factory=GanConfig)
    command: str = ""
    credit: str = ""  # the data's source and licence, for the card

    def __post_init__(self) -> None:
        require_counts(self, ("batch_size", "r1_every"))
        if self.steps < 0:
            raise ValueError(f"steps must be 0 or more, got {self.steps}")
        if not 0 <= self.style_mixing <= 1:
            raise ValueError(f"style mixing is a probability, got {self.style_mixing}")
        parse_policy(self.augment)
        if not self.r1_gamma:
            self.r1_gamma = 0.0002 * self.network.resolution ** 2 / self.batch_size
        if not self.ema_kimg:
            self.ema_kimg = self.batch_size * 10 / 32


def load_pictures(folder: str | Path, resolution: int) -> Frames:
    """Every picture under `folder`, fitted to resolution x resolution, held in memory as uint8."""
    folder_set = ImageFolder(folder, (resolution, resolution), recursive=True)
    pixels = [(folder_set[index] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
              for index in range(len(folder_set))]
    return Frames(np.stack(pixels))


def sample_latents(count: int, z_dim: int) -> torch.Tensor:
    """The fixed latents of the sample grids, the same for every run of this z_dim."""
    return torch.randn(count, z_dim, generator=torch.Generator().manual_seed(SAMPLE_SEED))


class GanTraining:
    """The recipe (trainers.common.loop.Recipe): generator, its EMA copy and discriminator; Adam for two."""

    kind = KIND

    def __init__(self, config: TrainConfig, placement: Placement):
        self.config = dataclasses.asdict(config)
        self.settings = config
        self.device = placement.device
        self.policy = parse_policy(config.augment)
        self.generator = Generator(config.network).to(self.device)
        self.discriminator = Discriminator(config.network).to(self.device)
        self.generator_ema = copy.deepcopy(self.generator).eval().requires_grad_(False)
        self.trained_generator = placement.wrap(self.generator)
        self.trained_discriminator = placement.wrap(self.discriminator)
        lazy = config.r1_every / (config.r1_every + 1)  # the paper's Adam adjustment for lazy regularisation
        self.g_adam = torch.optim.Adam(self.generator.parameters(), lr=config.lr, betas=(0.0, 0.99), eps=1e-8)
        self.d_adam = torch.optim.Adam(self.discriminator.parameters(), lr=config.lr * lazy,
                                       betas=(0.0, 0.99 ** lazy), eps=1e-8)
        self.networks = {"generator": self.generator, "generator_ema": self.generator_ema,
                         "discriminator": self.discriminator}
        self.optimizers = {"generator": self.g_adam, "discriminator": self.d_adam}
        self.schedulers = {}
        self.sample_z = sample_latents(SAMPLE_ROWS * SAMPLE_COLUMNS, config.network.z_dim)
        self.last_r1 = 0.0  # reported every step, measured every r1_every steps

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        s = self.settings
        real = batch.to(self.device) * 2 - 1  # [-1, 1]
        if s.xflip:
            flip = torch.rand(real.shape[0], 1, 1, 1, device=self.device) < 0.5
            real = torch.where(flip, real.flip(-1), real)

        # Discriminator: real towards 1, made towards 0 (softplus: the logistic loss on logits)
        self.d_adam.zero_grad(set_to_none=True)
        with torch.no_grad():
            made = self.generator.synthesis(self._mixed_ws(real.shape[0]), random_noise=True)
        real_logits = self.trained_discriminator(self._augment(real))
        made_logits = self.trained_discriminator(self._augment(made))
        d_loss = F.softplus(made_logits).mean() + F.softplus(-real_logits).mean()
        d_loss.backward()
        if step % s.r1_every == 0:
            # lazy R1: the gradient penalty on real pictures, every r1_every steps and that much heavier
            real_r1 = real.detach().requires_grad_(True)
            logits = self.trained_discriminator(self._augment(real_r1))
            gradient, = torch.autograd.grad(logits.sum(), real_r1, create_graph=True)
            penalty = gradient.square().sum(dim=(1, 2, 3)).mean()
            # + 0 * logits: the last bias has no part in the penalty, and DDP waits for a gradient of each parameter
            (penalty * (s.r1_gamma / 2) * s.r1_every + logits.mean() * 0).backward()
            self.last_r1 = penalty.item()
        self.d_adam.step()

        # Generator: make the discriminator call its pictures real (the non-saturating loss)
        self.g_adam.zero_grad(set_to_none=True)
        self.discriminator.requires_grad_(False)
        z, ws = self._latents(real.shape[0])
        made = self.trained_generator(z, mix=ws[0], cutoff=ws[1], random_noise=True)
        g_loss = F.softplus(-self.discriminator(self._augment(made))).mean()
        g_loss.backward()
        self.discriminator.requires_grad_(True)
        self.g_adam.step()

        self._track_w_avg(z)
        self._update_ema(step)
        accuracy = ((real_logits > 0).float().mean() + (made_logits < 0).float().mean()) / 2
        return {"g": g_loss.item(), "d": d_loss.item(), "r1": self.last_r1, "d_accuracy": accuracy.item()}

    def _augment(self, pictures: torch.Tensor) -> torch.Tensor:
        return diff_augment(pictures, self.policy)

    def _latents(self, count: int) -> tuple[torch.Tensor, tuple[torch.Tensor | None, int | None]]:
        """z, and (a second z, the layer from which it takes over) with probability style_mixing."""
        z_dim, num_ws = self.settings.network.z_dim, self.settings.network.num_ws
        z = torch.randn(count, z_dim, device=self.device)
        mix = torch.randn(count, z_dim, device=self.device)
        cutoff = int(torch.randint(1, num_ws, ()))
        if float(torch.rand(())) >= self.settings.style_mixing:
            return z, (None, None)
        return z, (mix, cutoff)

    def _mixed_ws(self, count: int) -> torch.Tensor:
        z, (mix, cutoff) = self._latents(count)
        return self.generator.mixed_ws(z, mix, cutoff)

    @torch.no_grad()
    def _track_w_avg(self, z: torch.Tensor) -> None:
        w = self.generator.mapping(z).mean(dim=0)
        self.generator.w_avg.lerp_(w, 1 - self.settings.w_avg_beta)

    @torch.no_grad()
    def _update_ema(self, step: int) -> None:
        s = self.settings
        seen = step * s.batch_size
        half_life = min(s.ema_kimg * 1000, seen * s.ema_rampup) if s.ema_rampup else s.ema_kimg * 1000
        beta = 0.5 ** (s.batch_size / max(half_life, 1e-8))
        for average, current in zip(self.generator_ema.parameters(), self.generator.parameters()):
            average.lerp_(current, 1 - beta)
        for average, current in zip(self.generator_ema.buffers(), self.generator.buffers()):
            average.copy_(current)  # w_avg and the fixed noise

    def made(self, z: torch.Tensor, truncation: float = 1.0) -> torch.Tensor:
        """The EMA generator's pictures for `z`, each with its latent's noise, (N, 3, R, R) in [0, 1]."""
        pictures = self.generator_ema(z.to(self.device), truncation=truncation, random_noise=False)
        return ((pictures + 1) / 2).clamp(0, 1)

    def samples(self) -> np.ndarray:
        pictures = self.made(self.sample_z).cpu()
        return image_grid([picture.permute(1, 2, 0) for picture in pictures], columns=SAMPLE_COLUMNS, gap=2)


@dataclass
class TrainResult:
    recipe: GanTraining
    losses: dict[str, list[float]]
    checkpoint: Path
    samples: Path
    loss_plot: Path
    seconds: float
    provenance: dict


class LatestR1(Callback):
    """A resumed run reports the R1 penalty its checkpoint last measured until it measures one again
    (the loss history is the checkpoint's; the recipe's copy of its last value is not)."""

    def on_train_start(self, trainer: Trainer) -> None:
        measured = trainer.losses.get("r1")
        if measured:
            trainer.recipe.last_r1 = measured[-1]


class TrainingClock(Callback):
    """Keeps the training time over every run of a resumed chain in the checkpoint's provenance."""

    def __init__(self, earlier_seconds: float):
        self.earlier = earlier_seconds
        self.started = time.perf_counter()

    def on_train_start(self, trainer: Trainer) -> None:
        self.started = time.perf_counter()

    def on_step_end(self, trainer: Trainer) -> None:
        trainer.provenance["train_seconds"] = round(self.earlier + time.perf_counter() - self.started, 1)


def train(config: TrainConfig, placement: Placement | None = None, resume: str | Path | None = None,
          callbacks: Sequence[Callback] = (), earlier_seconds: float = 0.0, new_data: bool = False) -> TrainResult:
    """Train on config.data; writes samples, a loss plot and a checkpoint into config.out_dir.
    A stop request (Ctrl-C) saves the last completed step, then raises KeyboardInterrupt.
    With `new_data` a resumed run may train on other pictures than its checkpoint's."""
    placement = placement or Placement()
    seed_all(config.seed)  # the first weights; a resume restores the saved streams instead
    dataset = load_pictures(config.data, config.network.resolution)
    recipe = GanTraining(config, placement)
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    quality = []
    if config.kid_every:  # before the checkpointing callback, so a checkpoint holds its step's figure
        pictures = torch.from_numpy(dataset.frames).permute(0, 3, 1, 2).float() / 255
        quality = [KidCallback(out_dir, pictures, config.kid_every, config.kid_samples)]
    trainer = Trainer(
        recipe, Batches(dataset, config.batch_size, seed=config.seed, rank=placement.rank,
                        world_size=placement.world_size), placement,
        callbacks=[TrainingClock(earlier_seconds), LatestR1(), *quality,
                   *standard_callbacks(out_dir, config.every, f"gan {Path(config.data).name}",
                                       f"GAN {config.network.resolution}px", SAMPLES_NAME, CHECKPOINT_NAME),
                   *callbacks],
        provenance={"command": config.command, "data": str(config.data), "pictures": len(dataset),
                    "credit": config.credit},
    )
    if resume is not None:
        trainer.resume(resume, may_change=RESUME_MAY_CHANGE + (NEW_DATA if new_data else ()))
    started = time.perf_counter()
    trainer.run(config.steps)
    return TrainResult(recipe, trainer.losses, out_dir / CHECKPOINT_NAME, out_dir / SAMPLES_NAME,
                       out_dir / LOSS_PLOT_NAME, time.perf_counter() - started, dict(trainer.provenance))
