"""Ctrl-C (SIGINT) and SIGTERM as requests to stop between training steps.

A KeyboardInterrupt can land anywhere, half way through an optimizer update,
and a checkpoint of that state would be torn. Within stop_requests() the first
signal only sets a flag that the loop reads after each step, so it stops on a
completed step and can save it; a second signal raises KeyboardInterrupt at
once, for a step that hangs. SIGTERM counts too: torchrun forwards it to its
workers on Ctrl-C, and clusters send it before pre-empting a job.
"""
from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_requests() -> Iterator[Callable[[], bool]]:
    """A function telling whether a stop was asked for during the block; the previous handlers
    come back afterwards. Outside the main thread (where Python delivers no signals) it is always False."""
    requested = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield requested.is_set
        return

    def ask_to_stop(number: int, frame: object) -> None:
        if requested.is_set():
            raise KeyboardInterrupt
        requested.set()
        tqdm.write(f"{signal.Signals(number).name}: stopping after this step (again to stop at once)",
                   file=sys.stderr)

    previous = {number: signal.signal(number, ask_to_stop) for number in STOP_SIGNALS}
    try:
        yield requested.is_set
    finally:
        for number, handler in previous.items():
            # None: a handler installed outside Python; the default is the nearest we can restore
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
