"""The one checkpoint format of every trainer: a single file with the whole state of a run.

A checkpoint holds what trained (kind, the full config as plain types), where
it got to (step, the loss per step, every network, optimizer and LR scheduler
state by name, the data order's position, the random states of every process)
and what made it (command, data, date), so a run resumes onto the very same
curve and any picture or export traces back to it.
Only tensors and plain Python types are stored: loading uses
torch.load(weights_only=True) and runs no pickled code. Files are written
atomically (files.atomic_file), so a crash mid-write keeps the previous one.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from live.core.atomic_file import atomic_file

# raise when the layout changes; older files are refused rather than misread
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the one-line message names the file and why."""


@dataclass
class Checkpoint:
    kind: str  # the trainer that wrote it: "cppn", "pix2pix", "style"
    config: dict[str, Any]  # the run's full config as plain types (dataclasses.asdict)
    networks: dict[str, dict[str, Any]]  # name -> state_dict
    optimizers: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> state_dict
    schedulers: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> state_dict
    data: dict[str, Any] = field(default_factory=dict)  # the batch order's position (Batches.state_dict)
    rng: list[dict[str, Any]] = field(default_factory=list)  # rng.capture_rng() of each process, by rank
    step: int = 0  # training steps completed
    losses: dict[str, list[float]] = field(default_factory=dict)  # loss name -> its value at steps 1, 2, ...
    provenance: dict[str, Any] = field(default_factory=dict)  # command, data, date (UTC, ISO 8601)


FIELDS = tuple(f.name for f in dataclasses.fields(Checkpoint))


def save_checkpoint(checkpoint: Checkpoint, path: str | Path) -> Path:
    """Write `checkpoint` to `path` atomically, creating its folder; tensors are stored on the CPU."""
    payload = {"format_version": FORMAT_VERSION,
               **{name: _on_cpu(getattr(checkpoint, name)) for name in FIELDS}}
    with atomic_file(path) as file:
        torch.save(payload, file)
    return Path(path)


def load_checkpoint(path: str | Path, kind: str) -> Checkpoint:
    """The checkpoint in `path`, refused with a CheckpointError unless it is a readable `kind` checkpoint
    of this format version."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for truncated or foreign files
        # torch's own messages run to paragraphs; the error's kind is enough to act on
        raise CheckpointError(f"{path}: not a readable checkpoint: corrupt, truncated or not written by "
                              f"latentstage ({type(error).__name__})") from None
    found = payload.get("kind") if isinstance(payload, dict) else type(payload).__name__
    if found != kind:
        raise CheckpointError(f"{path}: not a {kind!r} checkpoint (its kind is {found!r})")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version!r}, this latentstage reads version "
                              f"{FORMAT_VERSION}")
    missing = [name for name in FIELDS if name not in payload]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(missing)}")
    return Checkpoint(**{name: payload[name] for name in FIELDS})


def mismatch(path: str | Path, what: str, error: Exception) -> CheckpointError:
    """A one-line CheckpointError for a checkpoint whose states do not fit `what` (load_state_dict's
    size mismatches run to many lines; the first says enough)."""
    lines = str(error).strip().splitlines()
    return CheckpointError(f"{path}: checkpoint does not fit {what}: {lines[0] if lines else type(error).__name__}")


def _on_cpu(value: Any) -> Any:
    # GPU tensors in optimizer states too; a checkpoint must load on a machine without that GPU
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {key: _on_cpu(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_on_cpu(item) for item in value)
    return value
