"""A tiny regression recipe for the common trainer's tests, and a callback that stops a run.

Every source of randomness a real trainer has is here on purpose: a shuffled
dataset in batches that cross epoch boundaries, dropout (torch's stream),
input jitter from NumPy and a jitter scale from Python's `random`, momentum
in the optimizer and a step LR schedule, so a resume that forgot any state
would change the curve. samples() draws random numbers too, to show that
sample grids leave the training's streams alone.
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from trainers.common.batches import Batches
from trainers.common.distributed import Placement
from trainers.common.loop import Callback, Trainer
from trainers.common.rng import seed_all


@dataclass
class TinyConfig:
    items: int = 10  # dataset size; with batch_size 3 an epoch is 4 batches, the last one short
    batch_size: int = 3
    lr: float = 0.05
    dropout: float = 0.2
    jitter: float = 0.01  # input noise, standard deviation
    seed: int = 0


class TinyRecipe:
    kind = "tiny"

    def __init__(self, config: TinyConfig, placement: Placement | None = None):
        placement = placement or Placement()
        self.config = dataclasses.asdict(config)
        self.jitter = config.jitter
        seed_all(config.seed)  # the same first weights and draws in every run
        self.network = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(config.dropout), nn.Linear(8, 1))
        self.trained_network = placement.wrap(self.network)
        self.sgd = torch.optim.SGD(self.network.parameters(), lr=config.lr, momentum=0.9)
        self.networks = {"mlp": self.network}
        self.optimizers = {"sgd": self.sgd}
        self.schedulers = {"lr": torch.optim.lr_scheduler.StepLR(self.sgd, step_size=4, gamma=0.5)}

    def train_step(self, batch: list[torch.Tensor], step: int) -> dict[str, float]:
        x, y = batch  # (B, 4), (B, 1)
        noise = np.random.normal(0.0, self.jitter, x.shape) * random.random()
        self.sgd.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(self.trained_network(x + torch.from_numpy(noise).float()), y)
        loss.backward()
        self.sgd.step()
        return {"mse": loss.item(), "lr": self.sgd.param_groups[0]["lr"]}

    def samples(self) -> torch.Tensor:
        # predictions over a fixed ramp of inputs, as an (8, 16, 3) picture with a random tint
        ramp = torch.linspace(-1, 1, 16 * 4).reshape(16, 4)
        row = torch.sigmoid(self.network(ramp)).reshape(1, 16, 1)  # (1, 16, 1) in [0, 1]
        return (row * torch.rand(3)).expand(8, 16, 3)


def tiny_dataset(config: TinyConfig) -> TensorDataset:
    """Noisy points of a fixed linear map: x (items, 4), y (items, 1)."""
    generator = torch.Generator().manual_seed(1000 + config.seed)
    x = torch.randn(config.items, 4, generator=generator)
    y = x @ torch.tensor([[0.5], [-1.0], [0.25], [2.0]]) + 0.1 * torch.randn(config.items, 1, generator=generator)
    return TensorDataset(x, y)


def tiny_trainer(config: TinyConfig, placement: Placement | None = None, callbacks: list[Callback] | None = None,
                 ) -> Trainer:
    placement = placement or Placement()
    batches = Batches(tiny_dataset(config), config.batch_size, seed=config.seed, rank=placement.rank,
                      world_size=placement.world_size)
    return Trainer(TinyRecipe(config, placement), batches, placement, callbacks or [],
                   provenance={"command": "pytest", "data": "tiny"})


class StopAfter(Callback):
    """Raises KeyboardInterrupt once `step` steps are done, as a Ctrl-C between steps would end the run."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step == self.step:
            raise KeyboardInterrupt
