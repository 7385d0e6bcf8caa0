"""Random generator states as plain values, so a resumed run draws the very numbers it would have drawn.

Training randomness comes from four global streams: Python's `random`, NumPy's
legacy `np.random`, torch on the CPU and torch on each CUDA device. They are
captured as tensors and plain types only (NumPy's (624,) uint32 key array
becomes an int64 tensor), so a checkpoint holding them still loads with
torch.load(weights_only=True).
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch


def seed_all(seed: int) -> None:
    """Seed every global stream (Python, NumPy, torch on the CPU and all GPUs), for a run's first weights
    and draws; a resumed run then restores the states its checkpoint captured."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device as well


def capture_rng() -> dict[str, Any]:
    """The state of every global random stream of this process."""
    version, internal, gauss_next = random.getstate()
    algorithm, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    state = {
        # internal: 624 Mersenne Twister words and the position, each below 2**32
        "python": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64),
                   "gauss_next": gauss_next},
        "numpy": {"algorithm": algorithm, "keys": torch.from_numpy(keys.astype(np.int64)),
                  "position": int(position), "has_gauss": int(has_gauss),
                  "cached_gaussian": float(cached_gaussian)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()  # one state per visible GPU
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Set every global random stream to a state from capture_rng."""
    python = state["python"]
    random.setstate((python["version"], tuple(python["internal"].tolist()), python["gauss_next"]))
    numpy = state["numpy"]
    np.random.set_state((numpy["algorithm"], numpy["keys"].numpy().astype(np.uint32), numpy["position"],
                         numpy["has_gauss"], numpy["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if torch.cuda.is_available():
        # a machine with fewer GPUs than the one that saved restores those it has
        for index, cuda_state in enumerate(state.get("cuda", [])[:torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state, index)


@contextmanager
def preserved_rng() -> Iterator[None]:
    """Whatever the block draws, the streams afterwards are as before it (sample grids use this,
    so writing one does not change the training curve)."""
    state = capture_rng()
    try:
        yield
    finally:
        restore_rng(state)
