"""The process's JACK clients: opened one at a time, and a block in which libjack finds no server.

libjack finds its server through the environment (JACK_DEFAULT_SERVER, else
"default") each time a client opens. The MIDI ports open theirs through
python-rtmidi (live.control.midi_ports) inside `opening()`; the audio input
initialises PortAudio, whose JACK host API would open one of its own, inside
`out_of_sight()` (live.inputs.portaudio). The two share one lock, so no MIDI
client opens, to a server nobody runs, while PortAudio is being kept from JACK.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

SERVER = "JACK_DEFAULT_SERVER"
NO_START = "JACK_NO_START_SERVER"
NOBODY = "latentstage-no-server"  # a server name no JACK server runs under
_OPENING = threading.Lock()


@contextlib.contextmanager
def opening() -> Iterator[None]:
    """Around opening a JACK client: never while libjack is pointed at no server."""
    with _OPENING:
        os.environ.setdefault(NO_START, "1")  # never start a JACK server behind the user's back
        yield


@contextlib.contextmanager
def out_of_sight() -> Iterator[None]:
    """A block in which libjack connects to no server and starts none: a library initialised in it
    (PortAudio) opens no JACK client. The variables are set, then only ever replaced, never removed
    and added again, so the environment's array is not reallocated under another thread's getenv."""
    with _OPENING:
        os.environ[NO_START] = "1"
        server = os.environ.get(SERVER, "default")  # "default": libjack's own name when none is set
        os.environ[SERVER] = NOBODY
        try:
            yield
        finally:
            os.environ[SERVER] = server
