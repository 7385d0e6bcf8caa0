"""A torch CPPN rebuilt from an exported .onnx file: its weights, home latent and card, ready to export again.

Model files from before the fused export (each layer MatMul + Add + activation
over (H, W, n)) run as they are, only slower. `cppn export --from-onnx OLD`
re-exports one into today's graph with the same weights, so a fitted picture
whose fit cannot be repeated bit for bit keeps its exact pixels. The weights
are read by live.inference.cppn_weights, which the shader backend uses too.
"""
from __future__ import annotations

from pathlib import Path

import torch

from live.inference.model_card import ModelCard
from live.inference.cppn_weights import read_cppn_weights
from trainers.cppn.model import CPPN, CPPNConfig


def load_onnx_cppn(path: str | Path) -> tuple[CPPN, torch.Tensor, ModelCard]:
    """(model in eval mode, home latent (z_dim,), the file's card) from a latentstage CPPN file."""
    weights = read_cppn_weights(path)
    card = weights.card
    config = CPPNConfig(z_dim=card.z_dim, c_dim=card.c_dim, net_size=weights.net_size, depth=weights.depth,
                        arch=card.arch, scale=card.scale, seed=card.seed or 0)
    model = CPPN(config)
    model.load_state_dict({name: torch.from_numpy(array) for name, array in weights.tensors.items()})
    latent = torch.tensor(card.latent if card.latent else [0.0] * config.z_dim, dtype=torch.float32)
    return model.eval(), latent, card
