"""The batch order of a run: endless, seeded, split between processes, and resumable mid-epoch.

Each epoch visits the dataset in a fresh permutation drawn from (seed, epoch)
with its own generator, so the order never depends on what else drew random
numbers. With several processes the permutation is padded by wrapping round to
a multiple of their number and dealt out like cards (torch's
DistributedSampler rule): the shards are disjoint apart from the padding and
equally long, so every process takes the same number of steps. The position is
(epoch, batches handed out in it); a resumed run continues with the next batch.
With DataLoader workers, random draws made inside the workers restart with each
loader, so an exact mid-epoch resume wants its augmentations drawn in train_step.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset


class Batches:
    """Iterator of collated batches (torch's default_collate: tensors stacked along a new first axis)."""

    def __init__(self, dataset: Dataset, batch_size: int, seed: int = 0, shuffle: bool = True,
                 rank: int = 0, world_size: int = 1, workers: int = 0):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if len(dataset) < 1:
            raise ValueError("a dataset to train on needs at least one item")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside 0 .. {world_size - 1}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.rank = rank
        self.world_size = world_size
        self.workers = workers  # DataLoader worker processes; 0 loads in this process
        self.epoch = 0
        self.position = 0  # batches of this epoch already handed out
        self._loader: Iterator[Any] | None = None

    def __iter__(self) -> Batches:
        return self

    def __next__(self) -> Any:
        if self._loader is None:
            self._loader = self._epoch_loader()
        batch = next(self._loader, None)
        if batch is None:  # the epoch is over (collated batches are never None)
            self.epoch, self.position = self.epoch + 1, 0
            self._loader = self._epoch_loader()
            batch = next(self._loader)
        self.position += 1
        return batch

    def shard(self, epoch: int) -> list[int]:
        """The dataset indices this process visits in `epoch`, in order."""
        count = len(self.dataset)
        if self.shuffle:
            order = torch.randperm(count, generator=torch.Generator().manual_seed(self.seed + epoch))
        else:
            order = torch.arange(count)
        per_process = math.ceil(count / self.world_size)
        padded = order.repeat(math.ceil(per_process * self.world_size / count))[:per_process * self.world_size]
        return padded[self.rank::self.world_size].tolist()

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._loader = None  # rebuilt from the position at the next batch

    def _epoch_loader(self) -> Iterator[Any]:
        indices = self.shard(self.epoch)
        # the epoch's batches from the current position on; the last one may be short
        batches = [indices[start:start + self.batch_size] for start in range(0, len(indices), self.batch_size)]
        # the loader draws its workers' base seed from `generator`: without one it would draw from torch's
        # global stream, once per loader built, and a resumed run builds one more than an unbroken run
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(DataLoader(self.dataset, batch_sampler=batches[self.position:], num_workers=self.workers,
                               generator=generator))
