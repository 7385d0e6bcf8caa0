"""Style network cost per frame and flicker: our ONNX path (Engine.run) against PyTorch eager, in one run.

For each network (the classic Johnson layout at two widths, the slim CPU layout
at three sizes, the shipped one among them, and every shipped models/style-*.onnx) it exports the
network to a temporary ONNX file, checks that the engine and torch agree, then
times the median of N frames at 640x360 and 1280x720 for both and prints a
Markdown table with the torch/ours ratio and our frames per second. Weights are
random: the cost of a network does not depend on them.

Flicker before and after the temporal loss: two slim networks trained the same
way on scikit-image's samples (same seed, data and steps), one with the
temporal loss and one without, each measured on a still clip (a held-out
picture with camera noise and sub-pixel sway; trainers.style.train.still_flicker)
as the mean change between consecutive outputs in 0..255 levels.

    .venv/bin/python -m bench.style_bench --runs 5 --markdown out/bench_style.md
"""
from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage import data

from bench.measure import publish
from live.inference.engine import Engine, EngineConfig
from trainers.style.model import StyleConfig, StyleNetwork

SIZES = ((640, 360), (1280, 720))  # (width, height)
NETWORKS = (("classic", StyleConfig(32, 5)), ("classic", StyleConfig(16, 5)),
            ("slim", StyleConfig(16, 4, slim=True)), ("slim", StyleConfig(16, 3, slim=True)),
            ("slim", StyleConfig(8, 2, slim=True)))
MODELS = Path(__file__).resolve().parent.parent / "models"  # the shipped style-*.onnx files
AGREEMENT_TOLERANCE = 1e-3  # absolute, on colours in [0, 1]
TRAINING_PICTURES = ("astronaut", "coffee", "chelsea", "camera")
HELD_OUT = "rocket"


def median_ms(renders: tuple[Callable[[], object], ...], runs: int) -> list[float]:
    """Median wall ms of each render, timed in turns (a, b, a, b, ...) so that the load other processes put
    on a shared machine falls on all of them alike and their ratio stays fair."""
    for render in renders:
        render()  # the first run allocates; not timed
    times: list[list[float]] = [[] for _ in renders]
    for _ in range(runs):
        for render, spent in zip(renders, times):
            started = time.perf_counter()
            render()
            spent.append((time.perf_counter() - started) * 1000.0)
    return [statistics.median(spent) for spent in times]


def time_network(label: str, network: StyleNetwork, path: Path, runs: int) -> list[dict]:
    engine = Engine.load(path, EngineConfig(providers="auto"))
    name = engine.input_names[0]
    rows = []
    for width, height in SIZES:
        picture = np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)
        tensor = torch.from_numpy(picture)
        with torch.no_grad():
            expected = network(tensor).numpy()
        error = float(np.max(np.abs(engine.run({name: picture})[engine.output_names[0]] - expected)))
        if error > AGREEMENT_TOLERANCE:
            raise SystemExit(f"{label}: the engine and torch disagree at {width}x{height}: max abs error {error:.3g}")
        with torch.no_grad():
            ours, eager = median_ms((lambda: engine.run({name: picture}), lambda: network(tensor)), runs)
        rows.append({"network": label, "size": f"{width}x{height}", "ours_ms": ours, "torch_ms": eager,
                     "ratio": eager / ours, "fps": 1000.0 / ours, "providers": ", ".join(engine.providers)})
    return rows


def speed(runs: int) -> list[dict]:
    from exporters.onnx import export

    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for kind, config in NETWORKS:
            torch.manual_seed(0)
            network = StyleNetwork(config).eval()
            path = Path(directory) / f"{kind}-{config.base_channels}.onnx"
            export(network, path)
            label = f"{kind} width {config.base_channels}, {config.residual_blocks} blocks"
            rows += time_network(label, network, path, runs)
    for path in sorted(MODELS.glob("style-*.onnx")):
        rows += shipped_rows(path, runs)
    return rows


def shipped_rows(path: Path, runs: int) -> list[dict]:
    """A shipped model, timed by the engine alone (its torch twin is the slim row of the same layout)."""
    engine = Engine.load(path, EngineConfig(providers="auto"))
    rows = []
    for width, height in SIZES:
        feeds = {engine.input_names[0]: np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)}
        (ours,) = median_ms((lambda: engine.run(feeds),), runs)
        rows.append({"network": f"shipped {path.name}", "size": f"{width}x{height}", "ours_ms": ours,
                     "torch_ms": float("nan"), "ratio": float("nan"), "fps": 1000.0 / ours,
                     "providers": ", ".join(engine.providers)})
    return rows


def flicker(steps: int) -> list[dict]:
    from trainers.style.train import TrainConfig, still_flicker, train

    rows = []
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory) / "content"
        folder.mkdir()
        for name in TRAINING_PICTURES:
            picture = getattr(data, name)()
            Image.fromarray(picture if picture.ndim == 3 else np.stack([picture] * 3, -1)).save(folder / f"{name}.png")
        Image.fromarray(data.immunohistochemistry()).save(Path(directory) / "style.png")
        held_out = Image.fromarray(getattr(data, HELD_OUT)()).resize((128, 96))
        still = torch.from_numpy(np.asarray(held_out, np.float32) / 255).permute(2, 0, 1).contiguous()
        for weight in (0.0, 20.0):
            config = TrainConfig(style=str(Path(directory) / "style.png"), images=str(folder),
                                 out_dir=str(Path(directory) / f"run-{weight:g}"), steps=steps, size=64,
                                 style_size=128, batch_size=4, content_weight=2.0, temporal_weight=weight,
                                 sample_every=0, network=StyleConfig(8, 2, slim=True))
            with contextlib.redirect_stderr(io.StringIO()):  # the progress bars
                result = train(config)
            styled, plain = still_flicker(result.model, still)
            rows.append({"temporal_weight": weight, "flicker": styled, "input": plain,
                         "loss": float(np.mean(result.losses["total"][-10:]))})
    return rows


def markdown(rows: list[dict], flicker_rows: list[dict], runs: int, steps: int) -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [f"median of {runs} frames, ours and torch timed in turns; ours = Engine.run on {rows[0]['providers']}; "
             f"torch = eager, no_grad, {torch.get_num_threads()} threads; load average at the end {load}", "",
             "| network | size | ours ms | torch ms | torch/ours | ours fps |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['network']} | {r['size']} | {r['ours_ms']:.1f} | {_figure(r['torch_ms'], '.1f')} "
              f"| {_figure(r['ratio'], '.2f')} | {r['fps']:.1f} |" for r in rows]
    if flicker_rows:
        lines += ["", f"flicker on a still clip of held-out {HELD_OUT!r} (slim width 8, {steps} steps at 64 px; "
                      "levels 0..255)", "",
                  "| temporal weight | output flicker | input flicker | output/input | last-10 mean loss |",
                  "| ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {r['temporal_weight']:g} | {r['flicker']:.2f} | {r['input']:.2f} "
                  f"| {r['flicker'] / r['input']:.2f} | {r['loss']:.3g} |" for r in flicker_rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="style_bench", description="style ms/frame: ONNX engine vs torch; flicker")
    parser.add_argument("--runs", type=int, default=5, help="timed frames per size (median reported)")
    parser.add_argument("--flicker-steps", type=int, default=150, help="training steps of each flicker network "
                                                                        "(0: skip the flicker part)")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args(argv)
    flicker_rows = flicker(args.flicker_steps) if args.flicker_steps else []
    table = markdown(speed(args.runs), flicker_rows, args.runs, args.flicker_steps)
    publish(table, args.markdown)
    return 0


def _figure(value: float, spec: str) -> str:
    """A table cell: the value, or a dash where there is none (a shipped file has no torch twin)."""
    return "-" if math.isnan(value) else format(value, spec)


if __name__ == "__main__":
    raise SystemExit(main())
