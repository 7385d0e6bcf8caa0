"""Performer parameters: named, typed, range-checked values, and how a sent value becomes one.

A `Parameter` is a declaration: name, kind, default, range or choices and a
one-line meaning with units. Scene kinds declare theirs in one place (their
class's PARAMETERS); the show adds its own (`scene`, `fade`, `hud`, ...). The
bus, OSC addresses, `osc list`, mappings and the HUD are all built from these
declarations. `coerce` turns what a controller sends into the parameter's kind
or says why not: nothing clamps here, a sender that asks for too much hears
about it.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal, Sequence, get_args

Kind = Literal["float", "int", "bool", "str", "trigger"]
Value = float | int | bool | str

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")  # "cppn.scale"
TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"0", "false", "off", "no"})


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



def same_value(old: Value, new: Value) -> bool:
    """Equal and of the same type: True and 1 are different values to a controller."""
    return type(old) is type(new) and old == new


def value_bounds(parameter: Parameter) -> tuple[float | None, float | None]:
    """What a mapping can reach on a parameter: its range, choice indices, or 0..1 for on/off and triggers."""
    if parameter.kind in ("bool", "trigger"):
        return 0.0, 1.0
    if parameter.kind == "str":
        return (0.0, float(len(parameter.choices) - 1)) if parameter.choices else (None, None)
    return parameter.minimum, parameter.maximum


def clamp(parameter: Parameter, number: float) -> float | int:
    """A modulated number kept inside the parameter's range, as its kind (int rounds)."""
    if parameter.minimum is not None:
        number = max(number, parameter.minimum)
    if parameter.maximum is not None:
        number = min(number, parameter.maximum)
    return math.floor(number + 0.5) if parameter.kind == "int" else float(number)


def show_parameters(scene_names: Sequence[str]) -> list[Parameter]:
    """The parameters every show has, whatever its scenes; scene names come from the show file, in order."""
    if not scene_names:
        raise ControlError("a show needs at least one scene")
    return [
        Parameter("scene", "str", scene_names[0], choices=tuple(scene_names),
                  description="scene on screen: its name, or its index (0-based) in the show"),
        Parameter("scene.next", "trigger", description="press: fade to the next scene in show order"),
        Parameter("scene.previous", "trigger", description="press: fade to the previous scene in show order"),
        Parameter("go", "trigger", description="press: fire the standby cue of a cue list (space does too)"),
        Parameter("beat", "trigger", description="press: a beat from another tool, for cues on the beat "
                                                 "(a show with tempo: {source: osc})"),
        Parameter("tempo", "float", 0.0, 0.0, 400.0,
                  description="BPM the audio tempo tracker's octave is pinned near: of x0.5, x1 and x2 what it "
                              "hears, the nearest one the music pulses at; 0: unpinned"),
        Parameter("fade", "float", 1.0, 0.0, 30.0, description="seconds of crossfade for a performer's scene change"),
        Parameter("hud", "bool", False, description="on/off: the heads-up display of fps, latency and errors"),
        Parameter("mirror", "bool", False, description="on/off: flip the picture left-right, like a mirror"),
        Parameter("learn", "str", "", description="MIDI learn: a parameter's name; the next MIDI control moved "
                                                  "drives it, written into the show file"),
        Parameter("capture", "trigger", description="press: the on-screen scene's latent and held values into the "
                                                    "show file, as a keyframe and a cue that glides back to it"),
        Parameter("capture.name", "str", "", description="the name the next capture takes (/latentstage/capture NAME "
                                                         "sets it); empty: capture-1, capture-2, ..."),
    ]
