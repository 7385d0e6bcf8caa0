"""`model adopt`'s probe (README "Models from elsewhere"): models exported in known conventions, whose truth the
probe must find by running them; the carded copy runs in the engine as the original did; non-image models are
refused in one line."""
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import yaml
from PIL import Image

from live.inference.adopt import AdoptError, probe
from live.inference.adopt_copy import adopt, adopted_card, write_adopted
from live.inference.adopt_pictures import LABEL, _thumb, load_samples
from live.inference.engine import Engine, EngineConfig
from live.inference.model_card import ModelCard, ModelCardError
from live.inference.model_inputs import declared_inputs
from live.inference.model_io import ImageModelIO
from tests.adopt_models import (
    Classifier,
    TextEncoder,
    ToneNet,
    Truth,
    export_edges_model,
    export_in_convention,
    export_plain,
    multistyle26,
    wrap_onnx_core,
)

SAMPLES = load_samples(None)  # the built-in pictures a user without --samples gets

TONE_TRUTHS = {
    "nchw-0-1-rgb": Truth("0-1", "RGB", "0-1"),
    "nhwc-0-255-bgr": Truth("0-255", "BGR", "0-255", layout="NHWC"),
    "minus1-1-multiple-4": Truth("-1..1", "RGB", "-1..1", multiple=4),
    "imagenet-in-0-1-out": Truth("imagenet", "RGB", "0-1"),
    "imagenet-in-minus1-1-out": Truth("imagenet", "RGB", "-1..1"),
    "fixed-224": Truth("0-1", "RGB", "0-1", size=(224, 224)),
    "caffe-bgr": Truth("caffe", "BGR", "0-255"),
}


@pytest.mark.parametrize("name", TONE_TRUTHS)
def test_the_probe_finds_the_convention_each_model_was_exported_in(tmp_path, name):
    truth = TONE_TRUTHS[name]
    result = probe(str(export_in_convention(truth, tmp_path / f"{name}.onnx")), SAMPLES, progress=lambda _: None)
    best = result.best.convention
    assert (result.input_layout, result.output_layout) == (truth.layout, truth.layout)
    assert (result.native_size, result.size_multiple) == (truth.size, truth.multiple)
    assert (best.input_range, best.output_range) == (truth.input_range, truth.output_range)
    wrong_ranges = [c for c in result.candidates if (c.convention.input_range, c.convention.output_range)
                    != (truth.input_range, truth.output_range)]
    assert result.best.score > 1.02 * max(c.score for c in wrong_ranges)  # found by a margin, not a tie
    if truth.order == "RGB" or truth.input_range in ("imagenet", "caffe"):
        # a per-channel mean taken in the wrong order tints the picture: the order shows
        assert best.order == truth.order
    else:
        # ToneNet treats its channels alike, so BGR in and out gives the very picture RGB gives: no run can
        # tell them apart, and the probe says so (a tie), keeping the common order
        (twin,) = [c for c in result.ties if c.convention.order == "BGR"]
        assert (twin.convention.input_range, twin.convention.output_range) == (best.input_range, best.output_range)
        assert all(np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(twin.outputs, result.best.outputs))


@pytest.mark.parametrize("name", ["nhwc-0-255-bgr", "minus1-1-multiple-4", "imagenet-in-0-1-out", "fixed-224",
                                  "caffe-bgr"])
def test_the_adopted_copy_runs_in_the_engine_as_the_network_does_on_plain_rgb(tmp_path, name):
    # The truth, independently of the probe: ToneNet on the picture in RGB 0..1, computed in torch.
    truth = TONE_TRUTHS[name]
    torch.manual_seed(0)
    core = ToneNet(downsample=truth.multiple > 1).eval()
    source = export_in_convention(truth, tmp_path / "foreign.onnx", core=core)
    adopted = adopt(source, tmp_path / "adopted.onnx", None, None, "test", progress=lambda _: None)
    engine = Engine.load(adopted.target, EngineConfig(providers="cpu"))
    assert engine.card == adopted.card and engine.card.kind == "style"
    io = ImageModelIO(engine.card)
    width, height = truth.size or (96, 64)  # sizes the network takes: multiples of 4
    frame = np.asarray(Image.fromarray(SAMPLES[0]).resize((width, height)))
    got = io.to_frame(engine.run({engine.input_names[0]: io.to_input(frame)})[engine.output_names[0]], width, height)
    with torch.no_grad():
        expected = core(torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255)[0].permute(1, 2, 0)
    expected = (expected.numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8)
    assert np.abs(got.astype(int) - expected).max() <= 1


def test_a_real_style_network_is_found_in_its_own_convention_and_its_style_weights_become_inputs(tmp_path):
    result = probe(str(multistyle26()), SAMPLES, progress=lambda _: None)
    best = result.best.convention
    assert (result.image_input, result.input_layout, result.size_multiple) == ("image", "NCHW", 4)
    assert (best.input_range, best.order, best.output_range) == ("0-1", "RGB", "0-1")
    # a trained network does not treat its channels alike: the order shows, by a margin
    assert result.best.score > 1.05 * max(c.score for c in result.candidates if c.convention.order == "BGR")
    (weights,) = result.extra_inputs
    assert (weights.onnx_name, weights.shape, weights.normalise) == ("style_weights", (26,), True)
    assert weights.value_names()[7] == "style_weights_7" and weights.default[:2] == (1.0, 0.0)


def test_the_same_network_in_nhwc_0_255_bgr_is_found_in_that_convention(tmp_path):
    truth = Truth("0-255", "BGR", "0-255", layout="NHWC")
    foreign = wrap_onnx_core(multistyle26(), truth, tmp_path / "foreign.onnx", {"style_weights": (26,)})
    adopted = adopt(foreign, tmp_path / "adopted.onnx", None, None, "test", progress=lambda _: None)
    best = adopted.result.best.convention
    assert (adopted.result.input_layout, adopted.result.output_layout) == ("NHWC", "NHWC")
    assert (best.input_range, best.order, best.output_range) == ("0-255", "BGR", "0-255")
    card = adopted.card
    assert (card.input_range, card.output_range, card.channel_order) == ((0.0, 255.0), (0.0, 255.0), "BGR")
    assert [i.onnx_name for i in declared_inputs(card)] == ["style_weights"]
    # run as a show runs it, the copy paints what the original network paints on plain RGB 0..1
    original = Engine.load(multistyle26_copy_with_card(tmp_path), EngineConfig(providers="cpu"))
    engine = Engine.load(adopted.target, EngineConfig(providers="cpu"))
    frame = np.asarray(Image.fromarray(SAMPLES[1]).resize((128, 96)))
    weights = np.eye(26, dtype=np.float32)[3]
    pictures = []
    for model in (original, engine):
        io = ImageModelIO(model.card)
        out = model.run({model.input_names[0]: io.to_input(frame), "style_weights": weights})
        pictures.append(io.to_frame(out[model.output_names[0]], 128, 96).copy())
    assert np.abs(pictures[0].astype(int) - pictures[1]).max() <= 2


def multistyle26_copy_with_card(tmp_path: Path) -> Path:
    """The original network with the card its own documentation gives (NCHW RGB 0..1), written by hand."""
    model = onnx.load(str(multistyle26()))
    card = ModelCard(kind="style", input="rgb", output_layout="NCHW", size_multiple=4)
    for key, value in card.to_metadata().items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(tmp_path / "documented.onnx"))
    return tmp_path / "documented.onnx"


def test_an_edges_model_is_adopted_as_pix2pix_with_its_drawing_convention(tmp_path):
    adopted = adopt(export_edges_model(tmp_path / "edges.onnx"), tmp_path / "adopted.onnx", None, None, "test",
                    progress=lambda _: None)
    card = adopted.card
    assert (adopted.result.kind, adopted.result.channels) == ("pix2pix", 1)
    assert (card.kind, card.input, card.input_range, card.output_range) == ("pix2pix", "edges", (-1.0, 1.0),
                                                                             (-1.0, 1.0))
    assert card.extra["canny_invert"] == "true"  # dark lines on white: the show's Canny draws them so


@pytest.mark.parametrize("network, sample, words", [
    (Classifier(), torch.rand(1, 3, 64, 64), "gives 'output' (1, 1000), not a picture"),
    (TextEncoder(), torch.randint(0, 100, (1, 7)), "its inputs are 'input' int64 (1, 7) (text or tokens)"),
])
def test_a_model_that_does_not_paint_pictures_is_refused_in_one_line(tmp_path, network, sample, words):
    path = export_plain(network, sample, tmp_path / "foreign.onnx")
    with pytest.raises(AdoptError) as refused:
        adopt(path, tmp_path / "adopted.onnx", None, None, "test", progress=lambda _: None)
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"{path}: not an image model: ") and words in message
    assert not (tmp_path / "adopted.onnx").exists()


def test_a_model_that_paints_nothing_in_any_convention_is_refused_in_one_line(tmp_path):
    class Grey(torch.nn.Module):
        def forward(self, x):
            return x * 0 + 0.5  # a picture's shape, and nothing in it

    axes = {2: "height", 3: "width"}
    path = tmp_path / "grey.onnx"
    torch.onnx.export(Grey(), torch.rand(1, 3, 32, 32), str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": axes, "y": axes}, opset_version=17, dynamo=False)
    with pytest.raises(AdoptError) as refused:
        probe(str(path), SAMPLES, progress=lambda _: None)
    assert "\n" not in str(refused.value) and "no convention gives a picture of the samples" in str(refused.value)


def test_the_contact_sheet_shows_the_samples_and_one_row_per_distinct_picture(tmp_path):
    source = export_in_convention(Truth("0-1", "RGB", "0-1"), tmp_path / "foreign.onnx")
    adopted = adopt(source, tmp_path / "adopted.onnx", None, None, "test", progress=lambda _: None)
    assert adopted.sheet == tmp_path / "adopted.png"
    sheet = np.asarray(Image.open(adopted.sheet))
    cell = max(_thumb(s).shape[0] for s in adopted.result.samples)
    assert sheet.shape[0] == 7 * (cell + LABEL + 4) + 4  # the samples, then six pictures
    rows = [sheet[4 + row * (cell + LABEL + 4) + LABEL:][:cell] for row in range(7)]
    assert all(not np.array_equal(a, b) for i, a in enumerate(rows) for b in rows[i + 1:])  # each one distinct


def test_sample_folders_are_read_and_a_bad_one_is_one_line(tmp_path):
    Image.fromarray(SAMPLES[2]).save(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("not a picture")
    assert [s.shape for s in load_samples(tmp_path)] == [SAMPLES[2].shape]
    (tmp_path / "empty").mkdir()
    with pytest.raises(AdoptError, match="no pictures"):
        load_samples(tmp_path / "empty")
    with pytest.raises(AdoptError, match="no such folder"):
        load_samples(tmp_path / "missing")


def test_a_malformed_input_declaration_on_a_card_is_refused():
    card = ModelCard(kind="style", input="rgb", output_layout="NCHW",
                     extra={"input.w": '{"parameter": "w", "shape": [40], "minimum": 0, "maximum": 1, '
                                       '"default": [1]}'})
    with pytest.raises(ModelCardError, match="card input 'w' gives 1 defaults for shape"):
        declared_inputs(card)


def test_the_copy_keeps_the_original_graph_and_adds_only_adapters(tmp_path):
    source = export_in_convention(Truth("imagenet", "RGB", "0-1", layout="NHWC"), tmp_path / "foreign.onnx")
    result = probe(str(source), SAMPLES, progress=lambda _: None)
    write_adopted(result, source, tmp_path / "adopted.onnx", adopted_card(result, source, "test"))
    original, copy = onnx.load(str(source)), onnx.load(str(tmp_path / "adopted.onnx"))
    added = [n.op_type for n in copy.graph.node if n.output[0].startswith("__latentstage_adopt") or
             n.output[0] == "picture"]
    assert added == ["Sub", "Div", "Transpose", "Identity", "Transpose"]
    assert [n.name for n in original.graph.node] == [n.name for n in copy.graph.node][4:-1]


def test_a_show_names_the_adopted_models_inputs_and_check_refuses_one_it_lacks(tmp_path):
    from live.show.schema import ShowError, load_show
    from live.show.stage import Stage

    adopt(multistyle26(), tmp_path / "mosaic.onnx", None, None, "test", progress=lambda _: None)
    Image.fromarray(SAMPLES[0]).save(tmp_path / "still.png")
    scene = {"name": "mosaic", "kind": "pipeline", "model": "mosaic.onnx",
             "source": {"kind": "images", "folder": "."}}
    show = tmp_path / "show.yaml"
    show.write_text(yaml.safe_dump({"scenes": [scene], "cues": [
        {"at": 0, "scene": "mosaic", "set": {"model.style_weights_7": 1.0}}]}))
    stage = Stage.build(load_show(show), rehearsal=True, warm_up=False)
    (built,) = stage.scenes
    names = [p.name for p in built.parameters]
    assert names[3:] == [f"model.style_weights_{i}" for i in range(26)]  # after the kind's own three
    assert [p.default for p in built.parameters[3:6]] == [1.0, 0.0, 0.0]
    show.write_text(yaml.safe_dump({"scenes": [scene], "cues": [
        {"at": 0, "scene": "mosaic", "set": {"model.style_weight_7": 1.0}}]}))
    with pytest.raises(ShowError, match="has no parameter 'model.style_weight_7'; did you mean "
                                        "'model.style_weights_7'"):
        load_show(show)
