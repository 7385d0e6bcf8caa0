"""The control bus: every value a performer can change is a named, typed, range-checked parameter.

OSC handlers, keys, the director and mappings all write through `ControlBus.set`,
which coerces the value to the parameter's kind, rejects out-of-range values
with a `ControlError` (nothing clamps there: a sender that asks for too much
hears about it), bumps a per-parameter version so the frame loop can poll
cheaply, and tells subscribers (OSC feedback, the HUD) outside its one lock.
Raw controller inputs (an OSC fader's own address, a key's state) are plain
floats beside the parameters, for mappings to read. Mappings come from the
show file as data, never code: a source (an audio feature, an OSC address, a
key or an LFO), an input range, a curve, attack/release smoothing against the
frame clock t, and an output range; `Mapper.update(t, features)` runs them once
per frame tick, so a rehearsal on a virtual clock gives the same values.
"""
from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.dataclasses import dataclass as config_dataclass

log = logging.getLogger(__name__)

Kind = Literal["float", "int", "bool", "str", "trigger"]
Value = float | int | bool | str
Subscriber = Callable[[str, Value, str], None]  # (name, new value, source)

AudioFeature = Literal["level", "bass", "low_mid", "high_mid", "high", "flux", "onset", "onset_strength", "beat"]
AUDIO_FEATURES: tuple[str, ...] = get_args(AudioFeature)
Curve = Literal["linear", "exp", "log", "smooth"]
LfoShape = Literal["sine", "triangle", "saw", "square"]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")  # "cppn.scale"
TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"0", "false", "off", "no"})
# How bent the exp and log curves are: exp(0.5) = 0.12, log(0.5) = 0.83. They are each other's inverse.
CURVE_STEEPNESS = 4.0


class ControlError(ValueError):
    """A parameter or mapping that cannot be used, or a value a parameter does not accept."""


@dataclass(frozen=True)
class Parameter:
    name: str  # dotted, lower case: "cppn.scale"; OSC address /<prefix>/cppn/scale
    kind: Kind
    default: Value = 0.0  # ignored for a trigger, whose value is its press count (starts at 0)
    minimum: float | None = None  # inclusive; int and float only
    maximum: float | None = None
    choices: tuple[str, ...] = ()  # str only; empty: any string
    description: str = ""  # one line, with units

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ControlError(f"parameter name {self.name!r}: use lower-case words joined by dots, like cppn.scale")
        if self.kind not in get_args(Kind):
            raise ControlError(f"{self.name}: kind {self.kind!r} is not one of {', '.join(get_args(Kind))}")
        numeric = self.kind in ("float", "int")
        if not numeric and (self.minimum is not None or self.maximum is not None):
            raise ControlError(f"{self.name}: only float and int parameters have a minimum and maximum")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ControlError(f"{self.name}: minimum {self.minimum} is above maximum {self.maximum}")
        if self.choices and self.kind != "str":
            raise ControlError(f"{self.name}: only str parameters have choices")
        object.__setattr__(self, "choices", tuple(self.choices))
        if self.kind == "trigger":
            object.__setattr__(self, "default", 0)
        else:
            object.__setattr__(self, "default", coerce(self, self.default))


def coerce(parameter: Parameter, value: Any) -> Value:
    """`value` as the parameter's kind, or a ControlError saying why not.

    float: int or float, finite. int: int, or a float rounded to the nearest int
    (controllers send floats). bool: True/False, 0/1, or "1"/"0"/"true"/"false"/
    "on"/"off"/"yes"/"no". str: a string; with choices, one of them, or a number
    whose text is a listed choice, or else an integral number as an index into
    the choices. Strings are never parsed into numbers. Range is checked after.
    """
    kind = parameter.kind
    if kind == "trigger":
        return value
    if kind == "bool":
        return _as_bool(parameter, value)
    if kind == "str":
        return _as_choice(parameter, value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(f"{parameter.name} takes a number ({kind}), not {_describe(value)}")
    if not math.isfinite(value):
        raise ControlError(f"{parameter.name} takes a finite number, not {value}")
    number: int | float = math.floor(value + 0.5) if kind == "int" else float(value)
    _check_range(parameter, number)
    return number


def _as_bool(parameter: Parameter, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ControlError(f"{parameter.name} takes on/off (0 or 1, true or false), not {_describe(value)}")


def _as_choice(parameter: Parameter, value: Any) -> str:
    choices = parameter.choices
    if isinstance(value, str):
        if choices and value not in choices:
            raise ControlError(f"{parameter.name}: {value!r} is not one of {', '.join(choices)}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not choices:
        raise ControlError(f"{parameter.name} takes a string, not {_describe(value)}")
    if math.isfinite(value) and value == int(value):
        if str(int(value)) in choices:
            return str(int(value))
        if 0 <= int(value) < len(choices):
            return choices[int(value)]
    raise ControlError(f"{parameter.name}: index {value} is outside 0..{len(choices) - 1} ({', '.join(choices)})")


def _check_range(parameter: Parameter, number: float) -> None:
    if parameter.minimum is not None and number < parameter.minimum:
        raise ControlError(f"{parameter.name}: {number} is below its minimum {parameter.minimum}")
    if parameter.maximum is not None and number > parameter.maximum:
        raise ControlError(f"{parameter.name}: {number} is above its maximum {parameter.maximum}")


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


class ControlBus:
    """Named parameters and raw controller inputs behind one lock; safe to write from any thread."""

    def __init__(self, parameters: Iterable[Parameter] = ()):
        self._lock = threading.Lock()
        self._parameters: dict[str, Parameter] = {}
        self._values: dict[str, Value] = {}
        self._versions: dict[str, int] = {}
        self._inputs: dict[str, float] = {}  # "osc:/1/fader1" or "key:j" -> latest value
        self._subscribers: list[Subscriber] = []
        for parameter in parameters:
            self.declare(parameter)

    def declare(self, parameter: Parameter) -> None:
        with self._lock:
            if parameter.name in self._parameters:
                raise ControlError(f"parameter {parameter.name} is declared twice")
            self._parameters[parameter.name] = parameter
            self._values[parameter.name] = parameter.default
            self._versions[parameter.name] = 0

    def parameter(self, name: str) -> Parameter:
        with self._lock:
            return self._lookup(name)

    def parameters(self) -> list[Parameter]:
        with self._lock:
            return list(self._parameters.values())

    def set(self, name: str, value: Any = None, source: str = "api") -> Value:
        """Store `value` (coerced, range-checked) and return what was stored. A trigger counts
        one press and ignores `value`. Subscribers hear about it only when the value changed."""
        with self._lock:
            parameter = self._lookup(name)
        stored = coerce(parameter, value)  # outside the lock: pure, and may raise
        with self._lock:
            if parameter.kind == "trigger":
                stored = self._values[name] + 1
            elif _same(self._values[name], stored):
                return stored
            self._values[name] = stored
            self._versions[name] += 1
            subscribers = tuple(self._subscribers)
        for callback in subscribers:
            try:
                callback(name, stored, source)
            except Exception:  # a broken listener (a dead feedback socket) must not stop the control path
                log.exception("control subscriber %r failed on %s", callback, name)
        return stored

    def get(self, name: str) -> Value:
        with self._lock:
            self._lookup(name)
            return self._values[name]

    def count(self, name: str) -> int:
        """How many times a trigger has been pressed since the bus was made."""
        with self._lock:
            if self._lookup(name).kind != "trigger":
                raise ControlError(f"{name} is not a trigger")
            return int(self._values[name])

    def version(self, name: str) -> int:
        """Goes up by one on every change; compare with the last version seen to poll cheaply."""
        with self._lock:
            self._lookup(name)
            return self._versions[name]

    def values(self) -> dict[str, Value]:
        with self._lock:
            return dict(self._values)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(name, value, source)` after each change, on the thread that made it.
        Returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)
        return unsubscribe

    def set_input(self, key: str, value: float) -> None:
        """A raw controller value for mappings: key is "osc:<address>" or "key:<name>"."""
        number = float(value)
        if not math.isfinite(number):
            raise ControlError(f"input {key}: {value} is not a finite number")
        with self._lock:
            self._inputs[key] = number

    def input(self, key: str, default: float = 0.0) -> float:
        with self._lock:
            return self._inputs.get(key, default)

    def _lookup(self, name: str) -> Parameter:
        parameter = self._parameters.get(name)
        if parameter is None:
            raise ControlError(f"unknown parameter {name!r}; known: {', '.join(sorted(self._parameters))}")
        return parameter


def _same(old: Value, new: Value) -> bool:
    return type(old) is type(new) and old == new


def standard_parameters(scene_names: Sequence[str]) -> list[Parameter]:
    """The parameters every show has; scene names come from the show file, in order."""
    if not scene_names:
        raise ControlError("a show needs at least one scene")
    return [
        Parameter("scene", "str", scene_names[0], choices=tuple(scene_names),
                  description="scene on screen: its name, or its index (0-based) in the show"),
        Parameter("scene.next", "trigger", description="press: fade to the next scene in show order"),
        Parameter("scene.previous", "trigger", description="press: fade to the previous scene in show order"),
        Parameter("fade", "float", 1.0, 0.0, 30.0, description="seconds of crossfade for a performer's scene change"),
        Parameter("cppn.scale", "float", 8.0, 0.1, 64.0,
                  description="CPPN coordinate zoom, unitless: larger shows more, finer pattern"),
        Parameter("cppn.speed", "float", 1.0, -8.0, 8.0,
                  description="CPPN morph speed, times the keyframe rate; negative runs backwards"),
        Parameter("cppn.jitter", "float", 0.0, 0.0, 1.0,
                  description="how far an onset kicks the CPPN latent, in latent units (keyframes lie in -1..1)"),
        Parameter("canny.sigma", "float", 0.33, 0.0, 1.0,
                  description="Canny threshold spread around the median level, fraction: higher keeps fainter edges"),
        Parameter("style.strength", "float", 1.0, 0.0, 1.0,
                  description="style model output mixed over its input, fraction (1 = fully styled)"),
        Parameter("hud", "bool", False, description="on/off: the heads-up display of fps, latency and errors"),
        Parameter("mirror", "bool", False, description="on/off: flip the picture left-right, like a mirror"),
    ]


# --- mappings: the maths -------------------------------------------------------------------------------

def normalise(value: float, low: float, high: float) -> float:
    """`value` placed in [low, high] as 0..1, clamped; low > high inverts."""
    return min(max((value - low) / (high - low), 0.0), 1.0)


def apply_curve(x: float, curve: str) -> float:
    """Reshape 0..1 into 0..1 (ends fixed): linear, exp (slow start), log (fast start), smooth (ease in-out)."""
    x = min(max(x, 0.0), 1.0)
    if curve == "linear":
        return x
    if curve == "exp":
        return math.expm1(CURVE_STEEPNESS * x) / math.expm1(CURVE_STEEPNESS)
    if curve == "log":
        return math.log1p(x * math.expm1(CURVE_STEEPNESS)) / CURVE_STEEPNESS
    if curve == "smooth":
        return x * x * (3.0 - 2.0 * x)
    raise ControlError(f"unknown curve {curve!r}; curves are {', '.join(get_args(Curve))}")


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


def smooth(previous: float, target: float, dt: float, attack: float, release: float) -> float:
    """One step of an asymmetric one-pole filter: rising values follow with time constant
    `attack`, falling ones with `release` (seconds to cover 63% of the gap; 0 jumps). dt in seconds."""
    constant = attack if target > previous else release
    if constant <= 0.0:
        return target
    return target + (previous - target) * math.exp(-max(dt, 0.0) / constant)


def feature_value(features: Mapping[str, float] | object | None, name: str) -> float:
    """An audio feature from a dict or an object with attributes; 0 when there is no audio or no such feature."""
    if features is None:
        return 0.0
    value = features.get(name, 0.0) if isinstance(features, Mapping) else getattr(features, name, 0.0)
    return float(value)


# --- mappings: the show file's declarations -------------------------------------------------------------

OSC_ADDRESS = re.compile(r"^(/[^\s#*,?\[\]{}/]+)+$")  # a concrete address: no spaces, no OSC patterns
KEY_NAME = re.compile(r"^([!-~]|[a-z][a-z0-9_]*)$")  # one printable character, or a word: "j", "space", "f1"


@config_dataclass(config=ConfigDict(extra="forbid"))
class LfoConfig:
    shape: LfoShape = "sine"
    period: float = Field(4.0, gt=0)  # seconds per cycle
    phase: float = Field(0.0, ge=0, le=1)  # fraction of a cycle already gone at t = 0


class MappingConfig(BaseModel):
    """One source driving one parameter: `{audio: bass, to: cppn.scale, out: [4, 24], release: 0.3}`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    audio: AudioFeature | None = None
    osc: str | None = None  # a controller's own address, e.g. /1/fader1
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
        if address is not None and not OSC_ADDRESS.match(address):
            raise ValueError(f"{address!r} is not an OSC address like /1/fader1 (no spaces or wildcards)")
        return address

    @field_validator("key")
    @classmethod
    def _key_name(cls, key: str | None) -> str | None:
        if key is not None and not KEY_NAME.match(key.lower()):
            raise ValueError(f"{key!r} is not a key name: one character like j, or a word like space or f1")
        return None if key is None else key.lower()

    @field_validator("to")
    @classmethod
    def _parameter_name(cls, name: str) -> str:
        if not NAME_PATTERN.match(name):
            raise ValueError(f"{name!r} is not a parameter name like cppn.scale")
        return name

    @field_validator("in_")
    @classmethod
    def _input_range(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        if bounds[0] == bounds[1] or not all(math.isfinite(b) for b in bounds):
            raise ValueError(f"in must be two different finite numbers, got {list(bounds)}")
        return bounds

    @model_validator(mode="after")
    def _one_source(self) -> MappingConfig:
        given = [name for name in ("audio", "osc", "key", "lfo") if getattr(self, name) is not None]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ValueError(f"a mapping needs exactly one source among audio, osc, key, lfo; found {found}")
        return self

    @property
    def source(self) -> str:
        """A short label for messages: "audio:bass", "osc:/1/fader1", "key:j", "lfo:sine/2s"."""
        if self.audio is not None:
            return f"audio:{self.audio}"
        if self.osc is not None:
            return f"osc:{self.osc}"
        if self.key is not None:
            return f"key:{self.key}"
        return f"lfo:{self.lfo.shape}/{self.lfo.period:g}s"


def value_bounds(parameter: Parameter) -> tuple[float | None, float | None]:
    """What a mapping can reach on a parameter: its range, choice indices, or 0..1 for on/off and triggers."""
    if parameter.kind in ("bool", "trigger"):
        return 0.0, 1.0
    if parameter.kind == "str":
        return (0.0, float(len(parameter.choices) - 1)) if parameter.choices else (None, None)
    return parameter.minimum, parameter.maximum


def output_range(mapping: MappingConfig, parameter: Parameter) -> tuple[float, float]:
    """The parameter values a mapping's 0 and 1 become: `out`, or the parameter's whole range."""
    if parameter.kind in ("bool", "trigger"):
        return 0.0, 1.0
    return mapping.out or value_bounds(parameter)


def check_targets(mappings: Sequence[MappingConfig], bus: ControlBus) -> None:
    """Every mapping names a parameter it can drive, with an output range inside the parameter's."""
    known = {parameter.name: parameter for parameter in bus.parameters()}
    for index, mapping in enumerate(mappings):
        where = f"mappings[{index}] ({mapping.source} -> {mapping.to})"
        parameter = known.get(mapping.to)
        if parameter is None:
            raise ControlError(f"{where}: to: {mapping.to!r} is not a parameter; known: {', '.join(sorted(known))}")
        if parameter.kind == "str" and not parameter.choices:
            raise ControlError(f"{where}: {mapping.to} is free text, which a mapping cannot drive")
        if parameter.kind in ("bool", "trigger") and mapping.out is not None:
            raise ControlError(f"{where}: {mapping.to} is a {parameter.kind}: it switches at half way; leave out `out`")
        bottom, top = value_bounds(parameter)
        if mapping.out is None and (bottom is None or top is None):
            raise ControlError(f"{where}: {mapping.to} has no fixed range: give `out: [low, high]`")
        for bound in mapping.out or ():
            if (bottom is not None and bound < bottom) or (top is not None and bound > top):
                raise ControlError(f"{where}: out {list(mapping.out)} goes outside {mapping.to}'s range "
                                   f"{bottom}..{top}")


@dataclass
class _Route:
    """A mapping's running state between frames."""

    mapping: MappingConfig
    parameter: Parameter
    level: float = 0.0  # smoothed 0..1
    last_t: float | None = None  # seconds
    written: Value | None = None  # what this mapping last wrote, to write only on change
    armed: bool = True  # triggers fire on the way up through 0.5, then wait for it to fall back
    out: tuple[float, float] = (0.0, 1.0)  # parameter values for levels 0 and 1


class Mapper:
    """Runs a show's mappings once per frame tick, writing parameters with source "mapping".

    A mapping writes only when its own output changes, so a value set by hand (OSC,
    keys) holds until the mapped source moves again. bool targets are on from half
    way; triggers press once each time the level rises through half way; str targets
    with choices take the output rounded to an index."""

    def __init__(self, mappings: Sequence[MappingConfig], bus: ControlBus):
        check_targets(mappings, bus)
        self.bus = bus
        self._routes = []
        for mapping in mappings:
            parameter = bus.parameter(mapping.to)
            self._routes.append(_Route(mapping, parameter, out=output_range(mapping, parameter)))

    def update(self, t: float, features: Mapping[str, float] | object | None = None) -> None:
        """t: the frame clock in seconds (wall or virtual); features: this frame's audio features."""
        for route in self._routes:
            self._step(route, t, features)

    def _step(self, route: _Route, t: float, features: Mapping[str, float] | object | None) -> None:
        mapping = route.mapping
        raw = self._read(mapping, t, features)
        if not math.isfinite(raw):
            return
        target = apply_curve(normalise(raw, *mapping.in_), mapping.curve)
        if route.last_t is None or t < route.last_t:  # first frame, or the clock went back (a rehearsal restart)
            route.level = target
        else:
            route.level = smooth(route.level, target, t - route.last_t, mapping.attack, mapping.release)
        route.last_t = t
        if route.parameter.kind == "trigger":
            self._press(route)
            return
        value = _parameter_value(route.parameter, route.level, route.out)
        if route.written is None or not _same(route.written, value):
            route.written = self.bus.set(mapping.to, value, source="mapping")

    def _press(self, route: _Route) -> None:
        if route.armed and route.level >= 0.5:
            self.bus.set(route.mapping.to, source="mapping")
            route.armed = False
        elif route.level < 0.5:
            route.armed = True

    def _read(self, mapping: MappingConfig, t: float, features: Mapping[str, float] | object | None) -> float:
        if mapping.audio is not None:
            return feature_value(features, mapping.audio)
        if mapping.osc is not None:
            return self.bus.input(f"osc:{mapping.osc}")
        if mapping.key is not None:
            return self.bus.input(f"key:{mapping.key}")
        return lfo(t, mapping.lfo.shape, mapping.lfo.period, mapping.lfo.phase)


def _parameter_value(parameter: Parameter, level: float, out: tuple[float, float]) -> Value:
    """A 0..1 level as a value of the parameter's kind, inside its range."""
    if parameter.kind == "bool":
        return level >= 0.5
    value = out[0] + level * (out[1] - out[0])
    if parameter.kind == "str":
        index = min(max(math.floor(value + 0.5), 0), len(parameter.choices) - 1)
        return parameter.choices[index]
    if parameter.minimum is not None:
        value = max(value, parameter.minimum)  # float rounding must not push a mapped value out of range
    if parameter.maximum is not None:
        value = min(value, parameter.maximum)
    return math.floor(value + 0.5) if parameter.kind == "int" else value
