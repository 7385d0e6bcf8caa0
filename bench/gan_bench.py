"""GAN generators: ONNX Runtime against PyTorch eager, and the gan scene in the live loop.

Part 1, in one process: for the generator layout of the shipped file (read from
its card: resolution, latent sizes, mapping layers, channel widths; or the
layout given on the command line), the median ms per picture (one latent,
truncation 0.7) in PyTorch eager (no_grad, eval, the same fixed noise) and
through our runner (live.inference.gan_generator on ONNX Runtime's CPU
provider), and their ratio. Random weights: the time does not depend on them.
The shipped file itself is timed through the runner too.

Part 2: `latentstage run --headless` with a one-scene show, the shipped
generator's walk fitted to a 640x360 stage (rendered at 320x180), paced at 30
and 60 fps, and at 30 with the scene drawn through the shipped super-resolution
model (64 -> 256 pixels): new frames a second, the inference step against the
generator alone.

    .venv/bin/python -m bench.gan_bench --markdown out/bench_gan.md
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
from exporters.gan import GanGraph, export_gan
from live.inference.engine import EngineConfig, read_card
from live.inference.gan_generator import GanGenerator, gaussian_latents
from trainers.gan.model import GanConfig, Generator

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "models" / "gan-paintings.onnx"
SHIPPED_SR = REPO / "models" / "sr-paintings.onnx"
STAGE = (640, 360)
RENDER_SCALE = 0.5
PSI = 0.7


def layout_of(model: Path) -> GanConfig:
    """The generator layout a file's card records."""
    card = read_card(model)
    extra = card.extra
    return GanConfig(resolution=card.resolution, z_dim=card.z_dim, w_dim=card.w_dim,
                     mapping_layers=int(extra["mapping_layers"]), channel_base=int(extra["channel_base"]),
                     channel_max=int(extra["channel_max"]))


def generator_times(config: GanConfig, folder: Path, runs: int) -> tuple[float, float]:
    """(eager ms, ONNX Runtime ms) per picture of a random-weights generator of this layout."""
    torch.manual_seed(0)
    generator = Generator(config).eval()
    path = folder / "twin.onnx"
    export_gan(generator, path, provenance={"command": "bench/gan_bench.py (random weights)"})
    graph = GanGraph(generator).eval()
    z = torch.from_numpy(gaussian_latents(0, 1, config.z_dim))
    psi = torch.full((1,), PSI)
    with torch.no_grad():
        eager = median_ms(lambda: graph(z, psi), runs)
    runner = GanGenerator.load(path, EngineConfig(providers="cpu"))
    return eager, median_ms(lambda: runner.picture(z.numpy()[0], PSI), runs)


def runner_ms(model: Path, runs: int) -> float:
    runner = GanGenerator.load(model, EngineConfig(providers="cpu"))
    z = gaussian_latents(1, 1, runner.z_dim)[0]
    return median_ms(lambda: runner.picture(z, PSI), runs)


def live_loop(model: Path, folder: Path, fps: int, seconds: float, upscale: Path | None = None) -> dict:
    scene = {"name": "painter", "kind": "gan", "model": str(model), "gan": {"period": 2.0}}
    if upscale is not None:
        scene["upscale"] = str(upscale)
    show = {"name": "bench-gan", "engine": {"providers": "cpu"},
            "output": {"width": STAGE[0], "height": STAGE[1], "fps": fps, "render_scale": RENDER_SCALE},
            "scenes": [scene]}
    path = folder / f"gan-{fps}{'-sharp' if upscale is not None else ''}.yaml"
    path.write_text(yaml.safe_dump(show))
    return run_loop(path, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=SHIPPED, help="GAN file (default the shipped one)")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per figure")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per live-loop run")
    parser.add_argument("--upscale", type=Path, default=SHIPPED_SR if SHIPPED_SR.exists() else None,
                        help="an sr file for one more loop run with the scene drawn through it (default the shipped one)")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    config = layout_of(args.model)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        eager, ort = generator_times(config, folder, args.runs)
        shipped = runner_ms(args.model, args.runs)
        loops = {str(fps): live_loop(args.model, folder, fps, args.seconds) for fps in (30, 60)}
        if args.upscale is not None:
            loops[f"30, through {args.upscale.name}"] = live_loop(args.model, folder, 30, args.seconds, args.upscale)
    side = config.resolution
    lines = [
        f"GAN generator {side}x{side} (z {config.z_dim}, w {config.w_dim}, mapping {config.mapping_layers}, "
        f"channels min({config.channel_max}, {config.channel_base}/r)), one picture at psi {PSI}, median ms, "
        f"{torch.get_num_threads()} torch threads, ONNX Runtime CPU provider",
        "",
        "| generator | PyTorch eager ms | ONNX Runtime ms | eager / ORT |",
        "| --- | ---: | ---: | ---: |",
        f"| same layout, random weights | {eager:.1f} | {ort:.1f} | {eager / ort:.2f}x |",
        f"| {args.model.name} | - | {shipped:.1f} | - |",
        "",
        f"Live loop, `latentstage run --headless`, one gan scene ({args.model.name}) fitted to {STAGE[0]}x{STAGE[1]} "
        f"(rendered at {int(STAGE[0] * RENDER_SCALE)}x{int(STAGE[1] * RENDER_SCALE)}), {args.seconds:g} s each",
        "",
        "| target fps | output fps | new frames/s | loop step p50 ms | generator alone ms |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for fps, figures in loops.items():
        lines.append(f"| {fps} | {figures['fps']:.1f} | {figures['new_per_second']:.1f} "
                     f"| {figures['inference_step_ms']['p50']:.1f} | {shipped:.1f} |")
    publish("\n".join(lines), args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
