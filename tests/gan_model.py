"""A tiny GAN generator file for the live side's tests, written straight as an ONNX graph (no torch).

It keeps the GAN file contract (GAN-CONTRACT.md, live.inference.gan_generator): `z` (N, z_dim) and
`truncation` (N,) in, `image` (N, 3, R, R) in [0, 1] out, a mapping to w, the mean w that
truncation pulls towards, and a card of kind gan. The "synthesis" is one seeded linear layer and a
sigmoid: nothing learnt, but every latent gives its own picture, nearby latents give nearby
pictures and psi 0 gives the mean picture, which is all the live side needs to be seen working.
The trainer's real exporter is tested on its own side (tests/exporters).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from live.inference.model_card import ModelCard


def write_tiny_gan(path: Path, resolution: int = 16, z_dim: int = 8, w_dim: int = 8, seed: int = 0,
                   kind: str = "gan") -> Path:
    rng = np.random.default_rng(seed)
    pixels = 3 * resolution * resolution
    tensors = {
        "mapping": (rng.standard_normal((z_dim, w_dim)) / np.sqrt(z_dim)).astype(np.float32),
        "w_avg": (rng.standard_normal((1, w_dim)) * 0.1).astype(np.float32),
        # smooth pictures: each w dimension paints a blurred random pattern
        "synthesis": (_smooth_patterns(rng, w_dim, resolution).reshape(w_dim, pixels) * 2.5).astype(np.float32),
        "shape": np.array([-1, 3, resolution, resolution], dtype=np.int64),
        "column": np.array([-1, 1], dtype=np.int64),
    }
    nodes = [
        helper.make_node("MatMul", ["z", "mapping"], ["mapped"]),
        helper.make_node("Tanh", ["mapped"], ["w"]),
        helper.make_node("Sub", ["w", "w_avg"], ["offset"]),
        helper.make_node("Reshape", ["truncation", "column"], ["psi"]),
        helper.make_node("Mul", ["offset", "psi"], ["pulled"]),
        helper.make_node("Add", ["pulled", "w_avg"], ["w_truncated"]),
        helper.make_node("MatMul", ["w_truncated", "synthesis"], ["flat"]),
        helper.make_node("Sigmoid", ["flat"], ["flat_image"]),
        helper.make_node("Reshape", ["flat_image", "shape"], ["image"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_gan",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", z_dim]),
         helper.make_tensor_value_info("truncation", TensorProto.FLOAT, ["N"])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, resolution, resolution])],
        [numpy_helper.from_array(value, name) for name, value in tensors.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    card = ModelCard(kind=kind, input="latent", output_layout="NCHW", output_range=(0.0, 1.0),
                     native_size=(resolution, resolution), z_dim=z_dim, w_dim=w_dim, resolution=resolution,
                     command="tests/gan_model.py write_tiny_gan", data="none (seeded weights, untrained)")
    helper.set_model_props(model, card.to_metadata())
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def _smooth_patterns(rng: np.random.Generator, count: int, resolution: int) -> np.ndarray:
    """(count, 3, R, R) float32 low-frequency random patterns."""
    coarse = rng.standard_normal((count, 3, 4, 4)).astype(np.float32)
    step = resolution // 4
    return np.repeat(np.repeat(coarse, step, axis=2), step, axis=3)
