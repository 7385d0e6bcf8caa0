"""The one training loop: a Trainer runs any Recipe, and Callbacks hang off its steps.

After minGPT's trainer: the loop knows nothing of pictures or GANs. A Recipe
brings the networks, optimizers, LR schedulers and one training step; the
Trainer draws batches, steps the schedulers, keeps the loss history, and saves
and resumes the whole state through the common checkpoint format, so a resumed
run gives the same losses and weights, to the bit, as one that never stopped.
Progress, sample grids, loss plots and checkpoints are callbacks
(callbacks.py). A stop request (Ctrl-C, SIGTERM) ends the run after the step in
progress: on_interrupt runs, so checkpointing callbacks save that completed
step, and then KeyboardInterrupt is re-raised for the caller to report and exit
on; a second Ctrl-C stops at once and saves nothing.
"""
from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from trainers.common.batches import Batches
from trainers.common.checkpoint import (
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    mismatch,
    save_checkpoint,
)
from trainers.common.distributed import Placement
from trainers.common.interrupt import stop_requests
from trainers.common.rng import capture_rng, preserved_rng, restore_rng


class Recipe(Protocol):
    """What a trainer brings: the only part that differs between pix2pix, style and CPPN."""

    kind: str  # names the checkpoints: "cppn", "pix2pix", "style"
    config: dict[str, Any]  # the full config as plain types (dataclasses.asdict), kept in checkpoints
    networks: dict[str, nn.Module]  # unwrapped (not DDP) modules, by name
    optimizers: dict[str, torch.optim.Optimizer]
    schedulers: dict[str, torch.optim.lr_scheduler.LRScheduler]  # each stepped once per training step

    def train_step(self, batch: Any, step: int) -> dict[str, float]:
        """One optimisation step on `batch` (step 1 is the first); the losses by name, as Python floats."""
        ...

    def samples(self) -> torch.Tensor | np.ndarray:
        """A picture of how training goes, (H, W, C) float in [0, 1] or uint8 (see images.image_grid).
        Called on rank 0 alone, in eval mode without gradients: use the networks, not their DDP wrappers."""
        ...


class Callback:
    """Hooks into a Trainer's run; a callback overrides the ones it needs. Each gets the trainer and may
    read its step, steps, losses, recipe and placement. Under torchrun every process calls every hook."""

    def on_train_start(self, trainer: Trainer) -> None:
        pass

    def on_step_end(self, trainer: Trainer) -> None:
        pass

    def on_interrupt(self, trainer: Trainer) -> None:
        """A stop request ended the run on a completed step (trainer.step)."""

    def on_train_end(self, trainer: Trainer) -> None:
        pass


class Trainer:
    """Runs a Recipe on batches, on this process's Placement, calling the callbacks after each step.
    `provenance` holds what the run is made from (command, data); checkpoints carry it."""

    def __init__(self, recipe: Recipe, batches: Batches, placement: Placement | None = None,
                 callbacks: Sequence[Callback] = (), provenance: Mapping[str, Any] | None = None):
        self.recipe = recipe
        self.batches = batches
        self.placement = placement or Placement()
        self.callbacks = list(callbacks)
        self.provenance = dict(provenance or {})  # command and data; checkpoints add the date
        self.step = 0  # steps completed
        self.steps = 0  # steps the current run() goes to
        self.losses: dict[str, list[float]] = {}  # name -> value at steps 1, 2, ...

    def run(self, steps: int) -> None:
        """Train until `steps` steps are done in all (a resumed run counts the steps before it).

        On a stop request: finishes the step, calls on_interrupt, re-raises KeyboardInterrupt."""
        if steps < self.step:
            raise ValueError(f"asked for {steps} steps, but this run is already at step {self.step}")
        self.steps = steps
        self._train_mode(True)
        for callback in self.callbacks:
            callback.on_train_start(self)
        completed = True  # no step is half done
        with stop_requests() as stop_requested:
            try:
                while self.step < steps:
                    completed = False
                    self._advance()
                    completed = True
                    for callback in self.callbacks:
                        callback.on_step_end(self)
                    if self.placement.any(stop_requested()):
                        raise KeyboardInterrupt
            except KeyboardInterrupt:
                if completed:
                    for callback in self.callbacks:
                        callback.on_interrupt(self)
                else:
                    tqdm.write(f"stopped during step {self.step + 1}: nothing saved, the last checkpoint stands")
                raise
        for callback in self.callbacks:
            callback.on_train_end(self)

    def sample(self) -> torch.Tensor | np.ndarray:
        """recipe.samples() in eval mode, without gradients, leaving the training's random streams as they were
        (a sample grid must not change the training curve)."""
        self._train_mode(False)
        try:
            with torch.no_grad(), preserved_rng():
                return self.recipe.samples()
        finally:
            self._train_mode(True)

    def checkpoint(self) -> Checkpoint:
        """The run's whole state now. Under torchrun every process must call it (it gathers their random
        states). The tensors are the live ones: save the checkpoint before training on."""
        return Checkpoint(
            kind=self.recipe.kind,
            config=dict(self.recipe.config),
            networks=_states(self.recipe.networks),
            optimizers=_states(self.recipe.optimizers),
            schedulers=_states(self.recipe.schedulers),
            data=self.batches.state_dict(),
            rng=self.placement.gather(capture_rng()),
            step=self.step,
            losses={name: list(values) for name, values in self.losses.items()},
            provenance={**self.provenance, "date": datetime.datetime.now(datetime.timezone.utc).isoformat()},
        )

    def save(self, path: str | Path) -> Path:
        """checkpoint() written to `path` by rank 0; every process must call it."""
        checkpoint = self.checkpoint()
        if self.placement.is_main:
            save_checkpoint(checkpoint, path)
        return Path(path)

    def resume(self, path: str | Path, may_change: Collection[str] = ()) -> None:
        """Continue the run saved in `path`: weights, optimizers, schedulers, data position, random states,
        step and losses. Refused (CheckpointError) when the checkpoint's config differs from this recipe's
        in any key but `may_change` (run length, output folder ...), or was saved by another number of
        processes, since neither would continue the same curve."""
        checkpoint = load_checkpoint(path, self.recipe.kind)
        differences = _differences(checkpoint.config, self.recipe.config, set(may_change))
        if differences:
            raise CheckpointError(f"{path}: this run differs from the checkpoint in {'; '.join(differences)}")
        if len(checkpoint.rng) != self.placement.world_size:
            raise CheckpointError(f"{path}: saved by {len(checkpoint.rng)} process(es), resumed by "
                                  f"{self.placement.world_size}; the same data split needs the same number")
        try:
            for owners, states in ((self.recipe.networks, checkpoint.networks),
                                   (self.recipe.optimizers, checkpoint.optimizers),
                                   (self.recipe.schedulers, checkpoint.schedulers)):
                _load_states(owners, states)
        except (KeyError, ValueError, RuntimeError) as error:
            raise mismatch(path, "this run's networks", error) from None
        self.batches.load_state_dict(checkpoint.data)
        restore_rng(checkpoint.rng[self.placement.rank])
        self.step = checkpoint.step
        self.losses = {name: list(values) for name, values in checkpoint.losses.items()}
        earlier = checkpoint.provenance.get("earlier_commands", [])
        # the resumed run is made by every command that took part, not only this one
        self.provenance["earlier_commands"] = [*earlier, checkpoint.provenance.get("command", "")]

    def _advance(self) -> None:
        batch = next(self.batches)
        losses = self.placement.mean(self.recipe.train_step(batch, self.step + 1))
        for scheduler in self.recipe.schedulers.values():
            scheduler.step()
        self.step += 1
        for name, value in losses.items():
            self.losses.setdefault(name, []).append(float(value))

    def _train_mode(self, training: bool) -> None:
        for network in self.recipe.networks.values():
            network.train(training)


def _states(owners: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: owner.state_dict() for name, owner in owners.items()}


def _load_states(owners: Mapping[str, Any], states: Mapping[str, dict[str, Any]]) -> None:
    if set(owners) != set(states):
        raise KeyError(f"the checkpoint holds {sorted(states)}, this run has {sorted(owners)}")
    for name, owner in owners.items():
        owner.load_state_dict(states[name])


def _differences(saved: Mapping[str, Any], asked: Mapping[str, Any], ignored: set[str], prefix: str = "") -> list[str]:
    """'key (checkpoint X, this run Y)' for each differing key; nested configs give dotted keys."""
    found = []
    for key in sorted(set(saved) | set(asked)):
        if key in ignored:
            continue
        old, new = saved.get(key), asked.get(key)
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            found += _differences(old, new, set(), f"{prefix}{key}.")
        elif old != new:
            found.append(f"{prefix}{key} (checkpoint {old!r}, this run {new!r})")
    return found
