"""The GAN: a training step's time and peak memory at 64, 128 and 256 px, and the generator through ONNX
Runtime against PyTorch eager, so a user can plan a run and a show.

Part 1: for each resolution, one process (so its peak resident memory is that
resolution's alone) builds the recipe `latentstage train gan` trains, with the
shipped CPU widths (channel base 1024, at most 128) unless --channel-base says,
and times full training steps (D step, G step, EMA) on random pictures: the
median of the steps after a warm-up, the median of the lazy-R1 steps apart
(they add a double backward every 16 steps), and the process's peak RSS.
Part 2: the shipped generator's exported graph (random weights: time does not
depend on them) at batch 1, ms per picture, ONNX Runtime (CPU provider,
the same threads) against PyTorch eager (no_grad, eval).

    .venv/bin/python -m bench.gan_train_bench --threads 1 --markdown out/bench_gan.md
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.measure import median_ms, publish

REPO = Path(__file__).resolve().parents[1]
RESOLUTIONS = (64, 128, 256)


def one_resolution(resolution: int, batch: int, channel_base: int, channel_max: int, steps: int,
                   threads: int) -> dict:
    """Time `steps` training steps at `resolution` in this process; its peak RSS after them."""
    from trainers.common.distributed import Placement
    from trainers.gan.model import GanConfig
    from trainers.gan.train import GanTraining, TrainConfig

    torch.set_num_threads(threads)
    network = GanConfig(resolution=resolution, channel_base=channel_base, channel_max=channel_max)
    config = TrainConfig(data="", out_dir="", batch_size=batch, network=network)
    recipe = GanTraining(config, Placement())
    pictures = torch.rand(batch, 3, resolution, resolution)
    plain, lazy = [], []
    for step in range(1, steps + 1):
        started = time.perf_counter()
        recipe.train_step(pictures, step)
        seconds = time.perf_counter() - started
        if step > 1:  # the first allocates
            (lazy if step % config.r1_every == 0 else plain).append(seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    return {"resolution": resolution, "step_s": statistics.median(plain),
            "r1_step_s": statistics.median(lazy) if lazy else None, "peak_mb": peak_mb,
            "channels": [network.channels(r) for r in network.resolutions],
            "generator_params": sum(p.numel() for p in recipe.generator.parameters())}


def generator_speed(channel_base: int, channel_max: int, resolution: int, threads: int, runs: int) -> dict:
    import onnxruntime as ort

    from exporters.gan import GanGraph, export_gan
    from trainers.gan.model import GanConfig, Generator

    torch.set_num_threads(threads)
    generator = Generator(GanConfig(resolution=resolution, channel_base=channel_base, channel_max=channel_max)).eval()
    z = torch.randn(1, generator.config.z_dim)
    psi = torch.ones(1)
    graph = GanGraph(generator)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "g.onnx"
        export_gan(generator, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        feeds = {"z": z.numpy(), "truncation": psi.numpy()}
        ort_ms = median_ms(lambda: session.run(None, feeds), runs)
    with torch.no_grad():
        eager_ms = median_ms(lambda: graph(z, psi), runs)
    return {"ort_ms": ort_ms, "eager_ms": eager_ms}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch and ORT threads (1, as the shipped run)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--channel-base", type=int, default=1024)
    parser.add_argument("--channel-max", type=int, default=128)
    parser.add_argument("--steps", type=int, default=17, help="steps timed a resolution (17: one lazy R1)")
    parser.add_argument("--resolutions", type=int, nargs="+", default=list(RESOLUTIONS))
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process: one resolution, JSON out
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_resolution(args.one, args.batch_size, args.channel_base, args.channel_max, args.steps,
                                        args.threads)))
        return
    rows = []
    for resolution in args.resolutions:
        child = [sys.executable, "-m", "bench.gan_train_bench", "--one", str(resolution),
                 "--threads", str(args.threads), "--batch-size", str(args.batch_size), "--steps", str(args.steps),
                 "--channel-base", str(args.channel_base), "--channel-max", str(args.channel_max)]
        result = json.loads(subprocess.run(child, capture_output=True, text=True, check=True, cwd=REPO).stdout)
        rows.append(result)
    lines = [f"GAN training step, batch {args.batch_size}, channel base {args.channel_base}, max "
             f"{args.channel_max}, {args.threads} thread(s), CPU:", "",
             "| resolution | widths 4 px .. full | G parameters | step (s) | lazy-R1 step (s) | pictures/s | peak RSS (MB) |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        r1 = f"{row['r1_step_s']:.2f}" if row["r1_step_s"] is not None else "-"
        lines.append(f"| {row['resolution']} | {', '.join(map(str, row['channels']))} | "
                     f"{row['generator_params'] / 1e6:.2f} M | {row['step_s']:.2f} | {r1} | "
                     f"{args.batch_size / row['step_s']:.1f} | {row['peak_mb']:.0f} |")
    speed = generator_speed(args.channel_base, args.channel_max, 64, args.threads, runs=50)
    lines += ["", f"Generator at 64 px, batch 1, {args.threads} thread(s): ONNX Runtime {speed['ort_ms']:.2f} ms, "
                  f"PyTorch eager {speed['eager_ms']:.2f} ms ({speed['eager_ms'] / speed['ort_ms']:.2f}x), "
                  f"{1000 / speed['ort_ms']:.0f} pictures/s through ORT"]
    publish("\n".join(lines) + "\n", args.markdown)


if __name__ == "__main__":
    main()
