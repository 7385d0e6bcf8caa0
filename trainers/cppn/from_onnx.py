"""A CPPN rebuilt from an exported .onnx file: its weights, home latent and card, ready to export again.

Model files from before the fused export (each layer MatMul + Add + activation
over (H, W, n)) run as they are, only slower. `cppn export --from-onnx OLD`
re-exports one into today's graph with the same weights, so a fitted picture
whose fit cannot be repeated bit for bit keeps its exact pixels. torch's
exporter keeps parameter names where it stores a tensor as it is and renames
the transposed copies it feeds MatMuls; those are taken in the graph's order:
the coordinate layer, the hidden layers, then the colour layer.
"""
from __future__ import annotations

from pathlib import Path

import onnx
import torch
from google.protobuf.message import DecodeError
from onnx import numpy_helper

from live.inference.model_card import ModelCard
from trainers.cppn.model import CPPN, CPPNConfig


def load_onnx_cppn(path: str | Path) -> tuple[CPPN, torch.Tensor, ModelCard]:
    """(model in eval mode, home latent (z_dim,), the file's card) from a latentstage CPPN file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        model_proto = onnx.load(path)
    except (DecodeError, OSError) as error:
        raise ValueError(f"{path}: not a readable ONNX file ({error})") from None
    card = ModelCard.from_metadata({p.key: p.value for p in model_proto.metadata_props}, source=str(path))
    if card.kind != "cppn":
        raise ValueError(f"{path}: a {card.kind} model, not a CPPN")
    config = CPPNConfig(z_dim=card.z_dim, c_dim=card.c_dim, net_size=int(card.extra.get("net_size", 32)),
                        depth=int(card.extra.get("depth", 3)), arch=card.arch, scale=card.scale,
                        seed=card.seed or 0)
    model = CPPN(config)
    tensors = {init.name: torch.from_numpy(numpy_helper.to_array(init).copy()) for init in model_proto.graph.initializer}
    state = model.state_dict()
    layers = ["from_coords.weight", *[f"hidden.{i}.weight" for i in range(config.depth)], "to_colour.weight"]
    unnamed = [name for name in layers if name not in tensors]
    # the renamed ones: stored transposed, (in, out), for a MatMul (old graphs) or for the Mul that
    # folds the scale into the coordinate layer (fused graphs), in the order the graph uses them
    renamed = [name for node in model_proto.graph.node if node.op_type in ("MatMul", "Mul")
               for name in node.input if name in tensors and tensors[name].dim() == 2 and name not in state]
    if len(renamed) == len(unnamed):
        tensors.update({name: tensors[source].t() for name, source in zip(unnamed, renamed)})
    missing = [name for name in state if name not in tensors or tensors[name].shape != state[name].shape]
    if missing:
        raise ValueError(f"{path}: cannot find the CPPN's {', '.join(missing)} in the file's weights")
    model.load_state_dict({name: tensors[name] for name in state})
    latent = torch.tensor(card.latent if card.latent else [0.0] * config.z_dim, dtype=torch.float32)
    return model.eval(), latent, card
