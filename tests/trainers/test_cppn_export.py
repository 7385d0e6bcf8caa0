"""CPPN exports that ONNX Runtime runs as one fused node per layer, giving the same pictures as
torch and as the graph exported before fusion (3-D MatMul, Add and activation per layer)."""
from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from exporters.onnx import export
from tests.onnx_graph import card_of
from trainers.cppn.model import ARCHITECTURES, CPPN, CPPNConfig

TINY = {"net_size": 8, "depth": 2}
# what each architecture leaves beside its FusedGemms once ORT has optimised the graph:
# the latent's projection (Gemm, Mul), the flattening Reshapes, and activations MLAS cannot fuse
UNFUSED_ALLOWED = {"Gemm", "Mul", "Reshape", "Shape", "Gather", "Unsqueeze", "Concat"}
UNFUSED_BY_ARCH = {"sine": {"Sin", "Add"}, "residual": {"Add"}, "gaussian": {"Neg", "Exp"}}


class ThreeDimensionalCPPN(CPPN):
    """The forward pass as exported before fusion, over the same weights: each layer a Linear over
    (H, W, n), which exports as MatMul + Add + activation. Kept here as the reference graph."""

    def forward(self, coords, z, scale):
        arch = self.config.arch
        h = torch.tanh(scale * self.from_coords(coords) + self.from_latent(z * scale))
        for index, layer in enumerate(self.hidden):
            h = h + torch.tanh(layer(h)) if arch == "residual" else self._activation(index)(layer(h))
        out = self.to_colour(h)
        return 0.5 + 0.5 * torch.sin(out) if arch == "sine" else torch.sigmoid(out)


def _export_three_dimensional(cppn: CPPN, path) -> None:
    spec = cppn.export_spec()
    old = ThreeDimensionalCPPN(cppn.config).eval()
    old.load_state_dict(cppn.state_dict())
    torch.onnx.export(old, spec.sample_inputs(16, 16, 0), str(path), dynamo=False,
                      opset_version=17, input_names=list(spec.input_names), output_names=["image"],
                      dynamic_axes=spec.dynamic_axes)


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
    _export_three_dimensional(cppn, tmp_path / "old.onnx")
    assert _optimised_ops(tmp_path / "old.onnx", tmp_path)["FusedGemm"] == 0


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_fused_export_draws_what_torch_and_the_old_graph_draw(arch, tmp_path):
    cppn = CPPN(CPPNConfig(arch=arch, seed=7, **TINY)).eval()
    export(cppn, tmp_path / "fused.onnx")
    _export_three_dimensional(cppn, tmp_path / "old.onnx")
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
    _export_three_dimensional(cppn, old_path)
    old_model = onnx.load(old_path)
    card = cppn.export_spec(latent=latent).card
    onnx.helper.set_model_props(old_model, {**card.to_metadata(), "latentstage.command": "made long ago"})
    onnx.save(old_model, old_path)

    assert main(["export", "-o", str(new_path), "--from-onnx", str(old_path)]) == 0
    new_card = card_of(new_path)
    assert (new_card.seed, new_card.arch, new_card.latent) == (9, "residual", card.latent)
    assert new_card.command.startswith("made long ago; re-exported by latentstage cppn export")
    coords, z, scale = cppn.export_spec().sample_inputs(23, 41, seed=3)
    feeds = {"coords": coords.numpy(), "z": z.numpy(), "scale": np.array([cppn.config.scale], np.float32)}
    (before,) = ort.InferenceSession(str(old_path), providers=["CPUExecutionProvider"]).run(None, feeds)
    (after,) = ort.InferenceSession(str(new_path), providers=["CPUExecutionProvider"]).run(None, feeds)
    np.testing.assert_allclose(after, before, atol=1e-4)
    assert _optimised_ops(new_path, tmp_path)["FusedGemm"] > 0

    assert main(["export", "-o", str(tmp_path / "x.onnx"), "--from-onnx", str(old_path), "--seed", "2"]) == 2
    assert "--seed cannot change a network loaded from --from-onnx" in capsys.readouterr().err
