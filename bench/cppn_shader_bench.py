"""CPPN per frame: the renderer's GL shader against ONNX Runtime, at 640x360, 1920x1080 and 3840x2160.

Exports the default CPPN (z_dim 8, c_dim 3, net_size 32, depth 3, tanh) into a
temporary directory, opens the headless renderer (EGL: Mesa's llvmpipe on a
machine without a GPU, the GPU's driver on one), and times in one run, per size,
the median of N frames of: the shader drawing the frame into the renderer's
layer texture, up to glFinish (the picture stays on the GPU, as on stage); and
ONNX Runtime computing the same frame as a CPPN scene does on the CPU (the fused
graph in cache-sized tiles, one worker per physical core: live.inference.tiles).
It first checks that both give the same pixels at the smallest size.

    .venv/bin/python -m bench.cppn_shader_bench --runs 3 --markdown out/bench_cppn_shader.md
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from bench.measure import median_ms, publish
from live.core.imaging import to_uint8
from live.inference.tiles import PixelTiles
from live.scenes.cppn_shader import fragment_source, shader_picture
from live.output.render import RenderConfig, open_renderer
from live.scenes.cppn_math import coordinates
from live.inference.cppn_weights import read_cppn_weights

SIZES = ((640, 360), (1920, 1080), (3840, 2160))  # (width, height)


def export_cppn(directory: Path) -> Path:
    from exporters.onnx import export
    from trainers.cppn.model import CPPN, CPPNConfig

    path = directory / "cppn.onnx"
    export(CPPN(CPPNConfig()), path)
    return path



def benchmark(runs: int, sizes: tuple[tuple[int, int], ...]) -> tuple[list[dict], str, str, int]:
    with tempfile.TemporaryDirectory() as directory:
        path = export_cppn(Path(directory))
        tiles = PixelTiles(path, 3, 32)
        weights = read_cppn_weights(path)
    program = fragment_source(weights, "cppn.onnx")
    z = np.random.default_rng(0).uniform(-1, 1, weights.card.z_dim).astype(np.float32)
    scale = weights.card.scale
    rows, gl_renderer, worst = [], "", 0
    for width, height in sizes:
        renderer = open_renderer(RenderConfig(vsync=False, fit="stretch"), (width, height), headless=True,
                                 surface_size=(width, height) if width <= 640 else (64, 64))
        from pyglet import gl

        gl_renderer = gl.gl_info.get_renderer()
        frame = shader_picture(program, weights, z, scale, width, height, keep_aspect=False)
        inputs = {"coords": coordinates(width, height), "z": z.reshape(1, -1), "scale": np.array([scale], np.float32)}

        def draw(frame=frame, renderer=renderer) -> None:
            renderer.upload(1, frame)
            gl.glFinish()  # the GPU (or llvmpipe's threads) has finished the frame

        if width <= 640:  # the same pixels, checked through the crossfade onto the window
            draw()
            renderer.draw(1.0)
            shown = renderer.read_pixels().astype(int)
            expected = to_uint8(tiles.run(inputs["coords"], inputs["z"], inputs["scale"]), (0.0, 1.0)).astype(int)
            worst = int(np.abs(shown - expected).max())
            if worst > 2:
                raise SystemExit(f"the shader and ONNX Runtime disagree at {width}x{height}: {worst} levels")
        shader = median_ms(draw, runs)
        renderer.close()
        ours = median_ms(lambda i=inputs: tiles.run(i["coords"], i["z"], i["scale"]), runs)
        rows.append({"width": width, "height": height, "shader_ms": shader, "onnx_ms": ours,
                     "ratio": ours / shader})
    return rows, gl_renderer, f"CPUExecutionProvider, tiles on {tiles.workers} workers", worst


def markdown(rows: list[dict], gl_renderer: str, providers: str, runs: int, worst: int) -> str:
    lines = [
        (f"CPPN z_dim 8, c_dim 3, net_size 32, depth 3, tanh; median of {runs} frames; shader = the renderer's "
         f"GL shader into its layer texture, to glFinish, on {gl_renderer}; ONNX = {providers}; "
         f"pixels agree within {worst} levels of 255"),
        "",
        "| size | shader ms | ONNX Runtime ms | ONNX / shader | shader fps |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['width']}x{r['height']} | {r['shader_ms']:.1f} | {r['onnx_ms']:.1f} | {r['ratio']:.2f} "
              f"| {1000.0 / r['shader_ms']:.1f} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cppn_shader_bench", description="CPPN ms/frame: GL shader vs ONNX Runtime")
    parser.add_argument("--runs", type=int, default=3, help="timed frames per size (median reported)")
    parser.add_argument("--max-width", type=int, default=3840, help="skip sizes wider than this")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    sizes = tuple(size for size in SIZES if size[0] <= args.max_width)
    rows, gl_renderer, providers, worst = benchmark(args.runs, sizes)
    table = markdown(rows, gl_renderer, providers, args.runs, worst)
    publish(table, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
