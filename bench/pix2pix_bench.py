"""pix2pix generators: ONNX Runtime against PyTorch eager, and the live loop with the demo model.

Part 1, in one process: for each generator (the paper's, and the slim one
`latentstage train pix2pix --slim` trains, with its replicate padding and, for
the cost of that, the same with zero padding as before), the median ms per frame at
256x256 and 512x512 in PyTorch eager (no_grad, eval) and through our engine
(ONNX Runtime's CPU provider), and their ratio. Random weights: the time does
not depend on them.

Part 2: `latentstage run --headless` with a one-scene show, video file ->
the card's edges -> the shipped edges -> painting model at 256x256: output fps, new frames a
second, the inference thread's step against the model alone.

    .venv/bin/python -m bench.pix2pix_bench --markdown out/bench_pix2pix.md
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
import yaml

from bench.loop_bench import run_loop
from bench.measure import median_ms, publish
from exporters.onnx import export
from live.inference.engine import Engine, EngineConfig
from live.inference.model_io import ImageModelIO
from live.output.video import VideoWriter
from trainers.pix2pix.demo_footage import camera_move
from trainers.pix2pix.model import Pix2PixConfig, Pix2PixGenerator

REPO = Path(__file__).resolve().parents[1]
DEMO_MODEL = REPO / "models" / "pix2pix-paintings.onnx"
GENERATORS = {"paper (width 64, depth 8)": Pix2PixConfig(base_channels=64),
              "wider (width 32, depth 7, resize)": Pix2PixConfig(base_channels=32, depth=7, upsample="resize"),
              "slim (width 16, depth 7, resize)": Pix2PixConfig(base_channels=16, depth=7, upsample="resize"),
              # the slim layout as it was before replicate padding: what the padding costs
              "slim, zero padding (before)": Pix2PixConfig(base_channels=16, depth=7, upsample="resize",
                                                           padding="zeros")}
SIZES = (256, 512)
LIVE_SIZE = 256



def generator_rows(folder: Path, runs: int) -> list[tuple[str, int, float, float]]:
    rows = []
    for name, config in GENERATORS.items():
        torch.manual_seed(0)
        network = Pix2PixGenerator(config).eval()
        path = folder / f"{config.base_channels}-{config.padding}.onnx"
        export(network, path, provenance={"command": "bench/pix2pix_bench.py (random weights)"})
        engine = Engine.load(path, EngineConfig(providers="cpu"))
        for size in SIZES:
            picture = torch.rand(1, 1, size, size) * 2 - 1
            with torch.no_grad():
                eager = median_ms(lambda net=network, x=picture: net(x), runs)
            feed = {engine.input_names[0]: picture.numpy()}
            onnx = median_ms(lambda run=engine.run, inputs=feed: run(inputs), runs)
            rows.append((name, size, eager, onnx))
    return rows


def padding_cost(folder: Path, runs: int) -> dict[int, float]:
    """{size: median of (replicate ms / zeros ms)} for the slim layout through ONNX Runtime, the two runs of
    each pair taken back to back, so that a busy machine slows both alike and the ratio stays readable."""
    engines = {}
    for padding in ("replicate", "zeros"):
        torch.manual_seed(0)
        network = Pix2PixGenerator(Pix2PixConfig(base_channels=16, depth=7, upsample="resize", padding=padding)).eval()
        path = folder / f"pair-{padding}.onnx"
        export(network, path, provenance={"command": "bench/pix2pix_bench.py (random weights)"})
        engines[padding] = Engine.load(path, EngineConfig(providers="cpu"))
    ratios = {}
    for size in SIZES:
        feed = {engines["zeros"].input_names[0]: np.random.default_rng(0).uniform(-1, 1, (1, 1, size, size)).astype(np.float32)}
        pairs = []
        for _ in range(3 * runs):
            replicate, zeros = (median_ms(lambda run=engines[name].run: run(feed), 1) for name in ("replicate", "zeros"))
            pairs.append(replicate / zeros)
        ratios[size] = float(np.median(pairs))
    return ratios


def live_loop(folder: Path, seconds: float, runs: int) -> tuple[dict, float]:
    """(the loop's figures, the demo model alone in ms) at LIVE_SIZE."""
    clip = folder / "clip.mp4"
    from skimage import data

    with VideoWriter(clip, 320, 320, 30) as writer:
        for frame in camera_move(data.astronaut(), 90, 320, np.random.default_rng(0)):
            writer.write(frame)
    show = {"name": "bench-pix2pix", "output": {"width": LIVE_SIZE, "height": LIVE_SIZE, "fps": 60},
            "engine": {"providers": "cpu"},
            "scenes": [{"name": "snow", "kind": "pipeline", "model": str(DEMO_MODEL),
                        "source": {"kind": "video", "path": str(clip)},
                        "chain": [{"fit": {"width": LIVE_SIZE, "height": LIVE_SIZE}}]}]}
    path = folder / "pix2pix.yaml"
    path.write_text(yaml.safe_dump(show))
    figures = run_loop(path, seconds)
    engine = Engine.load(DEMO_MODEL, EngineConfig(providers="cpu"))
    io = ImageModelIO(engine.card)
    feed = {engine.input_names[0]: io.to_input(np.zeros((LIVE_SIZE, LIVE_SIZE, 3), np.uint8)).copy()}
    return figures, median_ms(lambda: engine.run(feed), runs)


def markdown(rows, ratios: dict[int, float], loop: dict, model_ms: float) -> str:
    lines = [f"Generators, median ms per frame, {torch.get_num_threads()} torch threads, ONNX Runtime CPU provider",
             "", "| generator | size | PyTorch eager ms | ONNX Runtime ms | eager / ONNX |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, size, eager, onnx in rows:
        lines.append(f"| {name} | {size}x{size} | {eager:.1f} | {onnx:.1f} | {eager / onnx:.2f} |")
    lines += ["", "Replicate padding's cost, slim layout, ONNX Runtime, runs taken in back-to-back pairs: "
              + ", ".join(f"{size}x{size} {ratio:.2f}x the zero-padded time" for size, ratio in ratios.items())]
    step = loop["inference_step_ms"]["p50"]
    lines += ["", f"Live loop, `{DEMO_MODEL.name}` at {LIVE_SIZE}x{LIVE_SIZE}, a video standing in for the camera",
              "", "| output fps | new frames/s | loop step p50 ms | model-only ms | model / step |",
              "| ---: | ---: | ---: | ---: | ---: |",
              f"| {loop['fps']:.1f} | {loop['new_per_second']:.1f} | {step:.1f} | {model_ms:.1f} | {model_ms / step:.2f} |"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed frames per measurement (median reported)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of the live loop")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        rows = generator_rows(folder, args.runs)
        ratios = padding_cost(folder, args.runs)
        loop, model_ms = live_loop(folder, args.seconds, args.runs)
    table = markdown(rows, ratios, loop, model_ms)
    publish(table, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
