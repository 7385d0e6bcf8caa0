"""trainers.style.model: the fast style network's shapes and ranges, its norms, and real ONNX exports."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from exporters.onnx import FP16_TOLERANCE, export
from tests.onnx_graph import assert_matches_torch, card_of, element_types
from trainers.style.model import StyleConfig, StyleNetwork

TINY = {"base_channels": 8, "residual_blocks": 2}


def _network(**overrides) -> StyleNetwork:
    torch.manual_seed(0)
    return StyleNetwork(StyleConfig(**{**TINY, **overrides}))


@pytest.mark.parametrize("height, width", [(36, 52), (64, 48), (37, 23)])
def test_output_is_rgb_at_the_input_size_in_zero_to_one(height, width):
    with torch.no_grad():
        picture = _network().eval()(torch.rand(2, 3, height, width))
    assert picture.shape == (2, 3, height, width)
    assert picture.min() >= 0 and picture.max() <= 1 and picture.std() > 0


def test_the_classic_widths_give_its_parameter_count():
    parameters = sum(p.numel() for p in StyleNetwork(StyleConfig()).parameters())
    assert 1_600_000 < parameters < 1_700_000  # 1.68 M, as Johnson et al.'s network


def test_instance_norm_makes_each_picture_independent_of_its_batch():
    network = _network().train()  # training mode: norms use the statistics they are given
    pictures = torch.rand(3, 3, 20, 24)
    np.testing.assert_allclose(network(pictures)[1:2].detach(), network(pictures[1:2]).detach(), atol=1e-5)


def test_the_slim_variant_costs_a_fraction_and_exports_at_any_size(tmp_path):
    classic, slim = _network(), _network(slim=True)
    picture = torch.rand(1, 3, 64, 64)
    flops = [_conv_macs(network, picture) for network in (classic, slim)]
    assert flops[1] < flops[0] / 4, flops
    report = export(slim, tmp_path / "slim.onnx")
    assert card_of(report.path).extra["slim"] == "true"
    assert_matches_torch(report.path, slim.eval(), torch.rand(1, 3, 45, 31))


def _conv_macs(network: StyleNetwork, picture: torch.Tensor) -> int:
    """Multiply-adds of the network's convolutions on `picture`, counted with forward hooks."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        total += output.numel() * module.in_channels * module.kernel_size[0] * module.kernel_size[1]

    hooks = [m.register_forward_hook(count) for m in network.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        network(picture)
    for hook in hooks:
        hook.remove()
    return total


def test_bad_configs_are_refused_by_name():
    with pytest.raises(ValueError, match="residual_blocks"):
        StyleConfig(residual_blocks=-1)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    network = _network()
    report = export(network, tmp_path_factory.mktemp("style") / "style.onnx")
    return network, report


def test_export_matches_torch_at_two_sizes_one_not_a_multiple_of_four(exported):
    _, report = exported
    assert set(report.max_abs_error) == {(36, 52), (37, 53)}
    assert all(error <= 1e-4 for error in report.max_abs_error.values())


def test_exported_graph_resizes_instead_of_transposed_convs_and_sizes_stay_free(exported):
    network, report = exported
    ops = {node.op_type for node in onnx.load(report.path).graph.node}
    assert "Resize" in ops and "ConvTranspose" not in ops
    assert_matches_torch(report.path, network, torch.rand(1, 3, 20, 28))
    assert_matches_torch(report.path, network, torch.rand(1, 3, 23, 30))  # neither side a multiple of 4


def test_metadata_reads_back_as_a_style_card(exported):
    _, report = exported
    card = card_of(report.path)
    assert card == report.card
    assert (card.kind, card.input, card.output_layout, card.channel_order) == ("style", "rgb", "NCHW", "RGB")
    # any size goes in: the graph pads to its multiple of 4 and crops back
    assert (card.input_range, card.output_range, card.size_multiple) == ((0.0, 1.0), (0.0, 1.0), 1)
    assert card.extra["residual_blocks"] == "2" and card.extra["internal_multiple"] == "4"


def test_fp16_export_keeps_instance_norm_in_fp32(tmp_path):
    report = export(_network(), tmp_path / "style16.onnx", fp16=True)
    assert all(error <= FP16_TOLERANCE.max_abs for error in report.max_abs_error.values())
    model = onnx.load(report.path)
    types = element_types(model)
    norms = [node for node in model.graph.node if node.op_type == "InstanceNormalization"]
    assert len(norms) == 3 + 2 * TINY["residual_blocks"] + 2  # down, residual, up
    assert all(types[name] == onnx.TensorProto.FLOAT for node in norms for name in node.input)
    convs = [node for node in model.graph.node if node.op_type == "Conv"]
    assert all(types[node.input[1]] == onnx.TensorProto.FLOAT16 for node in convs)
