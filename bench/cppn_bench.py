"""CPPN cost per frame on the CPU: our path against plain numpy, and against the machine's GEMM rate.

Exports a CPPN (default config: z_dim 8, c_dim 3, net_size 32, depth 3, tanh)
into a temporary directory, checks that numpy and ours agree, then times the
median of N frames at each size. "Ours" is what a CPPN scene runs on the CPU:
the fused graph in cache-sized tiles on one worker per physical core
(live.inference.tiles); "whole frame" is Engine.run over the frame at once (the
fused graph, ORT's intra-op threads = physical cores), for comparison. In the
same run it measures the machine's float32 matrix-multiply rate on products of
the CPPN's own shape, (pixels, 32) @ (32, 32) plus bias at 1920x1080: ONNX
Runtime's Gemm over the whole frame, over cache-sized tiles on the same workers,
and numpy's matmul; the fastest is the machine's rate, and our achieved GFLOP/s
(the network's multiply-adds per frame over its time) is shown as a fraction of
it. Prints a Markdown table. torch is imported only to build and export the network.

    .venv/bin/python -m bench.cppn_bench --runs 5 --markdown out/bench_cppn.md
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from bench.measure import median_ms, publish
from live.inference.cpu_threads import physical_cores
from live.inference.engine import Engine, EngineConfig
from live.inference.tiles import PixelTiles
from live.scenes.cppn_math import coordinates

SIZES = ((640, 360), (1920, 1080), (3840, 2160))  # (width, height)
GEMM_SIZE = (1920, 1080)  # the matrix-multiply rate is measured on a frame of this many pixels
AGREEMENT_TOLERANCE = 1e-4  # absolute, on colours in [0, 1]
NET_SIZE, DEPTH, Z_DIM, C_DIM = 32, 3, 8, 3


def export_cppn(directory: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """Export the default CPPN; returns the file and its weights as float32 numpy arrays."""
    from exporters.onnx import export
    from trainers.cppn.model import CPPN, CPPNConfig

    network = CPPN(CPPNConfig(z_dim=Z_DIM, c_dim=C_DIM, net_size=NET_SIZE, depth=DEPTH))
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


def flops_per_pixel(net_size: int = NET_SIZE, depth: int = DEPTH, c_dim: int = C_DIM) -> int:
    """Multiply-adds of the per-pixel layers, counted as 2 FLOPs each (activations not counted)."""
    return 2 * (3 * net_size + depth * net_size * net_size + net_size * c_dim)



def inputs_for(width: int, height: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "coords": coordinates(width, height),
        "z": rng.uniform(-1, 1, (1, Z_DIM)).astype(np.float32),
        "scale": np.array([8.0], np.float32),
    }


def check_agreement(tiles: PixelTiles, weights: dict[str, np.ndarray], width: int, height: int) -> float:
    inputs = inputs_for(width, height)
    ours = tiles.run(inputs["coords"], inputs["z"], inputs["scale"])
    reference = numpy_cppn(weights, inputs["coords"], inputs["z"], inputs["scale"])
    error = float(np.max(np.abs(ours - reference)))
    if error > AGREEMENT_TOLERANCE:
        raise SystemExit(f"numpy and ours disagree at {width}x{height}: max abs error {error:.3g}")
    return error


def _gemm_model(n: int) -> bytes:
    """(rows, n) @ (n, n) + bias as one ONNX Gemm: a hidden layer without its activation."""
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal((n, n)).astype(np.float32), "w"),
               numpy_helper.from_array(rng.standard_normal(n).astype(np.float32), "b")]
    graph = helper.make_graph([helper.make_node("Gemm", ["x", "w", "b"], ["y"])], "gemm",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", n])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", n])], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()


def gemm_rates(runs: int, width: int, height: int, n: int = NET_SIZE) -> dict[str, float]:
    """GFLOP/s of (H*W, n) @ (n, n) + bias: ONNX Runtime's Gemm over the whole matrix (physical_cores()
    intra-op threads) and over tiles of PixelTiles' size on one worker per physical core, and numpy."""
    from concurrent.futures import ThreadPoolExecutor

    x = np.random.default_rng(1).standard_normal((width * height, n)).astype(np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads = physical_cores()
    whole = ort.InferenceSession(_gemm_model(n), options, providers=["CPUExecutionProvider"])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    single = ort.InferenceSession(_gemm_model(n), options, providers=["CPUExecutionProvider"])
    tile, workers = PixelTiles.tile_for(n), physical_cores()
    out = np.empty_like(x)

    def share(worker: int) -> None:
        for start in range(worker * tile, x.shape[0], workers * tile):
            out[start:start + tile] = single.run(None, {"x": x[start:start + tile]})[0]

    with ThreadPoolExecutor(workers) as pool:
        def tiled() -> None:
            for done in [pool.submit(share, worker) for worker in range(workers)]:
                done.result()

        w = np.random.default_rng(2).standard_normal((n, n)).astype(np.float32)
        gflop = 2.0 * x.shape[0] * n * n / 1e9
        return {
            "ort": gflop / (median_ms(lambda: whole.run(None, {"x": x}), runs) / 1000.0),
            "ort_tiles": gflop / (median_ms(tiled, runs) / 1000.0),
            "numpy": gflop / (median_ms(lambda: np.matmul(x, w, out=out), runs) / 1000.0),
        }


def benchmark(runs: int, sizes: tuple[tuple[int, int], ...]) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        path, weights = export_cppn(Path(directory))
        engine = Engine.load(path, EngineConfig(providers="auto"))
        tiles = PixelTiles(path, C_DIM, NET_SIZE)
    error = check_agreement(tiles, weights, *sizes[0])
    rates = gemm_rates(runs, *GEMM_SIZE)
    machine = max(rates.values())
    rows = []
    for width, height in sizes:
        inputs = inputs_for(width, height)
        ours = median_ms(lambda i=inputs: tiles.run(i["coords"], i["z"], i["scale"]), runs)
        whole = median_ms(lambda i=inputs: engine.run(i), runs)
        reference = median_ms(lambda i=inputs: numpy_cppn(weights, i["coords"], i["z"], i["scale"]), runs)
        gflops = flops_per_pixel() * width * height / 1e9 / (ours / 1000.0)
        rows.append({"width": width, "height": height, "megapixels": width * height / 1e6, "ours_ms": ours,
                     "whole_ms": whole, "numpy_ms": reference, "ratio": reference / ours, "ours_gflops": gflops,
                     "of_gemm": gflops / machine})
    return {"rows": rows, "providers": ", ".join(engine.providers), "error": error, "rates": rates,
            "threads": physical_cores(), "tile": tiles.tile}


def markdown(result: dict, runs: int) -> str:
    rates = result["rates"]
    lines = [
        (f"CPPN z_dim {Z_DIM}, c_dim {C_DIM}, net_size {NET_SIZE}, depth {DEPTH}, tanh "
         f"({flops_per_pixel()} FLOP/pixel); median of {runs} frames; ours = the fused graph in tiles of "
         f"{result['tile']} pixels on {result['threads']} workers (one per physical core), CPUExecutionProvider; "
         f"whole frame = Engine.run on {result['providers']} with {result['threads']} intra-op threads; "
         f"max |ours - numpy| {result['error']:.1e}"),
        (f"float32 GEMM (pixels, {NET_SIZE}) @ ({NET_SIZE}, {NET_SIZE}) + bias at {GEMM_SIZE[0]}x{GEMM_SIZE[1]}: "
         f"ONNX Runtime whole {rates['ort']:.1f} GFLOP/s, ONNX Runtime in tiles {rates['ort_tiles']:.1f} GFLOP/s, "
         f"numpy {rates['numpy']:.1f} GFLOP/s; the machine's rate = the fastest, {max(rates.values()):.1f} GFLOP/s"),
        "",
        "| size | MP | ours ms | whole frame ms | numpy ms | numpy/ours | ours GFLOP/s | of GEMM rate |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['width']}x{r['height']} | {r['megapixels']:.2f} | {r['ours_ms']:.1f} | {r['whole_ms']:.1f} "
        f"| {r['numpy_ms']:.1f} | {r['ratio']:.2f} | {r['ours_gflops']:.1f} | {r['of_gemm']:.2f} |"
        for r in result["rows"]
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cppn_bench", description="CPPN ms/frame on the CPU: ours vs numpy vs GEMM")
    parser.add_argument("--runs", type=int, default=5, help="timed frames per size (median reported)")
    parser.add_argument("--max-width", type=int, default=1920, help="skip sizes wider than this (3840: add 4K)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    sizes = tuple(size for size in SIZES if size[0] <= args.max_width)
    table = markdown(benchmark(args.runs, sizes), args.runs)
    publish(table, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
