"""Reading an exported ONNX model back in tests: its element types, its card, its answers."""
import numpy as np
import onnx
import onnxruntime as ort
import torch

from live.inference.model_card import ModelCard


def element_types(model: onnx.ModelProto) -> dict[str, int]:
    """Tensor name -> ONNX element type, over initializers, value_info, inputs, outputs and Casts."""
    types = {init.name: init.data_type for init in model.graph.initializer}
    for info in [*model.graph.value_info, *model.graph.input, *model.graph.output]:
        types[info.name] = info.type.tensor_type.elem_type
    for node in model.graph.node:
        if node.op_type == "Cast":
            types[node.output[0]] = next(a.i for a in node.attribute if a.name == "to")
    return types


def card_of(path) -> ModelCard:
    """The model card an exported file carries, read back from its metadata."""
    props = {p.key: p.value for p in onnx.load(path).metadata_props}
    return ModelCard.from_metadata(props, source=str(path))


def assert_matches_torch(path, network: torch.nn.Module, picture: torch.Tensor) -> None:
    """The exported "image" -> "output" graph gives what the network gives, at the picture's size."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (actual,) = session.run(["output"], {"image": picture.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(actual, network(picture).numpy(), atol=1e-4)
