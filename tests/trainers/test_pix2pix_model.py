"""trainers.pix2pix.model: the U-Net generator's shapes and ranges, its norms, and real ONNX exports."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from exporters.onnx import FP16_TOLERANCE, ExportError, export
from tests.conftest import REPO
from tests.onnx_graph import assert_matches_torch, card_of, element_types
from trainers.pix2pix.model import Pix2PixConfig, Pix2PixGenerator

TINY = {"base_channels": 8, "depth": 3}  # size multiple 8: fast, and still every kind of block


def _generator(**overrides) -> Pix2PixGenerator:
    torch.manual_seed(0)
    return Pix2PixGenerator(Pix2PixConfig(**{**TINY, **overrides}))


def _without_dropout(generator: Pix2PixGenerator) -> Pix2PixGenerator:
    """Training mode (batch statistics) but deterministic: dropout switched off."""
    generator.train()
    for module in generator.modules():
        if isinstance(module, nn.Dropout):
            module.eval()
    return generator


@pytest.mark.parametrize("in_channels", [1, 3])
@pytest.mark.parametrize("height, width", [(16, 24), (40, 8)])
def test_output_is_rgb_at_the_input_size_in_minus_one_to_one(in_channels, height, width):
    generator = _generator(in_channels=in_channels).eval()
    with torch.no_grad():
        picture = generator(torch.rand(2, in_channels, height, width) * 2 - 1)
    assert picture.shape == (2, 3, height, width)
    assert picture.min() >= -1 and picture.max() <= 1 and picture.std() > 0


def test_the_papers_depth_trains_at_batch_size_one_with_a_one_pixel_bottleneck():
    # Depth 8 at 256x256 leaves 1x1 at the bottleneck: batch norm there would refuse to train.
    generator = _generator(base_channels=4, depth=8, norm="batch").train()
    picture = generator(torch.rand(1, 1, 256, 256) * 2 - 1)
    assert picture.shape == (1, 3, 256, 256)


def test_the_papers_widths_give_its_parameter_count():
    parameters = sum(p.numel() for p in Pix2PixGenerator(Pix2PixConfig()).parameters())
    assert 54_000_000 < parameters < 55_000_000  # 54.4 M, as the reference implementation


def test_instance_norm_makes_each_picture_independent_of_its_batch():
    pictures = torch.rand(2, 1, 16, 16) * 2 - 1
    instance = _without_dropout(_generator())
    np.testing.assert_allclose(instance(pictures)[:1].detach(), instance(pictures[:1]).detach(), atol=1e-6)
    batch = _without_dropout(_generator(norm="batch"))
    assert not torch.allclose(batch(pictures)[:1], batch(pictures[:1]), atol=1e-3)  # the contrast


def test_dropout_is_live_in_training_and_off_for_inference():
    pictures = torch.rand(1, 1, 16, 16) * 2 - 1
    generator = _generator().train()
    assert not torch.equal(generator(pictures), generator(pictures))
    generator.eval()
    assert torch.equal(generator(pictures), generator(pictures))


@pytest.mark.parametrize("padding", ["replicate", "reflect"])
@pytest.mark.parametrize("height, width", [(16, 16), (24, 40)])
def test_a_flat_input_gives_a_flat_output_with_no_border(padding, height, width):
    # Padding that copies the picture keeps every feature map of a flat picture flat: no layer can tell
    # its border from its middle, so the network cannot learn a frame to paint.
    generator = _generator(upsample="resize", padding=padding).eval()
    with torch.no_grad():
        made = generator(torch.full((1, 1, height, width), 0.8))
    assert float((made.amax(dim=(2, 3)) - made.amin(dim=(2, 3))).max()) < 1e-5


def test_zero_padding_paints_a_border_on_a_flat_input():
    # the contrast: what the old demo model learned into a visible rectangle
    generator = _generator(upsample="resize", padding="zeros").eval()
    with torch.no_grad():
        made = generator(torch.full((1, 1, 24, 24), 0.8))[0]
    assert float((made[:, 0] - made[:, 12]).abs().max()) > 1e-3


def test_the_resize_decoder_pads_by_replicating_and_the_papers_layout_keeps_zeros():
    assert Pix2PixConfig(upsample="resize").padding == "replicate"
    assert Pix2PixConfig().padding == "zeros"  # transposed convolutions make their own border
    assert _generator(upsample="resize").export_spec().card.extra["padding"] == "replicate"


@pytest.mark.parametrize("field, value, message", [
    ("in_channels", 2, "in_channels"), ("depth", 1, "depth"), ("norm", "group", "unknown norm"),
    ("padding", "circular", "unknown padding"), ("padding", "replicate", "needs upsample='resize'"),
])
def test_bad_configs_are_refused_by_name(field, value, message):
    with pytest.raises(ValueError, match=message):
        Pix2PixConfig(**{field: value})


@pytest.fixture(scope="module", params=["transpose", "resize"])
def exported(tmp_path_factory, request):
    generator = _generator(upsample=request.param)
    report = export(generator, tmp_path_factory.mktemp("pix2pix") / f"edges-{request.param}.onnx")
    return generator, report


def test_export_matches_torch_at_two_sizes_one_not_square(exported):
    generator, report = exported
    assert set(report.max_abs_error) == {(8, 16), (24, 8)}  # the spec's own sizes: multiples of 8
    assert all(error <= 1e-4 for error in report.max_abs_error.values())


def test_resize_decoder_paints_no_checkerboard_on_a_flat_input():
    # A transposed stride-2 convolution makes even and odd pixels from different kernel weights, so a
    # flat picture comes out striped; resize-then-convolve has nothing that depends on a pixel's parity.
    flat = torch.full((1, 1, 128, 128), 0.5)

    def checkerboard(upsample: str) -> float:
        generator = _generator(upsample=upsample).eval()
        with torch.no_grad():
            centre = generator(flat)[0, 0, 48:80, 48:80]  # away from the zero padding's reach
        return float((centre[0::2] - centre[1::2]).abs().mean() + (centre[:, 0::2] - centre[:, 1::2]).abs().mean())

    assert checkerboard("resize") < 1e-6 and checkerboard("transpose") > 1e-4


def test_exported_height_and_width_stay_free(exported):
    generator, report = exported
    assert_matches_torch(report.path, generator, torch.rand(1, 1, 32, 56) * 2 - 1)


def test_metadata_reads_back_as_a_pix2pix_card(exported):
    _, report = exported
    card = card_of(report.path)
    assert card == report.card
    assert (card.kind, card.input, card.output_layout) == ("pix2pix", "edges", "NCHW")
    assert (card.input_range, card.output_range, card.size_multiple) == ((-1.0, 1.0), (-1.0, 1.0), 8)
    assert card.extra["norm"] == "instance" and card.extra["depth"] == "3"
    assert card.extra["upsample"] in ("transpose", "resize")
    assert _generator(in_channels=3).export_spec().card.input == "rgb"
    colorizer = _generator().export_spec({"input": "gray", "heldout_l1": "0.1"}).card  # trained on gray pairs
    assert colorizer.input == "gray" and colorizer.extra["heldout_l1"] == "0.1" and "input" not in colorizer.extra


def test_parity_sizes_that_the_network_cannot_run_are_refused(tmp_path):
    with pytest.raises(ExportError, match="size_multiple 8"):
        export(_generator(), tmp_path / "refused.onnx", parity_sizes=((48, 64), (37, 53)))
    assert list(tmp_path.iterdir()) == []


def test_fp16_export_keeps_instance_norm_in_fp32(tmp_path):
    report = export(_generator(), tmp_path / "edges16.onnx", fp16=True)
    assert all(error <= FP16_TOLERANCE.max_abs for error in report.max_abs_error.values())
    model = onnx.load(report.path)
    types = element_types(model)
    norms = [node for node in model.graph.node if node.op_type == "InstanceNormalization"]
    assert len(norms) == 2 * TINY["depth"] - 3  # encoder (not first, not bottleneck) and decoder blocks
    assert all(types[name] == onnx.TensorProto.FLOAT for node in norms for name in node.input)
    convs = [node for node in model.graph.node if node.op_type in ("Conv", "ConvTranspose")]
    assert all(types[node.input[1]] == onnx.TensorProto.FLOAT16 for node in convs)


SHIPPED = [pytest.param(REPO / "models" / name, id=name)
           for name in ("pix2pix-paintings.onnx", "pix2pix-bbb.onnx")]


@pytest.mark.parametrize("path", SHIPPED)
def test_the_shipped_models_paint_a_blank_page_flat_with_no_rectangle(path):
    # The old demo model painted a frame inside every picture; on a page with no edges at all it
    # showed as a dark rectangle. A blank page at two sizes, one of them 3 x 1 multiples.
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    card = card_of(path)
    assert card.extra["padding"] == "replicate"
    multiple = card.size_multiple
    for height, width in ((2 * multiple, 2 * multiple), (multiple, 3 * multiple)):
        blank = np.ones((1, 1, height, width), np.float32)  # white, in the card's [-1, 1]
        made = session.run(None, {session.get_inputs()[0].name: blank})[0][0]
        spread = made.max(axis=(1, 2)) - made.min(axis=(1, 2))
        assert spread.max() * 127.5 < 0.5, f"{height}x{width}: a spread of {spread.max() * 127.5:.2f} levels"
