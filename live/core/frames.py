"""Frames and the single-slot mailbox they travel through.

A Frame is pixels plus when they were captured and a sequence number, so
latency is measured rather than guessed and stale results can be recognised.
A Mailbox holds one frame: the newest wins and each overwritten frame is
counted as dropped. No unbounded queue anywhere in the live path.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np


@dataclass(frozen=True)
class Frame:
    pixels: np.ndarray  # (H, W, 3) uint8 RGB, top row first
    captured_at: float  # seconds on the clock that made it
    seq: int  # increases by one per frame from one producer


class Sequenced(Protocol):
    seq: int


Item = TypeVar("Item", bound=Sequenced)


class Mailbox(Generic[Item]):
    """A latest-wins slot shared by one producer thread and one consumer thread.

    Holds anything with a `seq` (a Frame, or a composed pair of layers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Item | None = None
        self._taken_seq = -1
        self.dropped = 0  # frames overwritten before anyone took them

    def put(self, frame: Item) -> None:
        with self._lock:
            if self._frame is not None and self._frame.seq > self._taken_seq:
                self.dropped += 1
            self._frame = frame

    def newest(self) -> Item | None:
        """The newest frame, whether or not it was taken before (the renderer redraws it)."""
        with self._lock:
            if self._frame is not None:
                self._taken_seq = max(self._taken_seq, self._frame.seq)
            return self._frame

    def take_new(self) -> Item | None:
        """The newest frame if it has not been taken yet, else None."""
        with self._lock:
            frame = self._frame
            if frame is None or frame.seq <= self._taken_seq:
                return None
            self._taken_seq = frame.seq
            return frame
