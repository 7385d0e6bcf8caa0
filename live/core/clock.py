"""Time as the live path sees it: a clock is a function that returns seconds.

Everything that needs the time takes a clock rather than calling
`time.perf_counter` itself, so a rehearsal can run it on a virtual clock and a
test can drive it. `ShowClock` counts from the moment a show starts: the
director, the scenes, the audio input and the OSC feedback all read the same one.
"""
from __future__ import annotations

import time
from typing import Callable

Clock = Callable[[], float]  # seconds, monotonic


class ShowClock:
    """Seconds since `start()` on a base clock (the wall clock unless a test gives another)."""

    def __init__(self, base: Clock = time.perf_counter):
        self._base = base
        self._started = base()

    def start(self, at: float = 0.0) -> None:
        """Count from `at` seconds (a resumed show goes on from where it was) from now on."""
        self._started = self._base() - at

    def __call__(self) -> float:
        return self._base() - self._started
