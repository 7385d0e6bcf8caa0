"""A CPPN model file's weights as numpy arrays, read from the .onnx itself (no torch).

The shader backend writes them into GLSL, and the trainer rebuilds a torch
network from them (`cppn export --from-onnx`). torch's exporter keeps a
parameter's name where it stores the tensor as it is, and renames the
transposed copies it feeds a MatMul (graphs from before issue 11) or the Mul
that folds the scale into the coordinate layer (fused graphs); the renamed ones
are taken in the graph's order: the coordinate layer, the hidden layers, then
the colour layer.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live.inference.model_card import CardKind, ModelCard, register_card_kind

# A CPPN makes its picture from a latent and the pixel coordinates; its card gives the latent's size,
# its colour channels and its default coordinate scale.
register_card_kind(CardKind("cppn", ("latent",), required=("z_dim", "c_dim", "scale"),
                            describe=lambda card: f"z={card.z_dim} c={card.c_dim} scale={card.scale} arch={card.arch}"))


@dataclass(frozen=True)
class CppnWeights:
    """A CPPN's parameters under torch's state-dict names, (out, in) float32, and its card."""

    card: ModelCard
    tensors: dict[str, np.ndarray]

    @property
    def net_size(self) -> int:
        return self.tensors["from_latent.bias"].shape[0]

    @property
    def depth(self) -> int:
        return sum(1 for name in self.tensors if name.startswith("hidden.") and name.endswith(".weight"))

    def hidden(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(weight (n, n), bias (n,))] in order."""
        return [(self.tensors[f"hidden.{i}.weight"], self.tensors[f"hidden.{i}.bias"]) for i in range(self.depth)]

    def latent_term(self, z: np.ndarray) -> np.ndarray:
        """(n,) float32: the latent's projection of z times the card's scale, as the graph computes
        it once per frame (the pure zoom: the per-frame scale never touches z)."""
        z = np.asarray(z, dtype=np.float32).reshape(-1) * np.float32(self.card.scale)
        return self.tensors["from_latent.weight"] @ z + self.tensors["from_latent.bias"]


def read_cppn_weights(path: str | Path) -> CppnWeights:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    # onnx only here: importing it costs more than half a second, and every card read imports this
    # module (it registers the cppn card kind)
    import onnx
    from google.protobuf.message import DecodeError
    from onnx import numpy_helper

    try:
        model = onnx.load(path)
    except (DecodeError, OSError) as error:
        raise ValueError(f"{path}: not a readable ONNX file ({error})") from None
    card = ModelCard.from_metadata({p.key: p.value for p in model.metadata_props}, source=str(path))
    if card.kind != "cppn":
        raise ValueError(f"{path}: a {card.kind} model, not a CPPN")
    stored = {init.name: numpy_helper.to_array(init).astype(np.float32) for init in model.graph.initializer}
    depth = int(card.extra.get("depth", 3))
    layers = ["from_coords.weight", *[f"hidden.{i}.weight" for i in range(depth)], "to_colour.weight"]
    names = [*layers, "from_latent.weight", "from_latent.bias", *[f"hidden.{i}.bias" for i in range(depth)],
             "to_colour.bias"]
    tensors = {name: stored[name] for name in names if name in stored}
    unnamed = [name for name in layers if name not in tensors]
    renamed = [name for node in model.graph.node if node.op_type in ("MatMul", "Mul")
               for name in node.input if name in stored and stored[name].ndim == 2 and name not in names]
    if unnamed and len(renamed) == len(unnamed):
        tensors.update({name: np.ascontiguousarray(stored[source].T) for name, source in zip(unnamed, renamed)})
    missing = [name for name in names if name not in tensors]
    if missing:
        raise ValueError(f"{path}: cannot find the CPPN's {', '.join(missing)} in the file's weights")
    return CppnWeights(card, tensors)
