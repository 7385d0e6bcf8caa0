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


def export_unfused_cppn(cppn, path, card: ModelCard | None = None) -> None:
    """Write `cppn` as CPPN files were exported before issue 11: each layer a Linear over (H, W, n)
    (MatMul + Add + activation, nothing for ONNX Runtime to fuse) and z multiplied by the scale
    input. With a card, the file carries it (without zoom=pure, as those files did)."""
    from trainers.cppn.model import CPPN

    class UnfusedCPPN(CPPN):
        def forward(self, coords, z, scale):
            arch = self.config.arch
            h = torch.tanh(scale * self.from_coords(coords) + self.from_latent(z * scale))
            for index, layer in enumerate(self.hidden):
                h = h + torch.tanh(layer(h)) if arch == "residual" else self._activation(index)(layer(h))
            out = self.to_colour(h)
            return 0.5 + 0.5 * torch.sin(out) if arch == "sine" else torch.sigmoid(out)

    spec = cppn.export_spec()
    old = UnfusedCPPN(cppn.config).eval()
    old.load_state_dict(cppn.state_dict())
    torch.onnx.export(old, spec.sample_inputs(16, 16, 0), str(path), dynamo=False, opset_version=17,
                      input_names=list(spec.input_names), output_names=["image"], dynamic_axes=spec.dynamic_axes)
    if card is not None:
        model = onnx.load(path)
        props = card.to_metadata()
        props.pop("latentstage.extra.zoom", None)
        onnx.helper.set_model_props(model, props)
        onnx.save(model, path)
