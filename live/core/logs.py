"""Where the log goes: stderr, through a descriptor of its own.

sounddevice points descriptor 2 at /dev/null for about 50 ms each time it
initialises PortAudio, and the audio input re-initialises it on every retry to
find a replugged device: with no audio input that is every few seconds, and any
log line another thread wrote meanwhile was lost (2% of them). A duplicate of
the descriptor, taken before anything starts, is not touched by that.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_stream() -> TextIO:
    """A line-buffered text stream onto a duplicate of stderr's descriptor (stderr itself when it has none)."""
    try:
        descriptor = os.dup(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # a replaced sys.stderr (a test's capture) has no descriptor
        return sys.stderr
    return os.fdopen(descriptor, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8",
                     errors="backslashreplace")


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=FORMAT, datefmt="%H:%M:%S",
                        stream=log_stream())
