"""The standard callbacks: a progress bar, and sample grids, loss plots and checkpoints written
every N steps, at the end of a run and when it is stopped.

Only rank 0 draws the bar and writes pictures; checkpoints are collective (every
process hands in its random states) and rank 0 writes them. A file name may
hold the step, as in "samples/{step:06d}.png", to keep one file per write;
without it each write replaces the last.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from tqdm import tqdm

from trainers.common.images import save_png
from trainers.common.loop import Callback, Trainer
from trainers.common.plots import save_loss_plot


class ProgressBar(Callback):
    """A tqdm bar over the run's steps with the latest losses; a resumed run starts where it left off."""

    def __init__(self, description: str):
        self.description = description
        self._bar: tqdm | None = None

    def on_train_start(self, trainer: Trainer) -> None:
        self._bar = tqdm(total=trainer.steps, initial=trainer.step, desc=self.description, unit="step",
                         disable=not trainer.placement.is_main)

    def on_step_end(self, trainer: Trainer) -> None:
        self._bar.set_postfix({name: f"{values[-1]:.4g}" for name, values in trainer.losses.items()}, refresh=False)
        self._bar.update(1)

    def on_interrupt(self, trainer: Trainer) -> None:
        self._bar.close()

    def on_train_end(self, trainer: Trainer) -> None:
        self._bar.close()


class Periodic(Callback, ABC):
    """Writes an artifact every `every` steps (0: only at the end), at the end of a run and when it is
    stopped, never twice for one step."""

    def __init__(self, path: str | Path, every: int = 0):
        if every < 0:
            raise ValueError(f"every must be 0 or more steps, got {every}")
        self.path = Path(path)
        self.every = every
        self._written_at: int | None = None  # the step last written

    def on_step_end(self, trainer: Trainer) -> None:
        if self.every and trainer.step % self.every == 0:
            self._write_once(trainer)

    def on_interrupt(self, trainer: Trainer) -> None:
        self._write_once(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        self._write_once(trainer)

    def path_at(self, step: int) -> Path:
        """Where the write at `step` goes."""
        return self.path.with_name(self.path.name.format(step=step))

    @abstractmethod
    def write(self, trainer: Trainer) -> None:
        """Write the artifact for trainer.step."""

    def _write_once(self, trainer: Trainer) -> None:
        if self._written_at != trainer.step:
            self.write(trainer)
            self._written_at = trainer.step


class SampleGrid(Periodic):
    """recipe.samples() as a PNG."""

    def write(self, trainer: Trainer) -> None:
        if trainer.placement.is_main:
            save_png(trainer.sample(), self.path_at(trainer.step))


class LossPlot(Periodic):
    """The loss curves as a PNG, titled with `title` (what trains)."""

    def __init__(self, path: str | Path, every: int = 0, title: str = "training"):
        super().__init__(path, every)
        self.title = title

    def write(self, trainer: Trainer) -> None:
        if trainer.placement.is_main:
            save_loss_plot(trainer.losses, self.path_at(trainer.step), self.title)


class Checkpointing(Periodic):
    """The run's checkpoint (see checkpoint.py), atomically replaced at each write."""

    def write(self, trainer: Trainer) -> None:
        trainer.save(self.path_at(trainer.step))


LOSS_PLOT_NAME = "loss.png"


def standard_callbacks(out_dir: Path, every: int, description: str, title: str, samples_name: str,
                       checkpoint_name: str) -> list[Callback]:
    """What every trainer shows and keeps: a progress bar (`description`), and the sample grid, the loss
    plot (titled `title`) and the checkpoint written into out_dir every `every` steps, at the end and
    when stopped."""
    return [ProgressBar(description), SampleGrid(out_dir / samples_name, every),
            LossPlot(out_dir / LOSS_PLOT_NAME, every, title=title), Checkpointing(out_dir / checkpoint_name, every)]

