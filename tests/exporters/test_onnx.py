"""exporters.onnx: real exports of real networks, checked by real ONNX Runtime sessions."""
from __future__ import annotations

import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from exporters.onnx import FP16_TOLERANCE, ExportError, Tolerance, export
from tests.onnx_graph import element_types
from exporters.spec import ExportSpec, image_to_image_spec
from live.inference.model_card import ModelCard
from trainers.cppn.model import CPPN, CPPNConfig

PARITY_SIZES = ((48, 64), (37, 53))
STYLE_CARD = ModelCard(kind="style", input="rgb", output_layout="NCHW")  # what the test image networks claim


@pytest.fixture(scope="module")
def cppn() -> CPPN:
    return CPPN(CPPNConfig(seed=3))


@pytest.fixture(scope="module")
def exported(cppn, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "cppn.onnx"
    provenance = {"command": "pytest export", "data": "none", "steps": 7, "date": "2026-01-02T03:04:05"}
    return export(cppn, path, provenance=provenance, parity_sizes=PARITY_SIZES)


def _session(path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _torch_and_ort(module, spec, session, height, width, seed):
    inputs = spec.sample_inputs(height, width, seed)
    with torch.no_grad():
        expected = module(*inputs).numpy()
    feeds = {name: tensor.numpy() for name, tensor in zip(spec.input_names, inputs)}
    return expected, session.run(None, feeds)[0]


def test_cppn_export_matches_torch_at_both_sizes(cppn, exported):
    assert exported.path.is_file()
    assert set(exported.max_abs_error) == set(PARITY_SIZES)
    assert all(error <= 1e-4 for error in exported.max_abs_error.values())
    session = _session(exported.path)
    for height, width in PARITY_SIZES:
        expected, actual = _torch_and_ort(cppn, cppn.export_spec(), session, height, width, seed=11)
        assert actual.shape == (height, width, 3)
        np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_dynamic_height_and_width_run_at_a_third_size(cppn, exported):
    graph_input = _session(exported.path).get_inputs()[0]
    assert graph_input.name == "coords" and graph_input.shape[:2] == ["height", "width"]
    expected, actual = _torch_and_ort(cppn, cppn.export_spec(), _session(exported.path), 101, 29, seed=5)
    assert actual.shape == (101, 29, 3)
    np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_metadata_round_trips_into_a_model_card(cppn, exported):
    props = {p.key: p.value for p in onnx.load(exported.path).metadata_props}
    card = ModelCard.from_metadata(props, source=str(exported.path))
    assert card == exported.card
    assert (card.kind, card.z_dim, card.c_dim, card.scale, card.seed) == ("cppn", 8, 3, 8.0, 3)
    assert (card.command, card.data, card.steps, card.date) == ("pytest export", "none", 7, "2026-01-02T03:04:05")
    assert card.extra["precision"] == "fp32" and card.extra["opset"] == "17"
    assert onnx.load(exported.path).opset_import[0].version == 17


def test_date_defaults_to_now_and_unknown_provenance_is_refused(cppn, tmp_path):
    report = export(cppn, tmp_path / "dated.onnx", parity_sizes=((8, 8), (5, 7)))
    assert report.card.date.startswith(("20", "21"))
    with pytest.raises(ExportError, match="provenance"):
        export(cppn, tmp_path / "typo.onnx", provenance={"comand": "x"})
    assert not (tmp_path / "typo.onnx").exists()


class FrozenMean(nn.Module):
    """Scales by its input's mean through a Python float: tracing bakes in the trace input's mean."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * float(x.mean())

    def export_spec(self) -> ExportSpec:
        def sample_inputs(height: int, width: int, seed: int) -> tuple[torch.Tensor]:
            generator = torch.Generator().manual_seed(seed)
            return (torch.randn((1, 3, height, width), generator=generator) + seed,)

        return image_to_image_spec(STYLE_CARD, sample_inputs)


def test_a_graph_that_tracing_froze_really_mismatches(tmp_path):
    # With the check switched off the file is written: prove ORT really disagrees on other inputs.
    module = FrozenMean()
    report = export(module, tmp_path / "frozen.onnx", tolerance=Tolerance(math.inf, math.inf))
    expected, actual = _torch_and_ort(module, module.export_spec(), _session(report.path), 37, 53, seed=1)
    assert np.max(np.abs(expected - actual)) > 0.1


def test_a_mismatching_export_is_refused_and_writes_nothing(tmp_path):
    target = tmp_path / "frozen.onnx"
    with pytest.raises(ExportError, match=r"48x64 .*max abs error") as caught:
        export(FrozenMean(), target)
    assert "nothing written" in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temporary file


def test_a_refused_export_keeps_the_previous_good_file(cppn, tmp_path):
    target = tmp_path / "model.onnx"
    export(cppn, target, parity_sizes=((8, 8), (5, 7)))
    good = target.read_bytes()
    with pytest.raises(ExportError):
        export(FrozenMean(), target)
    assert target.read_bytes() == good
    assert list(tmp_path.iterdir()) == [target]


class NormNet(nn.Module):
    """A tiny image-to-image net with an instance norm, as the style networks have."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.encode = nn.Conv2d(3, 8, 3, padding=1)
        self.norm = nn.InstanceNorm2d(8, affine=True)
        self.decode = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decode(torch.relu(self.norm(self.encode(x)))))

    def export_spec(self) -> ExportSpec:
        def sample_inputs(height: int, width: int, seed: int) -> tuple[torch.Tensor]:
            generator = torch.Generator().manual_seed(seed)
            return (torch.rand((1, 3, height, width), generator=generator),)

        return image_to_image_spec(STYLE_CARD, sample_inputs)


def test_fp16_export_keeps_the_instance_norm_in_fp32(tmp_path):
    report = export(NormNet(), tmp_path / "norm16.onnx", fp16=True)
    assert report.fp16 and report.card.extra["precision"] == "fp16"
    assert all(error <= FP16_TOLERANCE.max_abs for error in report.max_abs_error.values())
    model = onnx.load(report.path)
    types = element_types(model)
    norms = [node for node in model.graph.node if node.op_type == "InstanceNormalization"]
    assert len(norms) == 1
    assert all(types[name] == onnx.TensorProto.FLOAT for name in norms[0].input)  # data, scale, bias
    convs = [node for node in model.graph.node if node.op_type == "Conv"]
    assert all(types[node.input[1]] == onnx.TensorProto.FLOAT16 for node in convs)  # weights halved
    # Callers still feed and receive float32.
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    metadata = {p.key: p.value for p in model.metadata_props}
    assert metadata["latentstage.extra.precision"] == "fp16"


def test_fp16_cppn_passes_the_looser_check_on_the_cpu_provider(cppn, tmp_path):
    report = export(cppn, tmp_path / "cppn16.onnx", fp16=True)
    assert set(report.max_abs_error) == set(PARITY_SIZES)
    assert 0 < max(report.max_abs_error.values()) <= FP16_TOLERANCE.max_abs  # rounded, but close
    weights = [init for init in onnx.load(report.path).graph.initializer if len(init.dims) == 2]
    assert weights and all(init.data_type == onnx.TensorProto.FLOAT16 for init in weights)
