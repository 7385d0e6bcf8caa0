"""Mappings: audio features, LFOs, OSC faders, MIDI controls and keys driving parameters, declared in the show as data.

A mapping reads one source (an audio feature, a controller's own OSC address,
a MIDI control, a key, or an LFO), places it in its input range, bends it with a curve,
smooths it with attack/release against the frame clock t, and spreads it over
an output range. `Mapper.update(t, features)` runs them once per frame tick,
so a rehearsal on a virtual clock gives the same values.

Controllers set, modulators move. A mapping from a controller (OSC, MIDI, keys)
writes the parameter's base value on the bus, as the controller's own message
would. A mapping from audio or an LFO never writes: it modulates the base per
frame. With nobody at the controls the parameter moves over the mapping's
`out` range exactly as written; once a performer sets the parameter, the same
movement is carried around the performer's value instead: an LFO swings
around it (its rest is the middle of `out`), audio lifts it (its rest, in
silence, is `out[0]`). The result is clamped to the parameter's range, and the
bus (and so controller feedback) keeps the performer's value. A modulator on
an alias (`cppn.scale`) moves that parameter on every scene it can address,
so a crossfade between two such scenes stays smooth. Mappings to a discrete
parameter (on/off, a choice, a trigger) write, whatever their source.
"""
from __future__ import annotations

import difflib
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import ConfigDict, Field, field_validator, model_validator

from live.control.bus import ControlBus
from live.control.midi_messages import MidiSource
from live.control.parameters import (
    NAME_PATTERN,
    ControlError,
    Parameter,
    Value,
    clamp,
    same_value,
    value_bounds,
)
from live.core.config import Settings, matching
from live.core.curves import Curve, apply_curve, invert_curve
from live.core.smoothing import smooth

log = logging.getLogger(__name__)

AudioFeature = Literal["level", "bass", "low_mid", "high_mid", "high", "flux", "onset", "onset_strength", "beat"]
AUDIO_FEATURES: tuple[str, ...] = get_args(AudioFeature)
CameraFeature = Literal["presence"]  # read from the camera's frames (live.inputs.presence), 0..1
LfoShape = Literal["sine", "triangle", "saw", "square"]
CONTINUOUS = ("float", "int")  # parameter kinds a modulator moves; the others it sets
MODULATION_RULE = """\
Controllers set, mappings modulate. An OSC message, a key or a controller mapping (osc:, key:)
sets a parameter's base value, and it holds until the controller moves again or
<prefix>/follow <name> lets the parameter follow the show again. Audio and LFO mappings
never overwrite it: they move the parameter around the base each frame, by the width of
their `out` range (an LFO swings around it, audio lifts it from it). With no controller
the parameter moves over `out` as written. Feedback and queries report the base value."""


def normalise(value: float, low: float, high: float) -> float:
    """`value` placed in [low, high] as 0..1, clamped; low > high inverts."""
    return min(max((value - low) / (high - low), 0.0), 1.0)


def lfo(t: float, shape: str, period: float, phase: float = 0.0) -> float:
    """A 0..1 oscillator at time t (seconds). Sine, triangle and saw start at 0 at phase 0
    (sine and triangle peak half a period later); square is 1 for the first half of each period."""
    cycle = (t / period + phase) % 1.0  # fraction of the period
    if shape == "sine":
        return 0.5 - 0.5 * math.cos(2.0 * math.pi * cycle)
    if shape == "triangle":
        return 1.0 - abs(2.0 * cycle - 1.0)
    if shape == "saw":
        return cycle
    if shape == "square":
        return 1.0 if cycle < 0.5 else 0.0
    raise ControlError(f"unknown LFO shape {shape!r}; shapes are {', '.join(get_args(LfoShape))}")

def feature_value(features: Mapping[str, float] | object | None, name: str) -> float:
    """An audio feature from a dict or an object with attributes; 0 when there is no audio or no such feature."""
    if features is None:
        return 0.0
    value = features.get(name, 0.0) if isinstance(features, Mapping) else getattr(features, name, 0.0)
    return float(value)




# --- the show file's declarations ------------------------------------------------------------------

MAPPING_SOURCES = ("audio", "camera", "osc", "midi", "key", "lfo")
OSC_ADDRESS = re.compile(r"^(/[^\s#*,?\[\]{}/]+)+$")  # a concrete address: no spaces, no OSC patterns
KEY_NAME = re.compile(r"^([!-~]|[a-z][a-z0-9_]*)$")  # one printable character, or a word: "j", "space", "f1"


class LfoConfig(Settings):
    shape: LfoShape = "sine"
    period: float = Field(4.0, gt=0)  # seconds per cycle
    phase: float = Field(0.0, ge=0, le=1)  # fraction of a cycle already gone at t = 0


class MappingConfig(Settings):
    """One source driving one parameter: `{audio: bass, to: cppn.scale, out: [4, 24], release: 0.3}`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)  # `in` is a Python keyword: in_ in code

    audio: AudioFeature | None = None
    camera: CameraFeature | None = None  # who is in front of the camera: the bus input camera:presence
    osc: str | None = None  # a controller's own address, e.g. /1/fader1
    midi: MidiSource | None = None  # a MIDI control: {cc: 21, channel: 1}, {note: 36}, {pitchbend: true}
    key: str | None = None  # held = 1, released = 0
    lfo: LfoConfig | None = None
    to: str  # a parameter name; whether it exists is checked against the bus (check_targets)
    in_: tuple[float, float] = Field((0.0, 1.0), alias="in")  # source values that map to 0 and 1
    out: tuple[float, float] | None = None  # parameter values for 0 and 1; None: the parameter's range
    curve: Curve = "linear"
    attack: float = Field(0.0, ge=0)  # seconds: time constant while the value rises
    release: float = Field(0.0, ge=0)  # seconds: time constant while it falls (how long a pulse rings)

    @field_validator("osc")
    @classmethod
    def _osc_address(cls, address: str | None) -> str | None:
        return matching(OSC_ADDRESS, address, "an OSC address like /1/fader1 (no spaces or wildcards)")

    @field_validator("key")
    @classmethod
    def _key_name(cls, key: str | None) -> str | None:
        return matching(KEY_NAME, None if key is None else key.lower(),
                        "a key name: one character like j, or a word like space or f1")

    @field_validator("to")
    @classmethod
    def _parameter_name(cls, name: str) -> str:
        return matching(NAME_PATTERN, name, "a parameter name like cppn.scale")

    @field_validator("in_")
    @classmethod
    def _input_range(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        if bounds[0] == bounds[1] or not all(math.isfinite(b) for b in bounds):
            raise ValueError(f"in must be two different finite numbers, got {list(bounds)}")
        return bounds

    @model_validator(mode="after")
    def _one_source(self) -> MappingConfig:
        given = [name for name in MAPPING_SOURCES if getattr(self, name) is not None]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ValueError(f"a mapping needs exactly one source among {', '.join(MAPPING_SOURCES)}; found {found}")
        return self

    @property
    def source(self) -> str:
        """A short label for messages: "audio:bass", "osc:/1/fader1", "key:j", "lfo:sine/2s"."""
        if self.audio is not None:
            return f"audio:{self.audio}"
        if self.camera is not None:
            return f"camera:{self.camera}"
        if self.osc is not None:
            return f"osc:{self.osc}"
        if self.midi is not None:
            return f"midi:{self.midi.label}"
        if self.key is not None:
            return f"key:{self.key}"
        return f"lfo:{self.lfo.shape}/{self.lfo.period:g}s"


    @property
    def modulates(self) -> bool:
        """Audio, the camera's presence and LFOs move a parameter around its base; controllers (OSC, MIDI,
        keys) set the base."""
        return self.audio is not None or self.camera is not None or self.lfo is not None

    @property
    def input_key(self) -> str | None:
        """The raw bus input a mapping reads ("osc:/1/fader1", "key:j", "midi:*/cc/1/21", "camera:presence")."""
        if self.camera is not None:
            return f"camera:{self.camera}"
        if self.osc is not None:
            return f"osc:{self.osc}"
        if self.key is not None:
            return f"key:{self.key}"
        return self.midi.input_key if self.midi is not None else None

    def rest(self, out: tuple[float, float]) -> float:
        """Where the modulation sits when its source is at rest: an LFO's middle, silence's bottom."""
        return (out[0] + out[1]) / 2.0 if self.lfo is not None else out[0]


def output_range(mapping: MappingConfig, parameter: Parameter) -> tuple[float, float]:
    """The parameter values a mapping's 0 and 1 become: `out`, or the parameter's whole range."""
    if parameter.kind in ("bool", "trigger"):
        return 0.0, 1.0
    return mapping.out or value_bounds(parameter)


def controller_value(mapping: MappingConfig, parameter: Parameter, raw: float) -> Value:
    """The value a controller mapping with no smoothing writes for the source value `raw`: what the
    Mapper writes on the next frame, for a controller that writes it at once (MIDI does, to be as quick
    as OSC's own addresses)."""
    level = apply_curve(normalise(raw, *mapping.in_), mapping.curve)
    return _parameter_value(parameter, level, output_range(mapping, parameter))


def source_value(mapping: MappingConfig, parameter: Parameter, value: Value) -> float:
    """The source value that makes `mapping` write `value` (its steps backwards, smoothing aside), clamped
    to its `in` range: what a controller's fader or LED should show for the parameter's base value."""
    low, high = output_range(mapping, parameter)
    if parameter.kind == "str":
        number = float(parameter.choices.index(value)) if value in parameter.choices else low
    else:
        number = float(value)
    level = invert_curve(normalise(number, low, high) if high != low else 0.0, mapping.curve)
    return mapping.in_[0] + level * (mapping.in_[1] - mapping.in_[0])


def check_targets(mappings: Sequence[MappingConfig], bus: ControlBus) -> None:
    """Every mapping names a parameter (or alias) it can drive, with an output range inside its range."""
    for index, mapping in enumerate(mappings):
        try:
            check_target(mapping, bus)
        except MappingTargetError as error:
            raise ControlError(f"mappings[{index}].{error.key} ({mapping.source} -> {mapping.to}): {error}") from None


class MappingTargetError(ControlError):
    """A mapping that cannot drive what it names; `key` is its key at fault, `to` or `out`."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def check_target(mapping: MappingConfig, bus: ControlBus) -> None:
    """One mapping's `to` and `out` against the parameter it names; MappingTargetError says what is
    wrong, and under which of the two keys."""
    try:
        parameter = bus.declaration(mapping.to)
    except ControlError:
        names = sorted(p.name for p in bus.parameters())
        close = difflib.get_close_matches(mapping.to, names, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise MappingTargetError("to", f"{mapping.to!r} is not a parameter; {hint}known: {', '.join(names)}") from None
    if parameter.kind == "str" and not parameter.choices:
        raise MappingTargetError("to", f"{mapping.to} is free text, which a mapping cannot drive")
    if parameter.kind in ("bool", "trigger") and mapping.out is not None:
        raise MappingTargetError("out", f"{mapping.to} is a {parameter.kind}: it switches at half way; leave out `out`")
    bottom, top = value_bounds(parameter)
    if mapping.out is None and (bottom is None or top is None):
        raise MappingTargetError("to", f"{mapping.to} has no fixed range: give `out: [low, high]`")
    for bound in mapping.out or ():
        if (bottom is not None and bound < bottom) or (top is not None and bound > top):
            raise MappingTargetError("out", f"{list(mapping.out)} goes outside {mapping.to}'s range {bottom}..{top}")


# --- running them ---------------------------------------------------------------------------------------

@dataclass
class _Route:
    """A mapping's running state between frames."""

    mapping: MappingConfig
    parameter: Parameter  # the target's declaration (an alias's kind-wide one)
    out: tuple[float, float]  # parameter values for levels 0 and 1
    level: float = 0.0  # smoothed 0..1
    last_t: float | None = None  # seconds
    written: Value | None = None  # what this mapping last wrote, to write only on change
    armed: bool = True  # triggers fire on the way up through 0.5, then wait for it to fall back


@dataclass(frozen=True)
class _Swing:
    """One modulator's contribution this frame: where it is and where it rests, in parameter units."""

    value: float
    rest: float


class Mapper:
    """Runs a show's mappings once per frame tick: controllers write the bus, modulators are kept
    for `value` to apply. Bus writes are tagged source "mapping"."""

    def __init__(self, mappings: Sequence[MappingConfig], bus: ControlBus):
        check_targets(mappings, bus)
        self.bus = bus
        self._routes = []
        for mapping in mappings:
            parameter = bus.declaration(mapping.to)
            self._routes.append(_Route(mapping, parameter, output_range(mapping, parameter)))
        self._swings: dict[str, list[_Swing]] = {}  # full parameter name -> this frame's modulators
        self._unresolved: set[str] = set()  # alias targets already reported as not on screen

    def update(self, t: float, features: Mapping[str, float] | object | None = None) -> None:
        """t: the frame clock in seconds (wall or virtual); features: this frame's audio features."""
        swings: dict[str, list[_Swing]] = {}
        inputs = self.bus.take_inputs()
        for route in self._routes:
            self._follow(route, t, features, inputs)
            if route.last_t is None:
                continue  # a controller not moved yet: the parameter follows the show until it is
            mapping = route.mapping
            if mapping.modulates and route.parameter.kind in CONTINUOUS:
                swing = _Swing(_number_at(route.level, route.out), mapping.rest(route.out))
                for name in self.bus.targets(mapping.to):
                    swings.setdefault(name, []).append(swing)
            elif route.parameter.kind == "trigger":
                self._press(route)
            else:
                self._write(route)
        self._swings = swings

    def value(self, name: str) -> Value:
        """The value a scene uses this frame: the bus's base, modulated (`name` is a full name)."""
        base = self.bus.get(name)
        swings = self._swings.get(name)
        if not swings:
            return base
        anchor = base if self.bus.held(name) else swings[0].rest
        return clamp(self.bus.declaration(name), anchor + sum(swing.value - swing.rest for swing in swings))

    def _follow(self, route: _Route, t: float, features: Mapping[str, float] | object | None,
                inputs: dict[str, tuple[float, float]]) -> None:
        mapping = route.mapping
        raw = self._read(route, t, features, inputs)
        if not math.isfinite(raw):
            return
        target = apply_curve(normalise(raw, *mapping.in_), mapping.curve)
        if route.last_t is None or t < route.last_t:  # first frame, or the clock went back (a rehearsal restart)
            route.level = target
        else:
            route.level = smooth(route.level, target, t - route.last_t, mapping.attack, mapping.release)
        route.last_t = t

    def _write(self, route: _Route) -> None:
        value = _parameter_value(route.parameter, route.level, route.out)
        if route.written is not None and same_value(route.written, value):
            return
        try:
            route.written = self.bus.set(route.mapping.to, value, source="mapping")
        except ControlError as error:  # an alias whose kind is not on screen: nothing to drive now
            if route.mapping.to not in self._unresolved:
                self._unresolved.add(route.mapping.to)
                log.info("mapping %s -> %s: %s", route.mapping.source, route.mapping.to, error)

    def _press(self, route: _Route) -> None:
        if route.armed and route.level >= 0.5:
            self.bus.set(route.mapping.to, source="mapping")
            route.armed = False
        elif route.level < 0.5:
            route.armed = True

    def _read(self, route: _Route, t: float, features: Mapping[str, float] | object | None,
              inputs: dict[str, tuple[float, float]]) -> float:
        mapping = route.mapping
        if mapping.audio is not None:
            return feature_value(features, mapping.audio)
        if mapping.lfo is not None:
            return lfo(t, mapping.lfo.shape, mapping.lfo.period, mapping.lfo.phase)
        if mapping.input_key not in inputs:
            return math.nan
        latest, peak = inputs[mapping.input_key]
        # a switch or trigger must see a tap that came and went within the frame; a fader or a rotary
        # choosing among names, where it is now
        return peak if route.parameter.kind in ("bool", "trigger") else latest


def _number_at(level: float, out: tuple[float, float]) -> float:
    return out[0] + level * (out[1] - out[0])


def _parameter_value(parameter: Parameter, level: float, out: tuple[float, float]) -> Value:
    """A 0..1 level as a value of the parameter's kind, inside its range."""
    if parameter.kind == "bool":
        return level >= 0.5
    value = _number_at(level, out)
    if parameter.kind == "str":
        index = min(max(math.floor(value + 0.5), 0), len(parameter.choices) - 1)
        return parameter.choices[index]
    return clamp(parameter, value)  # float rounding must not push a mapped value out of range
