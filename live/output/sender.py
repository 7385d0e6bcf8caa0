"""The latest-wins sender: one output (a stream, NDI, a virtual camera) fed from its own supervised thread.

The render thread offers each program picture and returns at once: the frame
goes into a single-slot Mailbox, where a newer one replaces it (counted as
dropped) while the output is still busy with the last. The sender's thread
opens the output, sends whatever is newest, and when the output fails (a TCP
receiver gone, a device vanished) closes it; its SupervisedWorker logs that
once, says it on the HUD and opens it again with backoff, so a receiver that
comes back gets pictures again. An output that blocks (a peer that stops
reading) holds one frame, never a queue of them.
"""
from __future__ import annotations

import os
import threading
from typing import Protocol

from live.core.clock import Clock
from live.core.frames import Frame, Mailbox
from live.core.worker import SupervisedWorker

WAKE_EVERY = 0.1  # seconds between looks at `stopping` while no frame comes
BACKOFF_MAX = 2.0  # seconds: a receiver that comes back is found again within this
# Added to the sender thread's nice value (Linux keeps one per thread; the encoder's and NDI's own threads,
# started from it, inherit it): where the CPU is short, the show's render and inference threads come first
# and the outputs drop frames, rather than the other way round.
NICER = 10
# Seconds an output that failed before must send before it counts as recovered: a TCP peer that stopped
# reading takes new connections and stalls them again, and each round is then one failure streak, logged
# as a summary every half minute rather than a warning and a "recovered" line every few seconds.
STEADY_AFTER = 5.0


class OutputError(ValueError):
    """An output that cannot work on this machine (no such protocol, library or device), in one line."""


class Output(Protocol):
    """One kind of output; its calls run on the sender's thread only."""

    label: str  # how the HUD and the log name it: "udp://127.0.0.1:5000", "NDI latentstage"

    def open(self, width: int, height: int) -> None:
        """Get ready to send pictures of the first frame's size (an output with a size of its own
        scales to it); raise WorkFailure (or any error) when it cannot."""

    def send(self, frame: Frame) -> None:
        """Send one (H, W, 3) uint8 RGB frame; `captured_at` is when it was shown (show seconds)."""

    def close(self) -> None:
        """Let go of what open() took; called after a failure too."""

    def state(self) -> str:
        """What the HUD says while it works: "sending", "2 receivers"."""


class FrameSender:
    """Runs one Output on its own thread. offer() is for the render thread; counters and hud_line()
    for anyone. sent + dropped + (at most one waiting) == offered."""

    def __init__(self, output: Output, clock: Clock):
        self.output = output
        self._mailbox: Mailbox[Frame] = Mailbox()
        self._ready = threading.Event()
        self.worker = SupervisedWorker(f"send {output.label}", self._work, clock, backoff_max=BACKOFF_MAX)
        self.offered = 0
        self.sent = 0
        self._lost = 0  # frames taken whose send failed
        self._state = ""  # what the output said after its last good send; "" while it is not sending

    @property
    def dropped(self) -> int:
        return self._mailbox.dropped + self._lost

    @property
    def errors(self) -> int:
        return self.worker.health().failures

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self._ready.set()  # wake the thread to see it is stopping
        self.worker.stop()

    def offer(self, frame: Frame) -> None:
        """Hand over a frame nobody will write to again; returns at once."""
        self.offered += 1
        self._mailbox.put(frame)
        self._ready.set()

    def hud_line(self) -> str:
        state = self._state or f"not sending: {self.worker.health().message}"
        return f"{self.output.label}: {state}, {self.dropped} dropped"

    def figures(self) -> dict:
        """Its counters as plain JSON-able values (for --stats-json)."""
        health = self.worker.health()
        return {"sent": self.sent, "dropped": self.dropped, "errors": self.errors,
                "restarts": health.restarts, "state": self._state or health.message}

    def _work(self, worker: SupervisedWorker) -> None:
        _be_nicer()
        frame = self._next_frame(worker)  # the first frame's size is the output's, unless it has its own
        if frame is None:
            return
        height, width = frame.pixels.shape[:2]
        output = self.output
        try:
            output.open(width, height)
            opened_at = worker.clock()
            while frame is not None:
                self._send(frame)
                self._state = output.state()
                if worker.health().failures == 0 or worker.clock() - opened_at >= STEADY_AFTER:
                    worker.mark_healthy(self._state)
                frame = self._next_frame(worker)
        finally:
            self._state = ""
            output.close()

    def _next_frame(self, worker: SupervisedWorker) -> Frame | None:
        """The newest frame not sent yet, waiting for one; None once stopping."""
        while not worker.stopping:
            frame = self._mailbox.take_new()
            if frame is not None:
                return frame
            self._ready.wait(WAKE_EVERY)
            self._ready.clear()
        return None

    def _send(self, frame: Frame) -> None:
        try:
            self.output.send(frame)
        except BaseException:
            self._lost += 1
            raise
        self.sent += 1


def _be_nicer() -> None:
    """NICER for the calling thread, where the system has per-thread nice values (Linux); else nothing."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                       min(19, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) + NICER))
    except (AttributeError, OSError):  # no setpriority (Windows), or not allowed
        pass
