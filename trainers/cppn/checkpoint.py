"""CPPN checkpoints seen as what `sample`, `walk` and `export` need: a network, its latent and what made it.

A fit's checkpoint is the common format (trainers.common.checkpoint) of kind
"cppn": its config holds the FitConfig with the network's CPPNConfig, its
networks the CPPN's weights and the fixed latent z. This view rebuilds the
network from them, so a picture or an ONNX export traces back to the fit that
made it.
"""
from __future__ import annotations

from pathlib import Path

import torch

from trainers.common.checkpoint import load_checkpoint as load_common_checkpoint
from trainers.common.checkpoint import mismatch
from trainers.cppn.fit import KIND, LATENT, NETWORK
from trainers.cppn.model import CPPN, CPPNConfig, FixedLatent


def load_checkpoint(path: str | Path) -> tuple[CPPN, torch.Tensor, dict]:
    """(model in eval mode, z (z_dim,) float32, provenance with the steps done) from a `cppn fit` checkpoint."""
    checkpoint = load_common_checkpoint(path, KIND)
    try:
        model = CPPN(CPPNConfig(**checkpoint.config["network"]))
        model.load_state_dict(checkpoint.networks[NETWORK])
        latent = FixedLatent(torch.zeros(model.config.z_dim))
        latent.load_state_dict(checkpoint.networks[LATENT])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise mismatch(path, "the CPPN network", error) from None
    return model.eval(), latent.z.reshape(-1), {**checkpoint.provenance, "steps": checkpoint.step}
