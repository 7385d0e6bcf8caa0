"""Loss curves as PNG files, drawn with matplotlib's object API.

A Figure with its own FigureCanvasAgg renders to memory: no pyplot, no global
backend switch at import, no display needed, and nothing shared between
threads or with a caller's own plots.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from live.core.atomic_file import atomic_file


def save_loss_plot(losses: Mapping[str, Sequence[float]], path: str | Path, title: str,
                   steps: Sequence[int] | None = None, ylabel: str = "loss") -> Path:
    """One line per loss over the steps, log scale when every value is positive; `title` says what
    trained (the latest values and the step count are added). Without `steps` the values are those of
    steps 1, 2, ...; with them, a figure measured now and then, at those steps."""
    figure = Figure(figsize=(6, 3.5), dpi=100)  # 600 x 350 pixels
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for name, values in losses.items():
        axes.plot(steps if steps is not None else range(1, len(values) + 1), values, linewidth=1.0, label=name,
                  marker="o" if steps is not None else None, markersize=3)
    finite = [value for values in losses.values() for value in values if math.isfinite(value)]
    if finite and min(finite) > 0:  # GAN losses can be negative; a diverged run has NaN
        axes.set_yscale("log")
    last = steps[-1] if steps else max((len(values) for values in losses.values()), default=0)
    latest = ", ".join(f"{name} {values[-1]:.4g}" for name, values in losses.items() if values)
    axes.set_title(f"{title}: {latest} after {last} steps" if last else f"{title}: no steps yet")
    axes.set_xlabel("step")
    axes.set_ylabel(ylabel)
    if len(losses) > 1:
        axes.legend()
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    with atomic_file(path) as file:
        figure.savefig(file, format="png")
    return Path(path)


def save_curves_plot(steps: Sequence[int], curves: Mapping[str, Sequence[float]], path: str | Path, title: str,
                     ylabel: str) -> Path:
    """A measure taken now and then (held-out PSNR, KID): one line per name over the steps it was taken at."""
    figure = Figure(figsize=(6, 3.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for name, values in curves.items():
        axes.plot(list(steps), list(values), marker="o", markersize=3, linewidth=1.0, label=name)
    axes.set_title(title, fontsize=10)
    axes.set_xlabel("step")
    axes.set_ylabel(ylabel)
    axes.legend()
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    with atomic_file(path) as file:
        figure.savefig(file, format="png")
    return Path(path)
