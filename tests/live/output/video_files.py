"""Helpers for the video tests: frames with real content, and what a player decodes from a file."""
from __future__ import annotations

import av
import numpy as np


def gradient(height: int, width: int, shift: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB that differs per frame, so the encoder has real work."""
    ramp = (np.arange(width, dtype=np.uint16) + shift) % 256
    return np.broadcast_to(ramp[None, :, None], (height, width, 3)).astype(np.uint8)


def decoded_times(path) -> list[float]:
    """Presentation times of every frame in the file, in seconds."""
    with av.open(str(path)) as container:
        return [float(frame.time) for frame in container.decode(video=0)]


def decoded_pictures(path) -> list[np.ndarray]:
    """Every frame in the file as (H, W, 3) uint8 RGB."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def assert_same_pictures(want: list[np.ndarray], got: list[np.ndarray]) -> None:
    """As many frames as wanted (a bare zip would let a file with none pass), each the same
    picture up to H.264's loss."""
    assert len(got) == len(want), f"decoded {len(got)} frames, wanted {len(want)}"
    for index, (expected, decoded) in enumerate(zip(want, got)):
        error = np.abs(expected.astype(int) - decoded.astype(int)).mean()
        assert error < 4, f"frame {index} is off by {error:.1f} levels on average"
