"""The MIDI controller: notes, CCs, pitch bend and program changes from the show's devices into the control bus.

A show lists its devices (`midi: {inputs: [nanoKONTROL, 1]}`, by part of a port
name or an index) and maps their controls like OSC faders
(`{midi: {cc: 21, channel: 1}, to: drift.scale}`): each message becomes raw
inputs on the bus (live.control.midi_messages names them) that the show's
mappings turn into base values, so MIDI sets parameters exactly as OSC does.

Threads: rtmidi's callback only queues the bytes (under JACK it runs on the
real-time thread). The controller's own thread parses them and writes the bus,
outside the frame's tick as OSC does, so the event log journals every write.
A flood is bounded: at most MAX_PER_FRAME messages are applied between two
frames, and the queue keeps the newest QUEUE_LIMIT; older ones are dropped and
counted. Malformed bytes and messages a show does not use are counted, and
logged at most once every LOG_INTERVAL seconds.

Feedback: with `feedback: <output port>`, each MIDI-mapped parameter's base
value goes back to its control (a CC for a motor fader or an LED ring, a note's
velocity for a pad's light, pitch bend), run backwards through its mapping, at
most every FEEDBACK_INTERVAL seconds per control (the newest value goes out
when the interval is up), and never a value the control itself just sent.

MIDI learn: while the bus's `learn` holds a parameter's name (set by OSC
`/latentstage/learn drift.scale`, or by the show), the next control moved is
handed to `learned(parameter, source, device)`, which writes the mapping into the show
file; `learn` is then cleared.
"""
from __future__ import annotations

import collections
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence

import mido
from pydantic import Field, field_validator

from live.control.bus import ControlBus
from live.control.controller import Controller
from live.control.mappings import MappingConfig, check_target, controller_value, source_value
from live.control.midi_messages import MidiEvent, MidiParser, device_label, input_keys, source_of
from live.control.midi_ports import PortWatcher, WatchedPort
from live.control.parameters import ControlError, Value
from live.core.config import Settings
from live.core.rate_limited_log import RateLimitedLog

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1024  # messages waiting for the controller's thread; a flood past it drops the oldest
MAX_PER_FRAME = 256  # messages applied between two frames; the rest wait (and past QUEUE_LIMIT drop)
LOG_INTERVAL = 5.0  # seconds between warnings of one cause
FEEDBACK_INTERVAL = 0.1  # seconds: at most 10 values a second per control, as OSC feedback
LEARN = "learn"  # the bus parameter that arms MIDI learn

Learned = Callable[[str, dict, str], None]  # (parameter, the midi source as the show file writes it, device)


class MidiConfig(Settings):
    inputs: list[str | int] = Field(default_factory=list)  # devices: part of a port's name, or its index
    feedback: str | int | None = None  # the output port (name part or index) that hears mapped values

    @field_validator("inputs")
    @classmethod
    def _once_each(cls, inputs: list[str | int]) -> list[str | int]:
        labels = [device_label(entry) for entry in inputs]
        twice = sorted({label for label in labels if labels.count(label) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} listed twice; name each device once")
        return inputs


class MidiController(Controller):
    """The show's MIDI devices. Counters: received (messages queued), dropped (flooded out of the
    queue), and the parsers' events, ignored and malformed."""

    name = "midi"

    def __init__(self, config: MidiConfig, learned: Learned | None = None):
        super().__init__()
        self.config = config
        self.learned = learned
        self.mappings: list[MappingConfig] = []
        self.inputs: list[WatchedPort] = []
        self.output: WatchedPort | None = None
        self.received = 0
        self.dropped = 0
        self.learn_problem: str | None = None
        self._parsers = {device_label(entry): MidiParser() for entry in config.inputs}
        self._queue: collections.deque[tuple[str, list[int]]] = collections.deque(maxlen=QUEUE_LIMIT)
        self._arrived = threading.Event()
        self._frame_budget = MAX_PER_FRAME
        self._budget_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watcher: PortWatcher | None = None
        self._warnings = RateLimitedLog(log, LOG_INTERVAL)
        self._unsubscribe = None
        self._feedback_lock = threading.Lock()
        self._received_raw: dict[tuple[str, int, int], int] = {}  # control -> the raw value it last sent
        self._sent_raw: dict[tuple[str, int, int], int] = {}  # control -> the raw value feedback last sent
        self._sent_at: dict[tuple[str, int, int], float] = {}  # control -> time.monotonic() of its last send
        self._due: dict[tuple[str, int, int], int] = {}  # control -> raw value waiting for its interval

    # --- the controller interface --------------------------------------------------------------------

    def use_bus(self, bus: ControlBus) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = bus.subscribe(self._echo)
        self.bus = bus
        self._echo_all()

    def use_mappings(self, mappings: Sequence[MappingConfig]) -> None:
        self.mappings = [mapping for mapping in mappings if mapping.midi is not None]
        self._echo_all()

    def start(self) -> None:
        """Opens the devices that are there (an absent one opens when it comes); OSError (MidiUnavailable)
        when the machine has no MIDI system at all."""
        ports = []
        try:
            for entry in self.config.inputs:
                ports.append(WatchedPort(entry, "input", self._receiver(device_label(entry))))
            if self.config.feedback is not None:
                ports.append(WatchedPort(self.config.feedback, "output"))
        except OSError:
            for port in ports:
                port.close()
            raise
        self.inputs = [port for port in ports if port.direction == "input"]
        self.output = next((port for port in ports if port.direction == "output"), None)
        self._watcher = PortWatcher(ports)
        self._watcher.start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._apply_forever, name="midi-in", daemon=True)
        self._thread.start()
        if self.output is not None:
            self._unsubscribe = self.bus.subscribe(self._echo)
            self._echo_all()

    def poll(self, t: float) -> None:
        with self._budget_lock:
            self._frame_budget = MAX_PER_FRAME
        self._arrived.set()  # what waited for this frame's budget goes on
        self.flush_feedback()

    def stop(self) -> None:
        if self._watcher is None:
            return
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._watcher.stop()
        self._stop.set()
        self._arrived.set()
        self._thread.join(timeout=5.0)
        for port in [*self.inputs, *([self.output] if self.output else [])]:
            port.close()
        self._watcher = None

    def status(self) -> str:
        if self._watcher is None:
            return ""
        counts = self.counters()
        bad = counts["malformed"] + counts["dropped"]
        parts = [f"midi in {self.received} bad {bad} (malformed {counts['malformed']}, "
                 f"dropped {counts['dropped']}, ignored {counts['ignored']})"]
        parts += [port.status() for port in [*self.inputs, *([self.output] if self.output else [])]]
        learning = self._learning()
        if learning:
            parts.append(f"midi learn: move a control for {learning}")
        if self.learn_problem:
            parts.append(f"midi learn failed: {self.learn_problem}")
        return "   ".join(filter(None, parts))

    def counters(self) -> dict[str, int]:
        """What came in and what became of it, for --stats-json."""
        totals = {"received": self.received, "dropped": self.dropped, "events": 0, "ignored": 0, "malformed": 0}
        for parser in self._parsers.values():
            for key, value in parser.counts.as_dict().items():
                totals[key] += value
        return totals

    # --- rtmidi's thread: queue and go -----------------------------------------------------------------

    def _receiver(self, device: str) -> Callable[[list[int], float], None]:
        def receive(message: list[int], delta: float) -> None:
            if len(self._queue) == QUEUE_LIMIT:
                self.dropped += 1  # the deque drops the oldest to take this one
            self._queue.append((device, message))
            self.received += 1
            self._arrived.set()
        return receive

    # --- the controller's thread ---------------------------------------------------------------------

    def _apply_forever(self) -> None:
        while not self._stop.is_set():
            self._arrived.wait(0.5)
            self._arrived.clear()
            while self._queue and not self._stop.is_set():
                with self._budget_lock:
                    if self._frame_budget <= 0:
                        break  # the next frame's poll sets _arrived again
                    self._frame_budget -= 1
                device, message = self._queue.popleft()
                self._apply(device, message)

    def _apply(self, device: str, message: list[int]) -> None:
        parser = self._parsers[device]
        before = parser.counts.malformed
        events = parser.feed(message)
        if parser.counts.malformed != before:
            self._warnings.warning("malformed", f"MIDI from {device}: malformed bytes {_hex(message)}; ignored")
        bus = self.bus  # read once: a reloaded show may hand over a new one meanwhile
        mappings = self.mappings
        for event in events:
            self._received_raw[(event.kind, event.channel, event.number)] = event.raw
            keys = input_keys(device, event)
            for key in keys:
                bus.set_input(key, event.value)
            self._write_at_once(bus, mappings, keys, event.value)
            if event.kind == "program":  # a press: the mapping sees the peak, then it is over
                for key in input_keys(device, event):
                    bus.set_input(key, 0.0)
            if event.value > 0 and self._learning():
                self._learn(bus, event, device)

    def _write_at_once(self, bus: ControlBus, mappings: list[MappingConfig], keys: list[str], value: float) -> None:
        """Write what an unsmoothed mapping of this control will write, now rather than at the next frame
        tick, so a MIDI control acts as soon as an OSC address does. The tick's Mapper then writes the same
        value (no change); smoothed mappings and presses of triggers are left to it."""
        for mapping in mappings:
            if mapping.input_key not in keys or mapping.attack or mapping.release:
                continue
            try:
                parameter = bus.declaration(mapping.to)
                if parameter.kind != "trigger":
                    bus.set(mapping.to, controller_value(mapping, parameter, value), source="midi")
            except ControlError:  # an alias whose kind is not on screen: the Mapper says so once
                continue

    def _learning(self) -> str:
        try:
            return str(self.bus.get(LEARN)) if self.bus is not None else ""
        except ControlError:  # a bus without the parameter (a test's own)
            return ""

    def _learn(self, bus: ControlBus, event: MidiEvent, device: str) -> None:
        target = self._learning()
        source = source_of(event)
        bus.release(LEARN, source="midi")
        try:
            check_target(MappingConfig(midi=source, to=target), bus)
            if self.learned is None:
                raise ControlError("this show cannot be written to (it was not read from a file)")
            self.learned(target, source, device)
        except (ControlError, ValueError, OSError) as error:
            self.learn_problem = f"{target}: {error}"
            log.error("MIDI learn for %s: %s", target, error)
            return
        self.learn_problem = None
        log.info("MIDI learn: %s now drives %s", MappingConfig(midi=source, to=target).source, target)

    # --- feedback (on whichever thread changed the bus; sent from the frame's poll) ---------------------

    def _echo(self, name: str, value: Value, source: str) -> None:
        for mapping in self.mappings:
            try:
                if self.bus.resolve(mapping.to) != name:
                    continue
            except ControlError:  # an alias whose kind is not on screen
                continue
            self._owe(mapping, value)

    def _echo_all(self) -> None:
        """Every mapped control gets the value it should show (at start, and for a reloaded show)."""
        if self._unsubscribe is None:
            return
        for mapping in self.mappings:
            try:
                self._owe(mapping, self.bus.get(mapping.to))
            except ControlError:
                continue

    def _owe(self, mapping: MappingConfig, value: Value) -> None:
        midi = mapping.midi
        if midi.program is not None or self.bus.declaration(mapping.to).kind == "trigger":
            return  # a press has no value to show
        level = min(max(source_value(mapping, self.bus.declaration(mapping.to), value), 0.0), 1.0)
        top = 16383 if midi.kind in ("cc14", "pitchbend") else 127
        raw = round(level * top)
        control = (midi.kind, midi.channel or 1, midi.number)
        with self._feedback_lock:
            if self._received_raw.get(control) == raw or (self._sent_raw.get(control) == raw
                                                           and control not in self._due):
                return  # the control shows it already: it sent it, or we did
            self._due[control] = raw

    def flush_feedback(self) -> None:
        """Send each owed value whose control has not sent within FEEDBACK_INTERVAL."""
        if self.output is None:
            return
        now = time.monotonic()
        with self._feedback_lock:
            due = [(control, raw) for control, raw in self._due.items()
                   if now - self._sent_at.get(control, -math.inf) >= FEEDBACK_INTERVAL]
            for control, raw in due:
                del self._due[control]
                self._sent_at[control] = now
                self._sent_raw[control] = raw
        for control, raw in due:
            for message in feedback_messages(*control, raw):
                if not self.output.send(message):
                    self._warnings.warning("feedback", f"MIDI feedback: {self.output.status()}")


def _hex(message: list[int]) -> str:
    """The first bytes of a message as a log line shows them: "F0 7E 01 ..."."""
    shown = " ".join(f"{b:02X}" if isinstance(b, int) and 0 <= b < 256 else "??" for b in message[:12])
    return shown + (" ..." if len(message) > 12 else "")


def feedback_messages(kind: str, channel: int, number: int, raw: int) -> list[list[int]]:
    """The bytes that set a control to `raw` (0..127; 0..16383 for cc14 and pitch bend)."""
    channel -= 1
    if kind == "cc":
        return [mido.Message("control_change", channel=channel, control=number, value=raw).bytes()]
    if kind == "cc14":
        return [mido.Message("control_change", channel=channel, control=number, value=raw >> 7).bytes(),
                mido.Message("control_change", channel=channel, control=number + 32, value=raw & 0x7F).bytes()]
    if kind == "note":
        return [mido.Message("note_on", channel=channel, note=number, velocity=raw).bytes()]
    return [mido.Message("pitchwheel", channel=channel, pitch=raw - 8192).bytes()]
