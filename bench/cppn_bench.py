"""CPPN cost per frame: our ONNX path (Engine.run) against plain numpy with the same weights.

Exports a CPPN (default config: z_dim 8, c_dim 3, net_size 32, depth 3, tanh)
into a temporary directory, checks that numpy and the engine agree, then times
the median of N frames at each size and prints a Markdown table: ms per frame
for both, the numpy/ours ratio, and ms per megapixel so the growth with pixel
count shows. torch is imported only to build and export the network.

    .venv/bin/python -m bench.cppn_bench --runs 5 --markdown bench/cppn.md
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from live.scenes.cppn_math import coordinates
from live.inference.engine import Engine, EngineConfig

SIZES = ((640, 360), (1920, 1080), (3840, 2160))  # (width, height)
AGREEMENT_TOLERANCE = 1e-4  # absolute, on colours in [0, 1]


def export_cppn(directory: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """Export the default CPPN; returns the file and its weights as float32 numpy arrays."""
    from exporters.onnx import export
    from trainers.cppn.model import CPPN, CPPNConfig

    network = CPPN(CPPNConfig())
    path = directory / "cppn.onnx"
    export(network, path)
    weights = {name: tensor.detach().numpy().astype(np.float32) for name, tensor in network.state_dict().items()}
    return path, weights


def numpy_cppn(weights: dict[str, np.ndarray], coords: np.ndarray, z: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The tanh CPPN written out in numpy: (H, W, 3) coords -> (H, W, c_dim) colours."""
    latent = (z * scale) @ weights["from_latent.weight"].T + weights["from_latent.bias"]  # (1, n)
    h = np.tanh(scale * (coords @ weights["from_coords.weight"].T) + latent)  # (H, W, n)
    layer = 0
    while f"hidden.{layer}.weight" in weights:
        h = np.tanh(h @ weights[f"hidden.{layer}.weight"].T + weights[f"hidden.{layer}.bias"])
        layer += 1
    out = h @ weights["to_colour.weight"].T + weights["to_colour.bias"]
    return 1.0 / (1.0 + np.exp(-out))


def median_ms(render: Callable[[], object], runs: int) -> float:
    render()  # first run allocates; not timed
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        render()
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def inputs_for(width: int, height: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "coords": coordinates(width, height),
        "z": rng.uniform(-1, 1, (1, 8)).astype(np.float32),
        "scale": np.array([8.0], np.float32),
    }


def check_agreement(engine: Engine, weights: dict[str, np.ndarray], width: int, height: int) -> float:
    inputs = inputs_for(width, height)
    ours = engine.run(inputs)["image"]
    reference = numpy_cppn(weights, inputs["coords"], inputs["z"], inputs["scale"])
    error = float(np.max(np.abs(ours - reference)))
    if error > AGREEMENT_TOLERANCE:
        raise SystemExit(f"numpy and the engine disagree at {width}x{height}: max abs error {error:.3g}")
    return error


def benchmark(runs: int, sizes: tuple[tuple[int, int], ...]) -> tuple[list[dict[str, float]], str, float]:
    with tempfile.TemporaryDirectory() as directory:
        path, weights = export_cppn(Path(directory))
        engine = Engine.load(path, EngineConfig(providers="auto"))
    error = check_agreement(engine, weights, *sizes[0])
    rows = []
    for width, height in sizes:
        inputs = inputs_for(width, height)
        ours = median_ms(lambda: engine.run(inputs), runs)
        reference = median_ms(lambda: numpy_cppn(weights, inputs["coords"], inputs["z"], inputs["scale"]), runs)
        megapixels = width * height / 1e6
        rows.append({"width": width, "height": height, "megapixels": megapixels, "ours_ms": ours,
                     "numpy_ms": reference, "ratio": reference / ours,
                     "ours_ms_per_mp": ours / megapixels, "numpy_ms_per_mp": reference / megapixels})
    return rows, ", ".join(engine.providers), error


def markdown(rows: list[dict[str, float]], providers: str, runs: int, error: float) -> str:
    lines = [
        f"CPPN z_dim 8, c_dim 3, net_size 32, depth 3, tanh; median of {runs} frames; "
        f"ours = Engine.run on {providers}; max |ours - numpy| {error:.1e}",
        "",
        "| size | MP | ours ms | numpy ms | numpy/ours | ours ms/MP | numpy ms/MP |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['width']}x{r['height']} | {r['megapixels']:.2f} | {r['ours_ms']:.1f} | {r['numpy_ms']:.1f} "
        f"| {r['ratio']:.2f} | {r['ours_ms_per_mp']:.1f} | {r['numpy_ms_per_mp']:.1f} |"
        for r in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cppn_bench", description="CPPN ms/frame: ONNX engine vs numpy")
    parser.add_argument("--runs", type=int, default=5, help="timed frames per size (median reported)")
    parser.add_argument("--max-width", type=int, default=3840, help="skip sizes wider than this")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    sizes = tuple(size for size in SIZES if size[0] <= args.max_width)
    rows, providers, error = benchmark(args.runs, sizes)
    table = markdown(rows, providers, args.runs, error)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
