"""Super-resolution cost: 512 -> 2048 time through `Upscaler` (tiled) and whole, peak memory of
`latentstage upscale` for 1024 -> 4096, and one training step's time, so a user can plan a run.

The model is the shipped models/sr-paintings.onnx (or --model); times are medians of --runs calls
after one warm-up. Peak memory is the command's peak resident set, measured by a parent process
of its own (resource.getrusage of its children), for the default tile and for a smaller one.
Aims (issue 20): 512 -> 2048 in <= 3 s and 1024 -> 4096 in <= 1 GB on the 2-core CPU.

    .venv/bin/python -m bench.sr_bench --runs 3 --markdown out/bench_sr.md
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import skimage.data
import torch

from bench.measure import median_ms, publish
from live.inference.engine import EngineConfig
from live.inference.upscaler import DEFAULT_TILE, Upscaler

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "models" / "sr-paintings.onnx"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=SHIPPED)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    picture = cv2.resize(skimage.data.astronaut(), (512, 512))
    upscaler = Upscaler.load(args.model, EngineConfig(providers="cpu", warmup_runs=1))
    tiled = median_ms(lambda: upscaler.upscale(picture), args.runs)
    session = ort.InferenceSession(str(args.model), providers=["CPUExecutionProvider"])
    planes = (picture.transpose(2, 0, 1)[None] / 255.0).astype(np.float32)
    whole = median_ms(lambda: session.run(None, {"image": planes}), args.runs)
    rows = [f"| 512 -> 2048, tiled ({DEFAULT_TILE}-pixel tiles, 8 of margin) | {tiled / 1000:.2f} s |",
            f"| 512 -> 2048, whole picture (one ORT run) | {whole / 1000:.2f} s |"]
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big.png"
        cv2.imwrite(str(big), cv2.resize(skimage.data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC))
        for tile in (DEFAULT_TILE, 128):
            peak, seconds = peak_of(["upscale", str(big), "-o", str(Path(folder) / "huge.png"), "--model",
                                     str(args.model), "--providers", "cpu", "--tile", str(tile)])
            rows.append(f"| 1024 -> 4096 `latentstage upscale --tile {tile}`: peak RSS | {peak:.0f} MB "
                        f"({seconds:.1f} s) |")
    for patch, batch in ((96, 16), (96, 8)):
        rows.append(f"| training step, patch {patch}, batch {batch}, VGG-16 perceptual, 1 thread | "
                    f"{training_step_ms(patch, batch):.0f} ms |")
    publish("| SR measure | value |\n|---|---|\n" + "\n".join(rows) + "\n", args.markdown)


def peak_of(arguments: list[str]) -> tuple[float, float]:
    """(peak resident set in MB, seconds) of `latentstage ARGUMENTS`, run by a parent of its own."""
    measure = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", measure, str(Path(sys.executable).parent / "latentstage"),
                           *arguments], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak_kb, code = (int(value) for value in done.stdout.split()[-2:])
    if code != 0:
        raise SystemExit(f"latentstage {' '.join(arguments)} failed with code {code}")
    return peak_kb / 1024, seconds


def training_step_ms(patch: int, batch: int) -> float:
    """Median ms of one SR training step (the recipe's own, on scikit-image pictures) on one thread."""
    from trainers.common.distributed import Placement
    from trainers.common.loss_networks import loss_network
    from trainers.sr.train import SRTraining, TrainConfig

    torch.set_num_threads(1)
    pictures = [getattr(skimage.data, name)() for name in ("astronaut", "coffee", "chelsea", "rocket")]
    config = TrainConfig(data="", out_dir="", patch=patch, batch_size=batch)
    recipe = SRTraining(config, pictures, pictures[:1], loss_network("vgg16", deepest="relu2_2"), Placement())
    indices = torch.arange(batch) % len(pictures)
    step = iter(range(1, 1000))
    return median_ms(lambda: recipe.train_step(indices, next(step)), 3)


if __name__ == "__main__":
    main()
