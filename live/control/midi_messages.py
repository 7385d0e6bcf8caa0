"""MIDI bytes from a port into control events, and the raw-input names that show mappings read them by.

A port delivers bytes that nobody here checked: a controller's firmware, a
DAW, or something broken. `MidiParser` reads them as the byte stream MIDI is
(running status across messages, real-time bytes between a message's data
bytes, SysEx skipped to its end) and keeps what a show can be driven by: notes,
control changes (7-bit, and the 14-bit pairs CC n / CC n+32 for n < 32), pitch
bend and program changes, each as a number 0..1. Everything else is counted and
dropped: SysEx, clock and other system messages (ignored), and bytes that fit
no message (malformed: a data byte with no status before it, a message cut
short by the next status byte, a value outside 0..255, an undefined status).
Nothing raises.

Events become raw inputs on the control bus (`midi:cc/1/21`, read by a show's
`{midi: {cc: 21, channel: 1}, ...}`), under the device's name from the show
and under `*` for any device, on their channel and on `*` for any channel, so
a mapping can leave out either.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field, model_validator

from live.core.config import Settings

EventKind = Literal["note", "cc", "cc14", "pitchbend", "program"]
ANY = "*"  # a device or channel left out of a mapping
DATA_BYTES = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}  # channel status -> data bytes
SYSTEM_DATA_BYTES = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0}  # system common messages a show ignores


@dataclass(frozen=True)
class MidiEvent:
    kind: EventKind
    channel: int  # 1..16, as people and show files number them
    number: int  # the note, controller (the MSB's for cc14) or program; 0 for pitch bend
    value: float  # 0..1: velocity/127 (0 when released), CC/127, 14-bit/16383, bend 0.5 at rest; program 1

    @property
    def raw(self) -> int:
        """The value as the controller sent it: 0..127, 0..16383 for cc14 and pitch bend."""
        return round(self.value * (16383 if self.kind in ("cc14", "pitchbend") else 127))


@dataclass
class ParserCounts:
    events: int = 0  # control events made
    ignored: int = 0  # well-formed messages a show does not use (SysEx, clock, aftertouch, ...)
    malformed: int = 0  # bytes or messages that fit nothing

    def as_dict(self) -> dict[str, int]:
        return {"events": self.events, "ignored": self.ignored, "malformed": self.malformed}


@dataclass
class MidiParser:
    """One port's byte stream into events; state (running status, a message half read, 14-bit pairs)
    carries over from one `feed` to the next as it does on a wire."""

    counts: ParserCounts = field(default_factory=ParserCounts)
    _status: int | None = None  # running status: the last channel status byte
    _data: list[int] = field(default_factory=list)  # data bytes of the message being read
    _in_sysex: bool = False
    _system: int | None = None  # a system common message whose data bytes are being skipped
    _system_left: int = 0
    _msb: dict[tuple[int, int], int] = field(default_factory=dict)  # (channel, cc 0..31) -> MSB, for cc14
    _lsb: dict[tuple[int, int], int] = field(default_factory=dict)

    def feed(self, data: Iterable[int]) -> list[MidiEvent]:
        events: list[MidiEvent] = []
        for byte in data:
            if not isinstance(byte, int) or not 0 <= byte <= 0xFF:
                self.counts.malformed += 1
                continue
            if byte >= 0xF8:  # real-time (clock, start, stop, active sensing): may sit anywhere, changes nothing
                self.counts.ignored += 1
                continue
            if byte >= 0x80:
                self._begin(byte)
                continue
            if self._in_sysex:
                continue
            if self._system is not None:
                self._system_left -= 1
                if self._system_left == 0:
                    self._system = None
                    self.counts.ignored += 1
                continue
            if self._status is None:
                self.counts.malformed += 1  # a data byte with no status to belong to
                continue
            self._data.append(byte)
            if len(self._data) == DATA_BYTES[self._status & 0xF0]:
                events.extend(self._message(self._status, self._data))
                self._data = []  # the status stays: running status
        self.counts.events += len(events)
        return events

    def _begin(self, status: int) -> None:
        """A status byte: it ends whatever came before it, finished or not."""
        if self._data or self._system is not None:
            self.counts.malformed += 1  # the message before was cut short
        self._data = []
        self._system = None
        if self._in_sysex:
            self._in_sysex = False
            self.counts.ignored += 1  # a SysEx ends at F7, or (cut short) at any status byte
            if status == 0xF7:
                return
        if status < 0xF0:
            self._status = status
            return
        self._status = None  # system common messages cancel running status
        if status == 0xF0:
            self._in_sysex = True
        elif status in SYSTEM_DATA_BYTES:
            self._system, self._system_left = status, SYSTEM_DATA_BYTES[status]
            if self._system_left == 0:
                self._system = None
                self.counts.ignored += 1
        else:  # F4, F5 (undefined) and a stray F7
            self.counts.malformed += 1

    def _message(self, status: int, data: list[int]) -> list[MidiEvent]:
        kind, channel = status & 0xF0, (status & 0x0F) + 1
        if kind == 0x90 and data[1] > 0:
            return [MidiEvent("note", channel, data[0], data[1] / 127)]
        if kind in (0x80, 0x90):  # note off, or note on at velocity 0 (how most controllers release)
            return [MidiEvent("note", channel, data[0], 0.0)]
        if kind == 0xB0:
            return [MidiEvent("cc", channel, data[0], data[1] / 127), *self._fine(channel, data[0], data[1])]
        if kind == 0xE0:
            return [MidiEvent("pitchbend", channel, 0, (data[0] + 128 * data[1]) / 16383)]
        if kind == 0xC0:
            return [MidiEvent("program", channel, data[0], 1.0)]
        self.counts.ignored += 1  # aftertouch, channel pressure
        return []

    def _fine(self, channel: int, number: int, value: int) -> list[MidiEvent]:
        """The 14-bit value a CC pair makes: an MSB (CC 0..31) resets its LSB (CC +32) to 0, as the MIDI
        spec says, and an LSB refines the MSB last sent."""
        if number < 32:
            self._msb[(channel, number)] = value
            self._lsb[(channel, number)] = 0
            return [MidiEvent("cc14", channel, number, (128 * value) / 16383)]
        if number < 64 and (channel, number - 32) in self._msb:
            self._lsb[(channel, number - 32)] = value
            return [MidiEvent("cc14", channel, number - 32, (128 * self._msb[(channel, number - 32)] + value) / 16383)]
        return []


# --- the show's side: which event a mapping listens to ---------------------------------------------------

class MidiSource(Settings):
    """What a mapping listens to: `{cc: 21, channel: 1}`, `{note: 36}`, `{cc14: 1}` (CC 1 with CC 33 as
    its fine part), `{pitchbend: true}`, `{program: 5}`; on one of the show's MIDI devices (`device`,
    written as in `midi.inputs`) or any, on one channel (1-16) or any. Values are 0..1 (a CC's 0..127,
    a note's velocity while held and 0 once released, pitch bend 0.5 at rest); a program change is a
    press (1, then 0 at once)."""

    cc: int | None = Field(None, ge=0, le=127)
    cc14: int | None = Field(None, ge=0, le=31)
    note: int | None = Field(None, ge=0, le=127)
    pitchbend: bool = False
    program: int | None = Field(None, ge=0, le=127)
    channel: int | None = Field(None, ge=1, le=16)
    device: str | int | None = None

    @model_validator(mode="after")
    def _one_control(self) -> MidiSource:
        given = [name for name in ("cc", "cc14", "note", "program") if getattr(self, name) is not None]
        given += ["pitchbend"] if self.pitchbend else []
        if len(given) != 1:
            raise ValueError("a MIDI source is one of cc, cc14, note, pitchbend or program; found "
                             + (", ".join(given) or "none"))
        return self

    @property
    def kind(self) -> EventKind:
        return next(kind for kind in ("cc", "cc14", "note", "program") if getattr(self, kind) is not None) \
            if not self.pitchbend else "pitchbend"

    @property
    def number(self) -> int:
        return 0 if self.pitchbend else getattr(self, self.kind)

    @property
    def input_key(self) -> str:
        channel = ANY if self.channel is None else self.channel
        device = ANY if self.device is None else device_label(self.device)
        return input_key(device, self.kind, channel, self.number)

    @property
    def label(self) -> str:
        """As messages name it: "cc 21 ch 1", "note 36", "pitchbend on nano"."""
        text = self.kind if self.pitchbend else f"{self.kind} {self.number}"
        text += f" ch {self.channel}" if self.channel is not None else ""
        return text + (f" on {self.device}" if self.device is not None else "")


def device_label(entry: str | int) -> str:
    """A device as the show's `midi.inputs` names it (a name's part, or an index), as input keys carry it."""
    return str(entry)


def input_key(device: str, kind: str, channel: int | str, number: int) -> str:
    return f"midi:{device}/{kind}/{channel}/{number}"


def input_keys(device: str, event: MidiEvent) -> list[str]:
    """Every raw input an event sets: on its device and any device, on its channel and any channel."""
    return [input_key(d, event.kind, c, event.number) for d in (device, ANY) for c in (event.channel, ANY)]


def source_of(event: MidiEvent) -> dict:
    """The show file's words for the control an event came from (what MIDI learn writes)."""
    if event.kind == "pitchbend":
        return {"pitchbend": True, "channel": event.channel}
    return {event.kind: event.number, "channel": event.channel}
