"""Fit a CPPN to a picture, so the CPPN trainer produces a real model and not only random ones.

The picture is loaded with Pillow and shrunk (longest side `size`, aspect kept);
a latent z is drawn once from the seed and held fixed; Adam moves every weight
to minimise the mean squared error between the network's render of the full
coordinate grid at that size and the picture. Along the way the loop writes a
preview (target | current), a loss plot and a checkpoint into the output folder.
The fitted network renders at any resolution, so a 128 px fit becomes a smooth
4K still or the start of a latent walk.
"""
from __future__ import annotations

import dataclasses
import datetime
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on trainers' machines
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot  # noqa: E402
from PIL import Image  # noqa: E402
from tqdm import tqdm  # noqa: E402

from live.cppn import coordinates, keyframes  # noqa: E402
from trainers.cppn.checkpoint import save_checkpoint  # noqa: E402
from trainers.cppn.model import CPPN, CPPNConfig  # noqa: E402
from trainers.cppn.sample import save_png  # noqa: E402

CHECKPOINT_NAME = "cppn.pt"
PREVIEW_NAME = "preview.png"
LOSS_PLOT_NAME = "loss.png"


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


def load_target(path: str | Path, size: int, c_dim: int) -> torch.Tensor:
    """The picture as (H, W, c_dim) float32 in [0, 1], longest side `size` pixels."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image")
    try:
        with Image.open(path) as picture:
            picture = picture.convert("L" if c_dim == 1 else "RGB")
    except OSError as error:
        raise ValueError(f"{path}: not a readable image ({error})") from None
    ratio = size / max(picture.size)
    width, height = (max(1, round(side * ratio)) for side in picture.size)
    picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    pixels = np.asarray(picture, dtype=np.float32) / 255.0
    return torch.from_numpy(pixels.reshape(height, width, c_dim))


def fit(config: FitConfig) -> FitResult:
    """Optimise a CPPN to reproduce config.image; writes previews, a loss plot and a checkpoint."""
    network = config.network
    target = load_target(config.image, config.size, network.c_dim)  # (H, W, c_dim)
    height, width = target.shape[:2]
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    model = CPPN(network)
    z = torch.from_numpy(keyframes(config.latent_seed, 1, network.z_dim)[0])  # (z_dim,) in [-1, 1]
    # keep_aspect: the grid's proportions match the picture's, so a 4K render of the
    # fitted network stretches nothing when it keeps the aspect too
    grid = torch.from_numpy(coordinates(width, height, keep_aspect=True).copy())  # (H, W, 3)
    scale = torch.tensor([network.scale])
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    provenance = {"command": config.command, "data": str(config.image), "steps": 0,
                  "date": "", "fit": _plain_fit_settings(config)}

    losses: list[float] = []
    started = time.perf_counter()
    progress = tqdm(range(1, config.steps + 1), desc=f"fit {Path(config.image).name}", unit="step")
    for step in progress:
        optimiser.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(model(grid, z.reshape(1, -1), scale), target)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        progress.set_postfix(loss=f"{losses[-1]:.5f}")
        if step == config.steps or (config.preview_every and step % config.preview_every == 0):
            provenance.update(steps=step, date=datetime.datetime.now(datetime.timezone.utc).isoformat())
            paths = _write_artifacts(out_dir, model, z, grid, scale, target, provenance, losses)
    seconds = time.perf_counter() - started
    model.eval()
    return FitResult(model, z, losses, *paths, seconds=seconds)


def _plain_fit_settings(config: FitConfig) -> dict:
    # the network's config is stored separately in the checkpoint; keep the rest as plain types
    return {name: value for name, value in dataclasses.asdict(config).items() if name not in ("network", "command")}


def _write_artifacts(out_dir: Path, model: CPPN, z: torch.Tensor, grid: torch.Tensor, scale: torch.Tensor,
                     target: torch.Tensor, provenance: dict, losses: list[float]) -> tuple[Path, Path, Path]:
    with torch.no_grad():
        current = model(grid, z.reshape(1, -1), scale)  # (H, W, c_dim)
    preview = save_png(torch.cat([target, current], dim=1), out_dir / PREVIEW_NAME)  # target | current
    loss_plot = plot_losses(losses, out_dir / LOSS_PLOT_NAME)
    checkpoint = save_checkpoint(out_dir / CHECKPOINT_NAME, model, z, provenance, losses)
    return checkpoint, preview, loss_plot


def plot_losses(losses: list[float], path: Path) -> Path:
    """A log-scale plot of MSE per step, written as PNG."""
    figure, axes = pyplot.subplots(figsize=(6, 3.5), dpi=100)
    axes.plot(range(1, len(losses) + 1), losses, linewidth=1.0)
    axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("MSE")
    axes.set_title(f"CPPN fit: {losses[-1]:.5f} after {len(losses)} steps")
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
    return path
