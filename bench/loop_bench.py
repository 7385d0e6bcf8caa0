"""The headless live loop against the model alone, for each model kind.

For each kind (cppn; pix2pix and style behind the moving test pattern) this
exports a small network with random weights into a temporary folder, writes a
one-scene show, and runs `latentstage run --headless` in a fresh process:
paced at 30 and 60 fps: output fps, frame-interval and capture-to-display
percentiles, dropped results, and the inference thread's step time (source
frame, filters, pre/post-processing, model, copies). It then times the model
alone (Engine.run at the same input size) and reports model-only time / loop
step time: 1.0 would mean the loop adds nothing around the model.
torch is used only to build and export the networks.

    .venv/bin/python -m bench.loop_bench --seconds 10 --markdown out/bench_loop.md
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from bench.measure import publish
from live.inference.engine import Engine, EngineConfig
from live.inference.model_io import ImageModelIO
from live.scenes.contract import Moment, defaults
from live.scenes.cppn import CppnScene, CppnSceneConfig

OUTPUT = (640, 360)  # (width, height) of the show; models run at half that (render_scale 0.5)
RENDER = (320, 180)
FPS_TARGETS = (30, 60)
PATTERN_FPS = 240  # the test pattern outruns every model here, so each step has a new frame


def export_models(folder: Path) -> dict[str, Path]:
    import torch

    from exporters.onnx import export
    from trainers.cppn.model import CPPN, CPPNConfig
    from trainers.pix2pix.model import Pix2PixConfig, Pix2PixGenerator
    from trainers.style.model import StyleConfig, StyleNetwork

    torch.manual_seed(0)
    networks = {
        "cppn": CPPN(CPPNConfig()),
        "pix2pix": Pix2PixGenerator(Pix2PixConfig(in_channels=1, base_channels=16, depth=4)),
        "style": StyleNetwork(StyleConfig(base_channels=16, residual_blocks=5)),
    }
    paths = {}
    for kind, network in networks.items():
        paths[kind] = folder / f"{kind}.onnx"
        export(network.eval(), paths[kind], provenance={"command": "bench/loop_bench.py (random weights)"})
    return paths


def show_file(folder: Path, kind: str, model: Path, fps: float) -> Path:
    # the scene is not named after its kind: a scene "cppn" would collide with the kind's alias cppn.scale
    if kind == "cppn":
        scene = {"name": "bench", "kind": "cppn", "model": str(model), "cppn": {"period": 2.0}}
    else:
        chain = [{"canny": {"sigma": 0.33}}] if kind == "pix2pix" else []
        scene = {"name": "bench", "kind": "pipeline", "model": str(model), "chain": chain,
                 "source": {"kind": "pattern", "width": RENDER[0], "height": RENDER[1], "fps": PATTERN_FPS}}
    show = {"name": f"bench-{kind}", "output": {"width": OUTPUT[0], "height": OUTPUT[1], "fps": fps,
                                                 "render_scale": RENDER[0] / OUTPUT[0]},
            "engine": {"providers": "cpu"}, "scenes": [scene]}
    path = folder / f"{kind}-{fps}.yaml"
    path.write_text(yaml.safe_dump(show))
    return path


def run_loop(show: Path, seconds: float) -> dict:
    stats = show.with_suffix(".json")
    command = [sys.executable, "-m", "live", "run", str(show), "--headless", "--seconds", str(seconds),
               "--stats-json", str(stats)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    figures = json.loads(stats.read_text())
    figures["new_per_second"] = figures["new_frames"] / seconds
    return figures


def model_only_ms(kind: str, model: Path, runs: int) -> float:
    """Median ms of one model run at the loop's input size, inputs prepared once (no source, no filters)."""
    engine = Engine.load(model, EngineConfig(providers="cpu"))
    if kind == "cppn":
        scene = CppnScene("bench", engine, CppnSceneConfig())
        inputs = scene.inputs_at(Moment(0.0, defaults(scene.parameters)), *RENDER)
    else:
        io = ImageModelIO(engine.card)
        inputs = {engine.input_names[0]: io.to_input(np.zeros((RENDER[1], RENDER[0], 3), np.uint8)).copy()}
    engine.warm_up(inputs)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        engine.run(inputs)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per loop run")
    parser.add_argument("--runs", type=int, default=30, help="model-only runs to time")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        models = export_models(folder)
        for kind, model in models.items():
            model_ms = model_only_ms(kind, model, args.runs)
            for fps in FPS_TARGETS:
                paced = run_loop(show_file(folder, kind, model, fps), args.seconds)
                rows.append((kind, fps, paced, model_ms))
    table = _table(rows)
    publish(table, args.markdown)
    return 0


def _table(rows) -> str:
    lines = [
        f"Headless live loop, show {OUTPUT[0]}x{OUTPUT[1]}, models at {RENDER[0]}x{RENDER[1]}, CPUExecutionProvider",
        "",
        "| model | target fps | output fps | new frames/s | interval p50 / p99 ms | latency p50 / p99 ms "
        "| dropped | loop step p50 ms | model-only ms | model / step |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, fps, paced, model_ms in rows:
        interval, latency, step = paced["frame_interval_ms"], paced["latency_ms"], paced["inference_step_ms"]
        lines.append(
            f"| {kind} | {fps} | {paced['fps']:.1f} | {paced['new_per_second']:.1f} "
            f"| {interval['p50']:.1f} / {interval['p99']:.1f} | {latency['p50']:.1f} / {latency['p99']:.1f} "
            f"| {paced['dropped']} | {step['p50']:.1f} | {model_ms:.1f} | {model_ms / step['p50']:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
