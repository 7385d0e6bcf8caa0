"""CPPN checkpoints: one .pt file that carries the network, its latent and what made it.

A checkpoint holds the full CPPNConfig, the weights, the fixed latent z the
network was fitted with, the provenance (command line, data, steps, date) and
the loss history, so a picture or an ONNX export can be traced back to the run
that made it (CONVENTIONS.md point 4). Only tensors and plain Python types are
stored, so loading uses torch.load(weights_only=True) and runs no pickled code.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from trainers.cppn.model import CPPN, CPPNConfig

KIND = "cppn"


class CheckpointError(ValueError):
    """A file that is not a readable CPPN checkpoint; the message names the file."""


def save_checkpoint(path: str | Path, model: CPPN, z: torch.Tensor, provenance: dict,
                    loss_history: list[float] | tuple[float, ...] = ()) -> Path:
    """Write model, latent z (z_dim,) and provenance to `path`, creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "kind": KIND,
        "config": dataclasses.asdict(model.config),
        "state_dict": {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()},
        "z": z.detach().cpu().reshape(-1).float().clone(),
        "provenance": dict(provenance),
        "loss_history": [float(loss) for loss in loss_history],
    }
    torch.save(payload, path)
    return path


def load_checkpoint(path: str | Path) -> tuple[CPPN, torch.Tensor, dict]:
    """(model in eval mode, z (z_dim,) float32, provenance) from a checkpoint written by save_checkpoint."""
    path = Path(path)
    payload = _read_payload(path)
    try:
        model = CPPN(CPPNConfig(**payload["config"]))
        model.load_state_dict(payload["state_dict"])
    except (TypeError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{path}: checkpoint does not match the CPPN network: {error}") from None
    z = payload["z"].reshape(-1).float()
    if z.numel() != model.config.z_dim:
        raise CheckpointError(f"{path}: latent has {z.numel()} values, config says z_dim={model.config.z_dim}")
    return model.eval(), z, dict(payload.get("provenance", {}))


def load_loss_history(path: str | Path) -> list[float]:
    """The loss per step stored with a checkpoint (empty for a network that was never fitted)."""
    return [float(loss) for loss in _read_payload(Path(path)).get("loss_history", [])]


def _read_payload(path: Path) -> dict:
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for truncated or foreign files
        # torch's own messages run to paragraphs; the error's kind is enough to act on
        raise CheckpointError(f"{path}: not a readable checkpoint: corrupt, truncated or not written by "
                              f"`latentstage cppn fit` ({type(error).__name__})") from None
    if not isinstance(payload, dict) or payload.get("kind") != KIND:
        found = payload.get("kind") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path}: not a CPPN checkpoint (kind is {found!r}, expected {KIND!r})")
    missing = [key for key in ("config", "state_dict", "z") if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: CPPN checkpoint lacks {', '.join(missing)}")
    return payload
