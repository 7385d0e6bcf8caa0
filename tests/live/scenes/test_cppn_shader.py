"""The CPPN as a GLSL shader: generated from the model file, drawn by the renderer under Xvfb
(Mesa's llvmpipe runs the same shader a GPU would), the same pixels as ONNX Runtime's."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from exporters.onnx import export
from live.scenes.cppn_shader import fragment_source
from live.inference.cppn_weights import read_cppn_weights
from tests.conftest import REPO
from tests.onnx_graph import export_unfused_cppn
from trainers.cppn.model import ARCHITECTURES, CPPN, CPPNConfig

SIZES = "64x36,97x61,160x90"  # one odd in both sides


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> list[str]:
    """Every architecture (net 6: the shader pads units to whole vec4s), a gray one, and a file
    exported before the fused graph (its weights stored transposed, z times the scale input)."""
    folder = tmp_path_factory.mktemp("shader-models")
    paths = []
    for arch in ARCHITECTURES:
        export(CPPN(CPPNConfig(arch=arch, net_size=6, depth=2, seed=1)), folder / f"{arch}.onnx")
        paths.append(folder / f"{arch}.onnx")
    export(CPPN(CPPNConfig(c_dim=1, net_size=8, depth=2, seed=2)), folder / "gray.onnx")
    old = CPPN(CPPNConfig(net_size=8, depth=3, scale=3.0, seed=4))
    export_unfused_cppn(old, folder / "old.onnx", old.export_spec(latent=torch.zeros(8)).card)
    return [str(p) for p in [*paths, folder / "gray.onnx", folder / "old.onnx"]]


def test_the_shader_draws_what_onnx_runtime_computes(models, xvfb_display):
    done = subprocess.run([sys.executable, "-m", "tests.live.scenes.cppn_shader_parity", *models, "--sizes", SIZES],
                          capture_output=True, text=True, cwd=REPO, timeout=600, check=False,
                          env={**os.environ, "DISPLAY": xvfb_display})
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == len(models) * 3 * 2  # every model at three sizes, two moments
    for row in rows:
        width, height = map(int, row["size"].split("x"))
        assert row["shape"] == [height, width, 3]
        assert row["std"] > 5, row  # a picture, not a flat fill
        # float32 on both sides, rounded to 8 bits: a level where a value sits on a rounding edge
        assert row["max"] <= 2 and row["mean"] < 0.01, row


def test_the_generated_shader_carries_the_model_s_weights(models):
    weights = read_cppn_weights(models[0])
    program = fragment_source(weights, "tanh.onnx")
    assert "uniform vec4 latent[2];" in program.source  # 6 units in two vec4s, the last two padded with zeros
    first_weight = float(weights.tensors["hidden.0.weight"][0, 0])
    assert f"{first_weight:.9g}" in program.source
    assert np.float32(f"{first_weight:.9g}") == np.float32(first_weight)  # the literal round-trips
