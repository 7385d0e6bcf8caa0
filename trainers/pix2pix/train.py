"""Train pix2pix (Isola et al. 2017) on a folder of A | B pairs, on the common Trainer.

Only the pix2pix part lives here: a U-Net generator
and a 70x70 PatchGAN discriminator, the loss cGAN + lambda x L1 (lambda 100),
Adam 2e-4 with beta1 0.5 for both, the learning rate constant for the first
steps and then falling linearly to zero, and the paper's augmentation (each
half loaded at 286, a random 256 crop, a random left-right flip). The crops and
flips are drawn in the training step from torch's global stream, which
checkpoints capture, so a resumed run draws the very crops it would have drawn.
The pairs' manifest (pairs.py) says which half is the input and how it was made;
the card of the exported model says the same to live/.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import Dataset

from trainers.common.batches import Batches
from trainers.common.callbacks import LOSS_PLOT_NAME, standard_callbacks
from trainers.common.data import open_image, picture_files
from trainers.common.distributed import Placement
from trainers.common.images import image_grid
from trainers.common.loop import Callback, Trainer
from trainers.common.rng import seed_all
from trainers.pix2pix.model import PatchDiscriminator, Pix2PixConfig, Pix2PixGenerator
from trainers.pix2pix.pairs import DIRECTIONS, read_manifest

KIND = "pix2pix"
CHECKPOINT_NAME = "pix2pix.pt"
SAMPLES_NAME = "samples.png"
SAMPLE_PAIRS = 4  # rows of input | output | target in the sample grid
# fields a resumed run may change: how long and where, not what is trained
RESUME_MAY_CHANGE = ("steps", "out_dir", "every", "command")


@dataclass
class TrainConfig:
    pairs: str  # folder holding train/ (and val/) of A | B pairs, or the pairs themselves
    out_dir: str
    steps: int = 4000
    decay_steps: int = 2000  # the last steps, over which the learning rate falls linearly to 0
    lr: float = 2e-4
    beta1: float = 0.5
    l1_weight: float = 100.0  # lambda
    load_size: int = 286  # each half is resized to this square (0: kept at its own size, a film's scale) ...
    crop_size: int = 256  # ... and a random square of this side is cut from it
    flip: bool = True
    batch_size: int = 1
    direction: str = "AtoB"  # pairs with a manifest say their own
    d_width: int = 64  # discriminator's first width
    d_layers: int = 3  # 3: 70x70 patches
    every: int = 500  # steps between samples, loss plot and checkpoint; 0: only at the end
    seed: int = 0
    network: Pix2PixConfig = field(default_factory=Pix2PixConfig)
    command: str = ""

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"steps must be 0 or more, got {self.steps}")
        if not 0 <= self.decay_steps:
            raise ValueError(f"decay_steps must be 0 or more, got {self.decay_steps}")
        if self.load_size and self.crop_size > self.load_size:
            raise ValueError(f"crop size {self.crop_size} is larger than the load size {self.load_size}")
        if self.crop_size % self.network.size_multiple:
            raise ValueError(f"crop size {self.crop_size} is not a multiple of {self.network.size_multiple} "
                             f"(2 ** depth {self.network.depth}); use a smaller depth or another crop size")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {self.direction!r}; choose from {', '.join(DIRECTIONS)}")


class PairFolder(Dataset):
    """The A | B pictures of one folder as (input, target) tensors in [0, 1], each half `size` square
    (size 0: at its own size)."""

    def __init__(self, folder: str | Path, size: int, in_channels: int, direction: str = "AtoB"):
        self.files = picture_files(folder, "pairs")
        self.size, self.in_channels, self.direction = size, in_channels, direction

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        path = self.files[index]
        pair = open_image(path)
        width, height = pair.size
        if width % 2:
            raise ValueError(f"{path}: {width}x{height} is not two halves side by side (A | B, an even width)")
        left, right = pair.crop((0, 0, width // 2, height)), pair.crop((width // 2, 0, width, height))
        source, target = (left, right) if self.direction == "AtoB" else (right, left)
        if self.in_channels == 1:
            source = source.convert("L")
        return _tensor(source, self.size), _tensor(target, self.size)


def _tensor(picture: Image.Image, size: int) -> torch.Tensor:
    if size:
        picture = picture.resize((size, size), Image.Resampling.BICUBIC)
    pixels = np.asarray(picture, dtype=np.float32) / 255.0
    return torch.from_numpy(np.atleast_3d(pixels).transpose(2, 0, 1).copy())


def linear_decay(steps: int, decay_steps: int):
    """The learning-rate factor after `step` steps: 1, then falling linearly to 0 over the last decay_steps."""
    constant = max(0, steps - decay_steps)

    def factor(step: int) -> float:
        return 1.0 - max(0, step - constant) / (decay_steps + 1)
    return factor


class Pix2PixTraining:
    """The recipe (trainers.common.loop.Recipe): a generator and a discriminator, each with its Adam."""

    kind = KIND

    def __init__(self, config: TrainConfig, placement: Placement, sample_pairs: Sequence[tuple[torch.Tensor, torch.Tensor]]):
        self.config = dataclasses.asdict(config)
        self.settings = config
        self.device = placement.device
        net = config.network
        self.generator = Pix2PixGenerator(net).to(self.device)
        self.discriminator = PatchDiscriminator(net.in_channels + net.out_channels, config.d_width,
                                                config.d_layers, net.norm).to(self.device)
        self.trained_generator = placement.wrap(self.generator)
        self.trained_discriminator = placement.wrap(self.discriminator)
        betas = (config.beta1, 0.999)
        self.g_adam = torch.optim.Adam(self.generator.parameters(), lr=config.lr, betas=betas)
        self.d_adam = torch.optim.Adam(self.discriminator.parameters(), lr=config.lr, betas=betas)
        decay = linear_decay(config.steps, config.decay_steps)
        self.networks = {"generator": self.generator, "discriminator": self.discriminator}
        self.optimizers = {"generator": self.g_adam, "discriminator": self.d_adam}
        self.schedulers = {name: torch.optim.lr_scheduler.LambdaLR(optimizer, decay)
                           for name, optimizer in self.optimizers.items()}
        self.sample_pairs = [(_centre(source, config.crop_size), _centre(target, config.crop_size))
                             for source, target in sample_pairs]
        self.gan_loss = nn.BCEWithLogitsLoss()

    def train_step(self, batch: tuple[torch.Tensor, torch.Tensor], step: int) -> dict[str, float]:
        source, target = (half.to(self.device) * 2 - 1 for half in self._augmented(*batch))  # [-1, 1]
        made = self.trained_generator(source)

        # Discriminator: real pairs towards 1, made pairs towards 0, in one forward pass (one DDP call)
        self.d_adam.zero_grad(set_to_none=True)
        pairs = torch.cat([torch.cat([source, target], 1), torch.cat([source, made.detach()], 1)], 0)
        real_logits, made_logits = self.trained_discriminator(pairs).chunk(2)
        d_loss = 0.5 * (self.gan_loss(real_logits, torch.ones_like(real_logits))
                        + self.gan_loss(made_logits, torch.zeros_like(made_logits)))
        d_loss.backward()
        self.d_adam.step()

        # Generator: fool the discriminator, and stay near the target (L1 keeps the colours and layout)
        self.g_adam.zero_grad(set_to_none=True)
        logits = self.trained_discriminator(torch.cat([source, made], 1))
        gan = self.gan_loss(logits, torch.ones_like(logits))
        l1 = (made - target).abs().mean()
        (gan + self.settings.l1_weight * l1).backward()
        self.g_adam.step()
        return {"g_gan": gan.item(), "g_l1": l1.item(), "d": d_loss.item()}

    def _augmented(self, sources: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The same random crop and flip for each input and its target, drawn from torch's global stream."""
        crop = self.settings.crop_size
        cropped = []
        for source, target in zip(sources, targets):
            height, width = source.shape[-2:]
            if min(height, width) < crop:
                raise ValueError(f"a {width}x{height} pair is smaller than the {crop} crop; "
                                 "use a smaller --crop-size or a --load-size")
            top, left = int(torch.randint(0, height - crop + 1, ())), int(torch.randint(0, width - crop + 1, ()))
            flip = self.settings.flip and bool(torch.rand(()) < 0.5)
            halves = [half[:, top:top + crop, left:left + crop] for half in (source, target)]
            cropped.append([half.flip(-1) if flip else half for half in halves])
        return torch.stack([s for s, _ in cropped]), torch.stack([t for _, t in cropped])

    def samples(self) -> np.ndarray:
        tiles = []
        for source, target in self.sample_pairs:
            made = (self.generator(source[None].to(self.device) * 2 - 1)[0] + 1) / 2
            tiles += [_rgb(source), _rgb(made.cpu()), _rgb(target)]
        return image_grid(tiles, columns=3, gap=2)


def _centre(picture: torch.Tensor, size: int) -> torch.Tensor:
    height, width = picture.shape[-2:]
    top, left = (height - size) // 2, (width - size) // 2
    return picture[:, top:top + size, left:left + size]


def _rgb(picture: torch.Tensor) -> torch.Tensor:
    """(C, H, W) in [0, 1] -> (H, W, 3), gray repeated, clamped."""
    return picture.clamp(0, 1).expand(3, -1, -1).permute(1, 2, 0)


@dataclass
class TrainResult:
    recipe: Pix2PixTraining
    losses: dict[str, list[float]]
    checkpoint: Path
    samples: Path
    loss_plot: Path
    seconds: float
    manifest: dict | None


def pair_folders(pairs: str | Path) -> tuple[Path, Path | None]:
    """(training folder, validation folder or None): PAIRS/train and PAIRS/val, or PAIRS itself."""
    pairs = Path(pairs)
    if (pairs / "train").is_dir():
        val = pairs / "val"
        has_val = val.is_dir() and any(val.iterdir())
        return pairs / "train", val if has_val else None
    return pairs, None


def train(config: TrainConfig, placement: Placement | None = None, resume: str | Path | None = None,
          callbacks: Sequence[Callback] = ()) -> TrainResult:
    """Train on config.pairs; writes samples, a loss plot and a checkpoint into config.out_dir.
    A stop request (Ctrl-C) saves the last completed step, then raises KeyboardInterrupt."""
    placement = placement or Placement()
    seed_all(config.seed)  # the first weights; a resume restores the saved streams instead
    train_dir, val_dir = pair_folders(config.pairs)
    in_channels = config.network.in_channels
    dataset = PairFolder(train_dir, config.load_size, in_channels, config.direction)
    shown = PairFolder(val_dir or train_dir, config.load_size, in_channels, config.direction)
    # spread over the folder: neighbouring pairs are frames of one shot and look alike
    sample_pairs = [shown[int(index)] for index in np.unique(np.linspace(0, len(shown) - 1, SAMPLE_PAIRS).round())]
    recipe = Pix2PixTraining(config, placement, sample_pairs)
    out_dir, every = Path(config.out_dir), config.every
    out_dir.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(
        recipe, Batches(dataset, config.batch_size, seed=config.seed, rank=placement.rank,
                        world_size=placement.world_size), placement,
        callbacks=[*standard_callbacks(out_dir, every, f"pix2pix {Path(config.pairs).name}", "pix2pix",
                                      SAMPLES_NAME, CHECKPOINT_NAME), *callbacks],
        provenance={"command": config.command, "data": str(config.pairs)},
    )
    if resume is not None:
        trainer.resume(resume, may_change=RESUME_MAY_CHANGE)
    started = time.perf_counter()
    trainer.run(config.steps)
    return TrainResult(recipe, trainer.losses, out_dir / CHECKPOINT_NAME, out_dir / SAMPLES_NAME,
                       out_dir / LOSS_PLOT_NAME, time.perf_counter() - started, read_manifest(config.pairs))
