"""Train a fast style network (Johnson et al.) on a folder of pictures or a video, for one style picture.

Only the style-specific part lives here: the
transformer network (model.py), the frozen VGG-16 loss network (vgg.py) and the
perceptual, total-variation and temporal losses (losses.py). The common
Trainer runs it, with a progress bar showing each weighted loss, and a sample
grid, a loss plot and a checkpoint every `sample_every` steps; Ctrl-C saves the
last completed step, `resume` continues the same curve, and torchrun runs it
on several processes. Each step takes a random crop (and a random mirror) of
each picture, drawn from torch's global stream in train_step so a resumed run
draws the same ones.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from trainers.common.batches import Batches
from trainers.common.callbacks import LOSS_PLOT_NAME, standard_callbacks
from trainers.common.config_checks import require_counts, require_weights
from trainers.common.data import Frames, ImageFolder, load_picture, read_video_frames
from trainers.common.distributed import Placement
from trainers.common.images import image_grid
from trainers.common.loop import Callback, Trainer
from trainers.common.rng import seed_all
from trainers.style import losses
from trainers.style.model import StyleConfig, StyleNetwork
from trainers.common.loss_networks import LossNetwork, loss_network

KIND = "style"
NETWORK = "style"  # the network's name in checkpoints
CHECKPOINT_NAME = "style.pt"
SAMPLES_NAME = "samples.png"
# TrainConfig fields a resumed run may change: how long and where, not what is trained
RESUME_MAY_CHANGE = ("steps", "out_dir", "sample_every", "command", "data_licence")
CROP_MARGIN = 1.25  # pictures load this much larger than the crop, so each step sees another part
VIDEO_FPS = 2.0  # frames per second taken from a video given as --images: neighbours barely differ
SAMPLE_COUNT = 3  # content pictures in the sample grid
# The synthetic motion of the temporal loss: what a visitor does between two frames at most.
MOTION_DEGREES, MOTION_SHIFT, MOTION_ZOOM = 2.0, 0.03, 0.03
STILL_NOISE = 2.0 / 255  # camera sensor noise of the flicker clip, standard deviation
STILL_FRAMES = 8


@dataclass
class TrainConfig:
    style: str  # the style picture
    images: str  # a folder of content pictures, or a video file
    out_dir: str  # checkpoint, samples, loss plot (and the ONNX file, by the command) land here
    steps: int = 2000
    size: int = 256  # training crops are size x size pixels
    style_size: int = 256  # the style picture's longest side when its Gram matrices are taken
    batch_size: int = 4
    lr: float = 1e-3  # Adam learning rate
    # The losses are relative errors (losses.py), about 1 for a picture unlike the target whatever the
    # loss network; style 4 : content 1 lets the painting's strokes and palette win over the photograph's
    # texture in a short run while relu2_2 keeps its edges, the measured trade-off on models/README.md.
    content_weight: float = 1.0
    style_weight: float = 4.0
    tv_weight: float = 1e-2  # pixel-scale: ~0.001 of the loss for a natural picture, only noise pays it
    temporal_weight: float = 0.0  # 0 skips the extra forward pass of the temporal loss
    seed: int = 0  # first weights, batch order and crops
    loss_net: str = "vgg16"  # vgg16, vgg19 or random (trainers/common/loss_networks.py)
    loss_net_file: str | None = None  # the network's file; None: from its installed package
    loss_net_seed: int = 0  # the random loss network's seed
    sample_every: int = 100  # steps between samples, plot and checkpoint; 0: only at the end
    network: StyleConfig = field(default_factory=StyleConfig)
    command: str = ""  # the command line that asked for this run, kept in the checkpoint
    data_licence: str = ""  # where the style and content pictures come from and their licences, for the card

    def __post_init__(self) -> None:
        require_counts(self, ("steps", "size", "style_size", "batch_size"))
        if self.size < 16:
            raise ValueError(f"size must be at least 16 pixels (VGG halves it three times), got {self.size}")
        require_weights(self, ("lr", "content_weight", "style_weight", "tv_weight", "temporal_weight"))
        if self.sample_every < 0:
            raise ValueError(f"sample-every must be 0 or more, got {self.sample_every}")


@dataclass
class TrainResult:
    model: StyleNetwork
    losses: dict[str, list[float]]  # weighted loss name -> value per step
    loss_network: str  # which loss network was used, in words
    flicker: float  # mean |change| between outputs on a still clip, 0..255 levels
    input_flicker: float  # the same for the clip itself
    checkpoint: Path
    samples: Path
    loss_plot: Path
    seconds: float


def content_dataset(config: TrainConfig) -> Dataset:
    """The content pictures, each (3, s, s) in [0, 1] with s = size * CROP_MARGIN: a folder or a video."""
    source = Path(config.images)
    side = round(config.size * CROP_MARGIN)
    if source.is_file():
        return Frames(read_video_frames(source, (side, side), fps=VIDEO_FPS))
    return ImageFolder(source, (side, side))


class StyleTraining:
    """The recipe of fast style training (trainers.common.loop.Recipe)."""

    kind = KIND

    def __init__(self, config: TrainConfig, style_picture: torch.Tensor, sample_pictures: torch.Tensor,
                 vgg: LossNetwork, placement: Placement):
        self.config = dataclasses.asdict(config)
        self.settings = config
        self.device = placement.device
        seed_all(config.seed)  # the same first weights in every run of this config
        self.model = StyleNetwork(config.network).to(self.device)
        self.trained_model = placement.wrap(self.model)  # DDP under torchrun: gradients averaged
        self.vgg = vgg.to(self.device)
        with torch.no_grad():
            style = style_picture.unsqueeze(0).to(self.device)  # (1, 3, h, w)
            self.style_grams = {name: losses.gram(features)
                                for name, features in self.vgg(style, losses.STYLE_LAYERS).items()}
        self.style_thumbnail = _square(style_picture, config.size)  # (3, size, size) for the sample grid
        self.sample_pictures = sample_pictures.to(self.device)  # (k, 3, size, size), fixed centre crops
        self.adam = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.networks = {NETWORK: self.model}
        self.optimizers = {"adam": self.adam}
        self.schedulers = {}

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        c = self.settings
        content = _random_crops(batch, c.size).to(self.device)  # (N, 3, size, size)
        n = len(content)
        temporal = c.temporal_weight > 0
        if temporal:
            matrices = losses.random_affine(n, MOTION_DEGREES, MOTION_SHIFT, MOTION_ZOOM, device=self.device)
            # one forward pass for both: DDP allows one per backward, and instance norm keeps them apart
            content_in = torch.cat([content, losses.warp(content, matrices)])
        else:
            content_in = content
        self.adam.zero_grad(set_to_none=True)
        outputs = self.trained_model(content_in)
        styled = outputs[:n]
        features = self.vgg(styled, losses.STYLE_LAYERS)
        with torch.no_grad():
            target = self.vgg(content, (losses.CONTENT_LAYER,))[losses.CONTENT_LAYER]
        terms = {
            "content": c.content_weight * losses.content_loss(features[losses.CONTENT_LAYER], target),
            "style": c.style_weight * losses.style_loss(features, self.style_grams),
            "tv": c.tv_weight * losses.total_variation(styled),
        }
        if temporal:
            terms["temporal"] = c.temporal_weight * losses.temporal_loss(outputs[n:], styled, matrices)
        total = sum(terms.values())
        total.backward()
        self.adam.step()
        return {"total": total.item(), **{name: value.item() for name, value in terms.items()}}

    def samples(self) -> np.ndarray:
        """Row 1: the style picture, then the content samples; row 2: each of them styled."""
        inputs = torch.cat([self.style_thumbnail.unsqueeze(0).to(self.device), self.sample_pictures])
        outputs = self.model(inputs)
        tiles = [picture.permute(1, 2, 0) for picture in (*inputs, *outputs)]  # (size, size, 3) each
        return image_grid(tiles, columns=len(inputs), gap=2)


def train(config: TrainConfig, placement: Placement | None = None, resume: str | Path | None = None,
          callbacks: Sequence[Callback] = (), warn: Callable[[str], None] | None = None) -> TrainResult:
    """Train a style network as `config` says; writes samples, a loss plot and a checkpoint to out_dir.

    `warn` hears one line when the loss network is the random one. A stop request (Ctrl-C) saves the last
    completed step, then raises KeyboardInterrupt."""
    placement = placement or Placement()
    vgg = loss_network(config.loss_net, config.loss_net_file, config.loss_net_seed,
                       warn=warn if placement.is_main else None)
    style_picture = torch.from_numpy(load_picture(config.style, config.style_size)).permute(2, 0, 1)  # (3, h, w)
    dataset = content_dataset(config)
    samples = torch.stack([_square(dataset[i], config.size) for i in range(min(SAMPLE_COUNT, len(dataset)))])
    recipe = StyleTraining(config, style_picture, samples, vgg, placement)
    out_dir, every = Path(config.out_dir), config.sample_every
    trainer = Trainer(
        recipe,
        Batches(dataset, config.batch_size, seed=config.seed, rank=placement.rank, world_size=placement.world_size),
        placement,
        callbacks=[*standard_callbacks(out_dir, every, f"style {Path(config.style).name}", "style training",
                                      SAMPLES_NAME, CHECKPOINT_NAME), *callbacks],
        provenance={"command": config.command, "data": f"style {config.style}; content {config.images}",
                    "loss_network": vgg.info.describe(), "loss_network_credit": vgg.info.credit},
    )
    if resume is not None:
        trainer.resume(resume, may_change=RESUME_MAY_CHANGE)
    started = time.perf_counter()
    trainer.run(config.steps)
    seconds = time.perf_counter() - started
    styled, plain = still_flicker(recipe.model, recipe.sample_pictures[0].cpu())
    return TrainResult(recipe.model.eval(), trainer.losses, vgg.info.describe(), styled, plain,
                       out_dir / CHECKPOINT_NAME, out_dir / SAMPLES_NAME, out_dir / LOSS_PLOT_NAME, seconds)


def still_flicker(network: StyleNetwork, picture: torch.Tensor) -> tuple[float, float]:
    """(output flicker, input flicker) in 0..255 levels on a still clip of `picture` (3, H, W) in [0, 1]."""
    clip = losses.still_clip(picture, STILL_FRAMES, STILL_NOISE, seed=0)
    device = next(network.parameters()).device
    was_training = network.training
    network.eval()
    try:
        styled = losses.flicker(network, clip.to(device))
    finally:
        network.train(was_training)
    return 255 * styled, 255 * float((clip[1:] - clip[:-1]).abs().mean())


def training_flicker(network: StyleNetwork, config: dict) -> tuple[float, float] | None:
    """still_flicker on the first content picture of a run's config (dataclasses.asdict of a TrainConfig),
    or None when its pictures are no longer there."""
    try:
        settings = TrainConfig(**{**config, "network": StyleConfig(**config["network"])})
        picture = _square(content_dataset(settings)[0], settings.size)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return still_flicker(network, picture)


def _random_crops(batch: torch.Tensor, size: int) -> torch.Tensor:
    """A size x size crop of each (3, S, S) picture at a random place, mirrored at random (torch's stream)."""
    n, _, height, width = batch.shape
    tops = torch.randint(0, height - size + 1, (n,)).tolist()
    lefts = torch.randint(0, width - size + 1, (n,)).tolist()
    flips = (torch.rand(n) < 0.5).tolist()
    crops = [picture[:, top:top + size, left:left + size] for picture, top, left in zip(batch, tops, lefts)]
    return torch.stack([crop.flip(-1) if flip else crop for crop, flip in zip(crops, flips)])


def _square(picture: torch.Tensor, size: int) -> torch.Tensor:
    """The centre square of a (3, h, w) picture, resized to (3, size, size)."""
    side = min(picture.shape[-2:])
    top, left = (picture.shape[-2] - side) // 2, (picture.shape[-1] - side) // 2
    square = picture[:, top:top + side, left:left + side].unsqueeze(0)
    return torch.nn.functional.interpolate(square, size=(size, size), mode="area")[0]
