"""Warnings about outside input, at most one per cause per interval: a flood of junk (OSC packets, MIDI
bytes) is counted, not written line by line, and cannot hide a different cause behind it."""
from __future__ import annotations

import logging
import math
import time


class RateLimitedLog:
    """At most one warning per cause per interval (seconds); the ones in between are counted into
    that cause's next line, so a flood of junk cannot hide a refused sender."""

    def __init__(self, logger: logging.Logger, interval: float):
        self._logger = logger
        self._interval = interval
        self._last: dict[str, float] = {}  # cause -> time.monotonic() of its last warning written
        self._skipped: dict[str, int] = {}  # cause -> warnings held back since

    def warning(self, cause: str, text: str) -> None:
        now = time.monotonic()
        if now - self._last.get(cause, -math.inf) < self._interval:
            self._skipped[cause] = self._skipped.get(cause, 0) + 1
            return
        skipped = self._skipped.pop(cause, 0)
        suffix = f" ({skipped} more since the last report)" if skipped else ""
        self._logger.warning("%s%s", text, suffix)
        self._last[cause] = now
