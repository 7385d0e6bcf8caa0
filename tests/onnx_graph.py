"""Reading an exported ONNX graph in tests."""
import onnx


def element_types(model: onnx.ModelProto) -> dict[str, int]:
    """Tensor name -> ONNX element type, over initializers, value_info, inputs, outputs and Casts."""
    types = {init.name: init.data_type for init in model.graph.initializer}
    for info in [*model.graph.value_info, *model.graph.input, *model.graph.output]:
        types[info.name] = info.type.tensor_type.elem_type
    for node in model.graph.node:
        if node.op_type == "Cast":
            types[node.output[0]] = next(a.i for a in node.attribute if a.name == "to")
    return types
