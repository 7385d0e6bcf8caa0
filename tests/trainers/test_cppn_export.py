"""CPPN exports that ONNX Runtime runs as one fused node per layer, giving the same pictures as
torch and as the graph exported before fusion (3-D MatMul, Add and activation per layer)."""
from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from exporters.onnx import export
from live.scenes.cppn_math import coordinates
from tests.onnx_graph import card_of, export_unfused_cppn
from trainers.cppn.model import ARCHITECTURES, CPPN, CPPNConfig

TINY = {"net_size": 8, "depth": 2}
# what each architecture leaves beside its FusedGemms once ORT has optimised the graph:
# the latent's projection (Gemm, Mul), the flattening Reshapes, and activations MLAS cannot fuse
UNFUSED_ALLOWED = {"Gemm", "Mul", "Reshape", "Shape", "Gather", "Unsqueeze", "Concat"}
UNFUSED_BY_ARCH = {"sine": {"Sin", "Add"}, "residual": {"Add"}, "gaussian": {"Neg", "Exp"}}


def _optimised_ops(path, tmp_path) -> Counter:
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    options.log_severity_level = 3
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return Counter(node.op_type for node in onnx.load(options.optimized_model_filepath).graph.node)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_hidden_layer_runs_as_one_fused_gemm(arch, tmp_path):
    cppn = CPPN(CPPNConfig(arch=arch, **TINY))
    export(cppn, tmp_path / "cppn.onnx")
    ops = _optimised_ops(tmp_path / "cppn.onnx", tmp_path)
    assert "MatMul" not in ops and "Tanh" not in ops and "Sigmoid" not in ops
    assert set(ops) - {"FusedGemm"} <= UNFUSED_ALLOWED | UNFUSED_BY_ARCH.get(arch, set())
    fused_hidden = TINY["depth"] if arch != "gaussian" else 0  # exp(-x²) has no fused kernel
    # the input layer, the hidden layers and (unless a sine follows) the colour layer
    assert ops["FusedGemm"] == 1 + fused_hidden + (0 if arch == "sine" else 1)
    # the unfused graph this replaced: every layer a MatMul, an Add and an activation of its own
    export_unfused_cppn(cppn, tmp_path / "old.onnx")
    assert _optimised_ops(tmp_path / "old.onnx", tmp_path)["FusedGemm"] == 0


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_fused_export_draws_what_torch_and_the_old_graph_draw(arch, tmp_path):
    cppn = CPPN(CPPNConfig(arch=arch, seed=7, **TINY)).eval()
    export(cppn, tmp_path / "fused.onnx")
    export_unfused_cppn(cppn, tmp_path / "old.onnx")
    fused = ort.InferenceSession(str(tmp_path / "fused.onnx"), providers=["CPUExecutionProvider"])
    old = ort.InferenceSession(str(tmp_path / "old.onnx"), providers=["CPUExecutionProvider"])
    for height, width in ((31, 47), (64, 9)):
        coords, z, _ = cppn.export_spec().sample_inputs(height, width, seed=height)
        scale = torch.tensor([cppn.config.scale])  # the network's own scale: the old graph's z agrees there
        with torch.no_grad():
            expected = cppn(coords, z, scale).numpy()
        feeds = {"coords": coords.numpy(), "z": z.numpy(), "scale": scale.numpy()}
        (ours,) = fused.run(None, feeds)
        (before,) = old.run(None, feeds)
        assert ours.shape == (height, width, 3) and ours.std() > 0.01  # a picture, not a flat fill
        np.testing.assert_allclose(ours, expected, atol=1e-4)
        np.testing.assert_allclose(ours, before, atol=1e-4)


def test_an_old_graph_file_re_exports_fused_with_its_weights_and_card(tmp_path, capsys):
    from trainers.cppn.cli import main

    cppn = CPPN(CPPNConfig(arch="residual", seed=9, **TINY)).eval()
    latent = torch.linspace(-1, 1, cppn.config.z_dim)
    old_path, new_path = tmp_path / "old.onnx", tmp_path / "new.onnx"
    card = cppn.export_spec(latent=latent).card
    export_unfused_cppn(cppn, old_path, dataclasses.replace(card, command="made long ago"))

    assert main(["export", "-o", str(new_path), "--from-onnx", str(old_path)]) == 0
    new_card = card_of(new_path)
    assert (new_card.seed, new_card.arch, new_card.latent) == (9, "residual", card.latent)
    assert new_card.command.startswith("made long ago; re-exported by latentstage cppn export")
    coords, z, _ = cppn.export_spec().sample_inputs(23, 41, seed=3)
    feeds = {"coords": coords.numpy(), "z": z.numpy(), "scale": np.array([cppn.config.scale], np.float32)}
    (before,) = ort.InferenceSession(str(old_path), providers=["CPUExecutionProvider"]).run(None, feeds)
    (after,) = ort.InferenceSession(str(new_path), providers=["CPUExecutionProvider"]).run(None, feeds)
    np.testing.assert_allclose(after, before, atol=1e-4)
    assert _optimised_ops(new_path, tmp_path)["FusedGemm"] > 0

    assert main(["export", "-o", str(tmp_path / "x.onnx"), "--from-onnx", str(old_path), "--seed", "2"]) == 2
    assert "--seed cannot change a network loaded from --from-onnx" in capsys.readouterr().err


def _crop_of_zoom(render, size: int = 33) -> tuple[np.ndarray, np.ndarray]:
    """(centre of the scale-10 render at 2*size-1 pixels, the scale-5 render at size pixels): with
    the unit grid's linspace, pixel i + (size-1)/2 of the first sits exactly on pixel i of the second."""
    big, small = render(2 * size - 1, 10.0), render(size, 5.0)
    start = (size - 1) // 2
    return big[start:start + size, start:start + size], small


def test_scale_is_a_pure_zoom_in_torch_and_in_the_exported_file(tmp_path):
    cppn = CPPN(CPPNConfig(seed=4, **TINY)).eval()
    export(cppn, tmp_path / "cppn.onnx")
    session = ort.InferenceSession(str(tmp_path / "cppn.onnx"), providers=["CPUExecutionProvider"])
    z = torch.linspace(-0.9, 0.7, cppn.config.z_dim)

    def with_ort(size: int, scale: float) -> np.ndarray:
        feeds = {"coords": coordinates(size, size), "z": z.numpy().reshape(1, -1), "scale": np.array([scale], np.float32)}
        return session.run(None, feeds)[0]

    crop, small = _crop_of_zoom(lambda size, scale: cppn.render(size, size, z, scale=scale).numpy())
    np.testing.assert_allclose(crop, small, atol=1e-5)
    crop, small = _crop_of_zoom(with_ort)
    np.testing.assert_allclose(crop, small, atol=1e-5)
    assert np.abs(small - with_ort(33, 10.0)).max() > 0.1  # zooming really moves the picture
