"""The GAN's quality as it trains: KID between the EMA generator's pictures and the data every N steps,
plotted, and at the end a sheet of samples beside their nearest training pictures.

Both use trainers.common.quality (the real ImageNet VGG16's pool5 features, named so on the plot and the
card; not FID, not Inception). The figures go to RUN/kid.json (step, mean, std) so that a resumed run
keeps its history (the checkpoint format holds per-step losses only); the latest figure also goes into
the run's provenance, which checkpoints keep and the exported card reads. The samples of a figure are made
from latents of their own seed, so measuring draws nothing from the training's streams.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from live.core.atomic_file import atomic_file
from trainers.common.images import save_png
from trainers.common.loop import Callback, Trainer
from trainers.common.plots import save_loss_plot
from trainers.common.quality import PictureFeatures, kid, nearest_neighbours, nearest_sheet

KID_NAME, KID_PLOT_NAME, NEAREST_NAME = "kid.json", "kid.png", "nearest.png"
KID_SEED = 4321  # the latents every KID figure is measured on
NEAREST_SAMPLES = 16
KID_SUBSETS = 50


class KidCallback(Callback):
    """KID every `every` steps (and at the end), the nearest-neighbour sheet at the end; rank 0 measures."""

    def __init__(self, out_dir: Path, data: torch.Tensor, every: int, samples: int = 0, batch: int = 32,
                 features: PictureFeatures | None = None):
        self.out_dir = Path(out_dir)
        self.data = data  # (N, 3, R, R) float in [0, 1]: the training pictures
        self.every = every
        self.samples = samples or len(data)
        self.batch = batch
        self._features = features
        self._real: torch.Tensor | None = None
        self.history: list[dict] = []

    @property
    def features(self) -> PictureFeatures:
        if self._features is None:
            self._features = PictureFeatures()  # loads VGG16 only when a figure is wanted
        return self._features

    def on_train_start(self, trainer: Trainer) -> None:
        path = self.out_dir / KID_NAME
        if path.is_file():  # a resumed run: its figures up to the checkpoint's step
            self.history = [entry for entry in json.loads(path.read_text())["figures"] if entry["step"] <= trainer.step]
        if self.history:
            self._note(trainer, self.history[-1])

    def on_step_end(self, trainer: Trainer) -> None:
        if self.every and trainer.step % self.every == 0:
            self.measure(trainer)

    def on_interrupt(self, trainer: Trainer) -> None:
        self._finish(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        self._finish(trainer)

    def measure(self, trainer: Trainer) -> None:
        if not trainer.placement.is_main or (self.history and self.history[-1]["step"] == trainer.step):
            return
        if self._real is None:
            self._real = self.features(self.data)
        figure = kid(self._real, self.features(self._made(trainer, self.samples)), subsets=KID_SUBSETS)
        entry = {"step": trainer.step, "mean": figure.mean, "std": figure.std, "subset_size": figure.subset_size,
                 "samples": self.samples}
        self.history.append(entry)
        self._note(trainer, entry)
        with atomic_file(self.out_dir / KID_NAME) as file:
            file.write(json.dumps({"features": self.features.name, "figures": self.history}, indent=1).encode())
        save_loss_plot({f"KID on {self.features.name}": [e["mean"] for e in self.history]},
                       self.out_dir / KID_PLOT_NAME, "GAN samples against the data",
                       steps=[e["step"] for e in self.history], ylabel="KID (lower is closer)")

    def nearest(self, trainer: Trainer) -> Path:
        """Samples | their nearest training picture (by VGG16 features), written to RUN/nearest.png."""
        if self._real is None:
            self._real = self.features(self.data)
        made = self._made(trainer, NEAREST_SAMPLES)
        indices, distances = nearest_neighbours(self.features(made), self._real)
        sheet = nearest_sheet(made, list(self.data), indices, distances)
        return save_png(sheet, self.out_dir / NEAREST_NAME)

    def _finish(self, trainer: Trainer) -> None:
        if trainer.placement.is_main and trainer.step:
            self.measure(trainer)
            self.nearest(trainer)

    def _note(self, trainer: Trainer, entry: dict) -> None:
        trainer.provenance.update({"kid": f"{entry['mean']:.4f} +- {entry['std']:.4f}", "kid_step": entry["step"],
                                   "kid_features": self.features.name})

    @torch.no_grad()
    def _made(self, trainer: Trainer, count: int) -> torch.Tensor:
        z = torch.randn(count, trainer.recipe.settings.network.z_dim, generator=torch.Generator().manual_seed(KID_SEED))
        return torch.cat([trainer.recipe.made(part).cpu() for part in z.split(self.batch)])
