"""Reading a model's card from its protobuf bytes: what onnx.load reads, without onnx, and never a wrong one.

The reader walks ModelProto's top-level fields and decodes only metadata_props; these tests hold it to the
onnx package's own reading on every shipped model and on files onnx writes with what a card can contain,
refuse what is not a ModelProto, and run the card reading of a start with onnx made unimportable.
"""
import subprocess
import sys

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from live.inference.engine import EngineError, read_card
from live.inference.onnx_metadata import NotOnnx, metadata_props
from live.inference.providers import PROBE_MODEL
from tests.conftest import REPO

SHIPPED = sorted((REPO / "models").glob("*.onnx"))


def onnx_reads(path) -> dict[str, str]:
    return {prop.key: prop.value for prop in onnx.load(path, load_external_data=False).metadata_props}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_every_shipped_model_s_metadata_reads_as_onnx_reads_it(path):
    assert metadata_props(path) == onnx_reads(path)


def small_model(**props: str) -> onnx.ModelProto:
    node = helper.make_node("Relu", ["x"], ["y"])
    weight = numpy_helper.from_array(np.full(256, 0.5, np.float32), "w")  # a graph with bytes to skip
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [weight])
    model = helper.make_model(graph, producer_name="latentstage test", doc_string="a doc string" * 100)
    helper.set_model_props(model, props)
    return model


def test_what_a_card_can_hold_reads_back_exactly_and_an_unknown_later_field_is_stepped_over(tmp_path):
    props = {"latentstage.contract": "1", "latentstage.extra.credit": "Seurat, « La Grande Jatte » ☀",
             "latentstage.extra.empty": "", "latentstage.extra.long": "x" * 5000}
    path = tmp_path / "model.onnx"
    # a field ModelProto may gain in a later ONNX (number 30, a string): protobuf readers step over it
    path.write_bytes(small_model(**props).SerializeToString() + b"\xf2\x01\x05later")
    assert metadata_props(path) == onnx_reads(path) == props


def test_a_model_with_its_weights_in_an_external_file_reads_without_them(tmp_path):
    path = tmp_path / "external.onnx"
    onnx.save(small_model(**{"latentstage.contract": "1"}), path, save_as_external_data=True,
              all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    (tmp_path / "weights.bin").unlink()
    assert metadata_props(path) == {"latentstage.contract": "1"}


@pytest.mark.parametrize("damage, says", [
    (lambda data: data[:len(data) // 2], "past the end"),  # a half-copied file
    (lambda data: b"not a model, a half-copied file " * 64, "not one a ModelProto holds"),
    (lambda data: b"\x08" + b"\xff" * 12, "longer than 10 bytes"),
    (lambda data: data + b"\x3a", "inside a number"),  # a graph field's tag, then nothing
])
def test_bytes_that_are_not_a_model_are_refused_saying_where(tmp_path, damage, says):
    path = tmp_path / "damaged.onnx"
    path.write_bytes(damage((REPO / "models" / "cppn-tanh.onnx").read_bytes()))
    with pytest.raises(NotOnnx, match=says):
        metadata_props(path)
    with pytest.raises(EngineError, match="damaged.onnx: not a readable ONNX file"):
        read_card(path)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_metadata_or_a_refusal_never_another_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("any") / "any.onnx"
    path.write_bytes(data)
    try:
        props = metadata_props(path)
    except NotOnnx:
        return
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in props.items())


def test_cards_read_and_the_providers_probed_with_onnx_unimportable():
    """A start reads every card and probes the providers: neither may need the onnx package (its import
    is the slowest of a start)."""
    code = ("import sys; sys.modules['onnx'] = None; from pathlib import Path; "
            "from live.inference.engine import read_card; from live.inference.providers import probe_providers; "
            "print(sorted({read_card(path).kind for path in Path(sys.argv[1]).glob('*.onnx')})); "
            "print(probe_providers()[-1].loads)")
    result = subprocess.run([sys.executable, "-c", code, str(REPO / "models")], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["['cppn', 'gan', 'pix2pix', 'sr', 'style']", "True"]


def test_the_modules_a_live_start_imports_leave_onnx_unimported():
    """What `latentstage run` imports before its first frame (the CLI, the live loop, the ladder, the outputs)
    must not pull onnx in at import time: one module-level `import onnx` costs a resume most of a second."""
    code = ("import sys, live.cli, live.show.live_run, live.show.ladder, live.output.sending; "
            "print(sorted(name for name in sys.modules if name == 'onnx' or name.startswith('onnx.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_provider_probe_s_model_is_the_one_onnx_helper_makes():
    node = helper.make_node("Add", ["x", "x"], ["y"])
    graph = helper.make_graph([node], "latentstage_probe",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    assert PROBE_MODEL == model.SerializeToString()
