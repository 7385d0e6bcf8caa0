"""The run's outputs to other programs: one copy of each program picture, offered to every sender.

The render thread reads the program picture back once (shared with the
recording) and hands it here; it is copied once into a fresh array that the
senders only read, so each sender's thread converts and sends it while the
render thread goes on. The copy is a new array per frame rather than a pool:
a sender may hold its frame for as long as its receiver blocks it.
"""
from __future__ import annotations

import numpy as np

from live.core.clock import Clock
from live.core.frames import Frame
from live.output.sender import FrameSender, Output


class Sending:
    def __init__(self, outputs: list[Output], clock: Clock):
        self.senders = [FrameSender(output, clock) for output in outputs]
        self._seq = 0

    def start(self) -> None:
        for sender in self.senders:
            sender.start()

    def stop(self) -> None:
        for sender in self.senders:
            sender.stop()

    def offer(self, pixels: np.ndarray, shown_at: float) -> None:
        """The program picture, (H, W, 3) uint8 RGB, shown at `shown_at` (show seconds); returns at once."""
        frame = Frame(pixels.copy(), shown_at, self._seq)
        self._seq += 1
        for sender in self.senders:
            sender.offer(frame)

    def hud_lines(self) -> list[str]:
        return [sender.hud_line() for sender in self.senders]

    def figures(self) -> dict:
        """Per output, by its label: sent, dropped, errors (for --stats-json)."""
        return {sender.output.label: sender.figures() for sender in self.senders}
