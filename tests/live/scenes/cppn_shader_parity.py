"""Run by test_cppn_shader.py in its own process under Xvfb: each CPPN model drawn by the renderer's
shader and by ONNX Runtime at several sizes; prints one JSON line of differences per model and size.

    python -m tests.live.scenes.cppn_shader_parity MODEL.onnx... --sizes 64x36,97x61
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from live.inference.engine import Engine, EngineConfig
from live.output.render import RenderConfig, open_renderer
from live.scenes.contract import Moment, defaults
from live.scenes.cppn import CppnScene, CppnSceneConfig


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--sizes", default="64x36")
    parser.add_argument("--headless", action="store_true")
    args = parser.parse_args()
    for size in args.sizes.split(","):
        width, height = map(int, size.split("x"))
        renderer = open_renderer(RenderConfig(width=width, height=height, vsync=False, fit="stretch"),
                                 (width, height), headless=args.headless)
        for path in args.models:
            engine = Engine.load(path, EngineConfig(providers="cpu"))
            onnx_scene = CppnScene("onnx", engine, CppnSceneConfig(seed=3, backend="onnx"))
            shader_scene = CppnScene("shader", engine, CppnSceneConfig(seed=3, backend="shader"))
            shader_scene.attach_renderer(renderer)
            assert shader_scene.backend == "shader" and onnx_scene.backend == "onnx"
            for t in (0.0, 1.7):
                moment = Moment(t, {**defaults(onnx_scene.parameters), "scale": onnx_scene.base_scale * 1.3})
                expected = onnx_scene.render(moment, width, height).astype(int)
                renderer.upload(1, shader_scene.render(moment, width, height))
                renderer.draw(1.0)
                actual = renderer.read_pixels().astype(int)
                difference = np.abs(actual - expected)
                print(json.dumps({"model": path, "size": size, "t": t, "shape": list(actual.shape),
                                  "max": int(difference.max()), "mean": float(difference.mean()),
                                  "over_2": float((difference > 2).mean()), "std": float(expected.std())}),
                      flush=True)
        renderer.close()


if __name__ == "__main__":
    main()
