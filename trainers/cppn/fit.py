"""Fit a CPPN to a picture, so the CPPN trainer produces a real model and not only random ones.

Only the CPPN-specific part lives here: the network,
a latent z drawn once from the seed and held fixed, the mean squared error
between the network's render of the full coordinate grid and the picture, and
the preview (target | current). The common Trainer runs it, with a progress
bar, and a preview, a loss plot and a checkpoint every `preview_every` steps;
Ctrl-C saves the last completed step, `resume` continues the same curve, and
torchrun runs it on several processes. The picture (longest side `size`,
aspect kept) is the whole dataset: every step is one batch of it. The fitted
network renders at any resolution, so a 128 px fit becomes a smooth 4K still
or the start of a latent walk.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from live.scenes.cppn_math import coordinates, keyframes
from trainers.common.batches import Batches
from trainers.common.callbacks import LOSS_PLOT_NAME, standard_callbacks
from trainers.common.data import load_picture
from trainers.common.distributed import Placement
from trainers.common.images import image_grid
from trainers.common.loop import Callback, Trainer
from trainers.cppn.model import CPPN, CPPNConfig, FixedLatent

KIND = "cppn"
NETWORK, LATENT = "cppn", "latent"  # the networks' names in checkpoints
CHECKPOINT_NAME = "cppn.pt"
PREVIEW_NAME = "preview.png"
# FitConfig fields a resumed fit may change: they say how long and where, not what is fitted
RESUME_MAY_CHANGE = ("steps", "out_dir", "preview_every", "command")


def fitting_network() -> CPPNConfig:
    """Defaults chosen for fitting rather than for random art.

    The random-art default (scale 8, N(0, 1) weights) starts high-frequency, and
    Adam spends its steps undoing noise; at scale 2.5 the first render is smooth
    enough that detail is added rather than removed. Measured on skimage's
    astronaut at 128 px, 300 steps, lr 5e-3 (MSE start -> end): tanh 0.32 -> 0.015,
    gaussian 0.20 -> 0.016 (but about 3x slower per step), softplus_tanh -> 0.030,
    residual -> 0.035 (its skips let N(0, 1) activations grow past what tanh
    can correct), sine -> 0.060 (sin on the output folds the colour range). Scales
    from 1 to 4 end within 0.002 of each other; 2.5 is the middle of that range.
    """
    return CPPNConfig(net_size=64, depth=4, arch="tanh", scale=2.5)


@dataclass
class FitConfig:
    image: str  # path of the picture to fit
    out_dir: str  # checkpoint, preview and loss plot land here
    steps: int = 500
    lr: float = 5e-3  # Adam learning rate
    size: int = 128  # training size: longest side in pixels, aspect kept
    latent_seed: int = 0  # draws the fixed latent z; the weights' seed is network.seed
    preview_every: int = 100  # steps between preview, plot and checkpoint writes; 0: only at the end
    network: CPPNConfig = field(default_factory=fitting_network)
    command: str = ""  # the command line that asked for this fit, kept in the checkpoint

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        if self.size < 2:
            raise ValueError(f"size must be at least 2 pixels, got {self.size}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.preview_every < 0:
            raise ValueError(f"preview_every must be 0 or more, got {self.preview_every}")


@dataclass
class FitResult:
    model: CPPN
    z: torch.Tensor  # (z_dim,) the fixed latent the model was fitted with
    loss_history: list[float]  # MSE per step, before that step's update
    checkpoint: Path
    preview: Path
    loss_plot: Path
    seconds: float  # wall-clock time of the optimisation loop


class CPPNFit:
    """The recipe of a CPPN fit (trainers.common.loop.Recipe): one CPPN, its fixed latent, Adam on the MSE."""

    kind = KIND

    def __init__(self, config: FitConfig, target: torch.Tensor, placement: Placement):
        network = config.network
        self.config = dataclasses.asdict(config)
        self.device = placement.device
        self.target = target  # (H, W, c_dim) in [0, 1], the left half of the preview
        height, width = target.shape[:2]
        self.model = CPPN(network).to(self.device)
        z = torch.from_numpy(keyframes(config.latent_seed, 1, network.z_dim)[0])  # (z_dim,) in [-1, 1]
        self.latent = FixedLatent(z).to(self.device)
        self.trained_model = placement.wrap(self.model)  # DDP under torchrun: gradients averaged
        # keep_aspect: the grid's proportions match the picture's, so a 4K render of the
        # fitted network stretches nothing when it keeps the aspect too
        self.grid = torch.from_numpy(coordinates(width, height, keep_aspect=True).copy()).to(self.device)  # (H, W, 3)
        self.scale = torch.tensor([network.scale], device=self.device)
        self.adam = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.networks = {NETWORK: self.model, LATENT: self.latent}
        self.optimizers = {"adam": self.adam}
        self.schedulers = {}

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        target = batch[0].to(self.device)  # (H, W, c_dim): the batch (1, H, W, c_dim) holds the one picture
        self.adam.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(self.trained_model(self.grid, self.latent.z, self.scale), target)
        loss.backward()
        self.adam.step()
        return {"mse": loss.item()}

    def samples(self) -> np.ndarray:
        current = self.model(self.grid, self.latent.z, self.scale)  # (H, W, c_dim)
        return image_grid([self.target, current], columns=2)  # target | current


def fit(config: FitConfig, placement: Placement | None = None, resume: str | Path | None = None,
        callbacks: Sequence[Callback] = ()) -> FitResult:
    """Optimise a CPPN to reproduce config.image; writes a preview, a loss plot and a checkpoint.

    `resume` continues from a checkpoint of the same fit (trainers.common.loop.Trainer.resume), `callbacks`
    run after the standard ones. A stop request (Ctrl-C) saves the last completed step, then raises
    KeyboardInterrupt."""
    placement = placement or Placement()
    target = torch.from_numpy(load_picture(config.image, config.size, config.network.c_dim))  # (H, W, c_dim)
    recipe = CPPNFit(config, target, placement)
    out_dir, every = Path(config.out_dir), config.preview_every
    trainer = Trainer(
        recipe, Batches([target], batch_size=1, rank=placement.rank, world_size=placement.world_size), placement,
        callbacks=[*standard_callbacks(out_dir, every, f"fit {Path(config.image).name}", "CPPN fit",
                                      PREVIEW_NAME, CHECKPOINT_NAME), *callbacks],
        provenance={"command": config.command, "data": str(config.image)},
    )
    if resume is not None:
        trainer.resume(resume, may_change=RESUME_MAY_CHANGE)
    started = time.perf_counter()
    trainer.run(config.steps)
    seconds = time.perf_counter() - started
    return FitResult(recipe.model.eval(), recipe.latent.z.reshape(-1).cpu(), trainer.losses["mse"],
                     out_dir / CHECKPOINT_NAME, out_dir / PREVIEW_NAME, out_dir / LOSS_PLOT_NAME, seconds)
