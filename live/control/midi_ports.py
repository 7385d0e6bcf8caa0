"""MIDI ports through python-rtmidi: list them, open one by name or index, and re-open it when it comes back.

A show names its devices as people see them: part of a port's name
("nanoKONTROL", any case) or its index in `latentstage midi list`. A
`WatchedPort` opens the first port that matches when it is there; `refresh`
(a `PortWatcher` calls it every POLL_EVERY seconds on its own thread) notices
the port gone (unplugged, or its program closed it) and opens it again once a
port of that name is back. An absent device is a status line ("MIDI
'nanoKONTROL' absent"), never an error: the show goes on without it.

Ports come from the ALSA sequencer where the machine has one (/dev/snd/seq),
else from a JACK server (`jackd -d dummy` gives real ports with no sound card);
`LATENTSTAGE_MIDI_API=alsa|jack` chooses. Input callbacks run on rtmidi's
thread (under JACK its real-time one): they only hand the bytes over.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from live.core import jack_clients

log = logging.getLogger(__name__)

POLL_EVERY = 1.0  # seconds between looks at the port list: a device plugged back is open within a second or so
CLIENT_NAME = "latentstage"
Direction = Literal["input", "output"]
Receiver = Callable[[list[int], float], None]  # (message bytes, seconds since the port's previous message)


class MidiUnavailable(OSError):
    """No MIDI system to open ports on (no ALSA sequencer, no JACK server), or python-rtmidi missing."""


def api_name() -> str:
    """"alsa" or "jack": LATENTSTAGE_MIDI_API if set, else ALSA where its sequencer device exists."""
    chosen = os.environ.get("LATENTSTAGE_MIDI_API", "").lower()
    if chosen in ("alsa", "jack"):
        return chosen
    return "alsa" if Path("/dev/snd/seq").exists() else "jack"


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """libjack and ALSA write their own complaints to the process's stderr when there is no server;
    the one-line MidiUnavailable says it better."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def open_client(direction: Direction, name: str = CLIENT_NAME):
    """An rtmidi MidiIn or MidiOut on this machine's MIDI system; MidiUnavailable says why not."""
    try:
        import rtmidi
    except ImportError:
        raise MidiUnavailable("python-rtmidi is not installed (pip install python-rtmidi)") from None
    api = api_name()
    kind = rtmidi.MidiIn if direction == "input" else rtmidi.MidiOut
    try:
        with jack_clients.opening(), _quiet_native_stderr():  # never a server started behind the user's back
            return kind(rtmidi.API_LINUX_ALSA if api == "alsa" else rtmidi.API_UNIX_JACK, name)
    except rtmidi.SystemError:
        why = ("the ALSA sequencer (/dev/snd/seq) does not open" if api == "alsa" else
               "no JACK server is running (start one: jackd -d dummy, or with your sound card)")
        raise MidiUnavailable(f"no MIDI here: {why}") from None


def port_names(direction: Direction) -> list[str]:
    """The ports other programs offer: inputs we can read from, or outputs we can send to."""
    client = open_client(direction, f"{CLIENT_NAME}-list")
    try:
        return list(client.get_ports())
    finally:
        client.delete()


def find_port(names: list[str], wanted: str | int) -> int | None:
    """The index of the port `wanted` names: an index, or part of its name (any case); None if absent."""
    if isinstance(wanted, int):
        return wanted if 0 <= wanted < len(names) else None
    return next((index for index, name in enumerate(names) if wanted.lower() in name.lower()), None)


class WatchedPort:
    """One device a show names, kept open while it is there. An input hands each message to `receive`
    on rtmidi's thread; an output sends with `send` (dropped, counted, while the device is absent)."""

    def __init__(self, wanted: str | int, direction: Direction, receive: Receiver | None = None):
        self.wanted = wanted
        self.direction = direction
        self.receive = receive
        self.opened: str | None = None  # the full name of the port open now
        self.openings = 0  # times a port was opened: 2 after one unplug and return
        self.unsent = 0  # messages an absent output could not send
        self._lock = threading.Lock()
        self._closed = False
        self._client = self._new_client()

    def _new_client(self):
        """A client of our own per opening: rtmidi's JACK client, once its port is closed, does not
        hear a port it opens again."""
        client = open_client(self.direction)
        if self.direction == "input":
            client.ignore_types(sysex=False, timing=False, active_sense=False)  # seen, so counted
            client.set_callback(self._arrived)
        return client

    @property
    def label(self) -> str:
        return f"MIDI {self.wanted!r}" if isinstance(self.wanted, str) else f"MIDI port {self.wanted}"

    def status(self) -> str:
        return "" if self.opened else f"{self.label} absent"

    def refresh(self) -> None:
        """Look at the port list once: close a port that went away, open one that came (back)."""
        with self._lock:
            if self._closed:
                return
            if self._client is None:  # the last one went with its port, and a new one failed (JACK gone)
                self._client = self._new_client()
            names = list(self._client.get_ports())
            index = find_port(names, self.wanted)
            if self.opened is not None and (index is None or names[index] != self.opened):
                log.warning("%s (%s) went away; it opens again when it comes back", self.label, self.opened)
                self._drop_client()
                self._client, self.opened = None, None
                self._client = self._new_client()
            if self.opened is None and index is not None:
                self._client.open_port(index, f"{self.direction} {self.openings}")
                self.opened = names[index]
                self.openings += 1
                log.info("%s: %s %s", self.label, "opened" if self.openings == 1 else "open again", self.opened)

    def send(self, message: list[int]) -> bool:
        """Send one message if the device is there; False (and counted) if not."""
        with self._lock:
            if self.opened is None:
                self.unsent += 1
                return False
            self._client.send_message(message)
            return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._client is not None:
                self._drop_client()
                self._client = None
            self.opened = None

    def _drop_client(self) -> None:
        if self.direction == "input":
            self._client.cancel_callback()
        self._client.close_port()
        self._client.delete()

    def _arrived(self, event: tuple[list[int], float], data: object = None) -> None:
        if self.receive is not None:
            self.receive(*event)


class PortWatcher:
    """Refreshes ports every `interval` seconds on a daemon thread until `stop`; a port that fails to
    refresh is logged and tried again next time."""

    def __init__(self, ports: list[WatchedPort], interval: float = POLL_EVERY):
        self.ports = ports
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.refresh()
        self._thread = threading.Thread(target=self._watch, name="midi-ports", daemon=True)
        self._thread.start()

    def refresh(self) -> None:
        for port in self.ports:
            try:
                port.refresh()
            except Exception as error:  # rtmidi raises its own errors for a port that vanished mid-open
                log.warning("%s: %s; trying again in %g s", port.label, error, self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self.refresh()
