"""The control bus: the base value of every performer parameter, safe to write from any thread.

OSC handlers, keys, the director and controller mappings all write through
`ControlBus.set`, which coerces the value to the parameter's kind, rejects
out-of-range values with a `ControlError`, bumps a per-parameter version so
the frame loop can poll cheaply, and tells subscribers (OSC feedback, the HUD)
outside its one lock. A value a controller set is *held*: it stays until the
controller moves again or `release` returns the parameter to "follow the show"
(its declared default). Audio and LFO mappings never write here; they modulate
around these base values per frame (live.control.mappings).

Scene parameters live under their scene's name (`drift.scale`). An *alias*
names the same parameter on whatever scene is on screen (`cppn.scale`): it
resolves through the `scene` parameter, which always holds the scene on screen.
Raw controller inputs (an OSC fader's own address, a key's state) are plain
floats beside the parameters, for mappings to read.

A frame *tick* (`with bus.tick()`) holds writers from other threads off while
the frame reads the bus, so a frame sees every outside write before it and
none during it; each outside write is numbered and handed to the journal (the
event log), and the tick says how many it saw. Replaying the journal's writes
between the same ticks gives the same frames.
"""
from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from live.control.parameters import ControlError, Parameter, Value, coerce, same_value

log = logging.getLogger(__name__)

Subscriber = Callable[[str, Value, str], None]  # (full parameter name, new base value, source)
Journal = Callable[[int, str, str, Any, str], None]  # (number, "set"|"release"|"input", name, value, source)
SHOW = "show"  # the source of values that follow the show rather than a performer


class ControlBus:
    """Named parameters, aliases and raw controller inputs behind one lock."""

    def __init__(self, parameters: Iterable[Parameter] = ()):
        self._lock = threading.Lock()
        self._parameters: dict[str, Parameter] = {}
        self._values: dict[str, Value] = {}
        self._held: set[str] = set()  # names a performer set; the rest follow the show
        self._versions: dict[str, int] = {}
        self._aliases: dict[str, tuple[Parameter, dict[str, str]]] = {}  # alias -> (declaration, scene -> name)
        self._inputs: dict[str, float] = {}  # "osc:/1/fader1" or "key:j" -> latest value
        self._input_peaks: dict[str, float] = {}  # the same keys -> highest value since take_inputs
        self._subscribers: list[Subscriber] = []
        self._ticking = threading.RLock()  # held by a frame's tick, and by each write
        self._tick_depth = 0  # > 0 while the thread holding _ticking is a frame's tick
        self._outside_writes = 0  # writes made outside any tick, numbered from 1
        self._journal: Journal | None = None
        for parameter in parameters:
            self.declare(parameter)

    # --- declarations ---------------------------------------------------------------------------------

    def declare(self, parameter: Parameter) -> None:
        with self._lock:
            self._check_free(parameter.name)
            self._parameters[parameter.name] = parameter
            self._values[parameter.name] = parameter.default
            self._versions[parameter.name] = 0

    def declare_alias(self, alias: Parameter, targets: Mapping[str, str]) -> None:
        """`alias.name` addresses the parameter `targets[scene on screen]`; `alias` is what listings show."""
        with self._lock:
            self._check_free(alias.name)
            unknown = [name for name in targets.values() if name not in self._parameters]
            if unknown:
                raise ControlError(f"alias {alias.name} points at undeclared {', '.join(unknown)}")
            self._aliases[alias.name] = (alias, dict(targets))

    def declaration(self, name: str) -> Parameter:
        """What `name` was declared as: a parameter, or an alias's kind-wide declaration."""
        with self._lock:
            if name in self._aliases:
                return self._aliases[name][0]
            return self._lookup(name)

    def parameters(self) -> list[Parameter]:
        """Every address's declaration, parameters first (in declaration order), then aliases."""
        with self._lock:
            return list(self._parameters.values()) + [alias for alias, _ in self._aliases.values()]

    def resolve(self, name: str) -> str:
        """The parameter `name` means now: itself, or for an alias the on-screen scene's parameter."""
        with self._lock:
            return self._resolve(name)

    def is_alias(self, name: str) -> bool:
        with self._lock:
            return name in self._aliases

    def targets(self, name: str) -> list[str]:
        """Every parameter `name` can mean: itself, or each scene's parameter an alias points at."""
        with self._lock:
            if name in self._aliases:
                return list(self._aliases[name][1].values())
            self._lookup(name)
            return [name]

    def aliases_of(self, name: str) -> list[str]:
        """Aliases that resolve to `name` now (feedback echoes those addresses too)."""
        with self._lock:
            return [alias for alias in self._aliases if self._resolve_or_none(alias) == name]

    # --- values ---------------------------------------------------------------------------------------

    def set(self, name: str, value: Any = None, source: str = "api") -> Value:
        """Store `value` (coerced, range-checked) as the base and return what was stored. A trigger
        counts one press and ignores `value`. Subscribers hear about it only when the value changed.
        Any source but "show" holds the value against the show's own."""
        with self._ticking:
            with self._lock:
                name = self._resolve(name)
                parameter = self._parameters[name]
            stored = coerce(parameter, value)  # outside the lock: pure, and may raise
            self._write("set", name, None if parameter.kind == "trigger" else stored, source)
            if parameter.kind == "trigger":
                return self._store(name, None, source, held=False)
            return self._store(name, stored, source, held=source != SHOW)

    def release(self, name: str, source: str = "api") -> Value:
        """Let `name` follow the show again: back to its declared default, no longer held."""
        with self._ticking:
            with self._lock:
                name = self._resolve(name)
            self._write("release", name, None, source)
            return self._store(name, self._parameters[name].default, source, held=False)

    def held(self, name: str) -> bool:
        """Whether a performer set `name` (and has not released it)."""
        with self._lock:
            return self._resolve(name) in self._held

    def get(self, name: str) -> Value:
        with self._lock:
            return self._values[self._resolve(name)]

    def count(self, name: str) -> int:
        """How many times a trigger has been pressed since the bus was made."""
        with self._lock:
            name = self._resolve(name)
            if self._parameters[name].kind != "trigger":
                raise ControlError(f"{name} is not a trigger")
            return int(self._values[name])

    def version(self, name: str) -> int:
        """Goes up by one on every change; compare with the last version seen to poll cheaply."""
        with self._lock:
            return self._versions[self._resolve(name)]

    def values(self) -> dict[str, Value]:
        """Base values of every parameter by full name (aliases are not listed twice)."""
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
        with self._ticking:
            self._write("input", key, number, "input")
            with self._lock:
                self._inputs[key] = number
                self._input_peaks[key] = max(self._input_peaks.get(key, number), number)

    def input(self, key: str, default: float = 0.0) -> float:
        with self._lock:
            return self._inputs.get(key, default)

    def take_inputs(self) -> dict[str, tuple[float, float]]:
        """Every raw input as (latest, highest since the previous take), for one frame tick: a button
        pressed and released between two ticks (a quick tap, a bundle) still reads as pressed once."""
        with self._lock:
            taken = {key: (value, self._input_peaks.get(key, value)) for key, value in self._inputs.items()}
            self._input_peaks = dict(self._inputs)
        return taken

    # --- frames and the journal ---------------------------------------------------------------------

    @contextlib.contextmanager
    def tick(self) -> Iterator[int]:
        """A frame reading the bus: writes from other threads wait until it ends (they take well under
        a millisecond each, and so does a frame's reading). Yields how many outside writes came before."""
        with self._ticking:
            self._tick_depth += 1
            try:
                yield self._outside_writes
            finally:
                self._tick_depth -= 1

    def keep_journal(self, journal: Journal | None) -> None:
        """Hand every outside write (not a frame's own: cues, mappings, the director) to `journal`,
        numbered, in the order they reach the bus; None stops."""
        with self._ticking:
            self._journal = journal

    def _write(self, operation: str, name: str, value: Any, source: str) -> None:
        """Number an outside write (the caller holds _ticking) and journal it."""
        if self._tick_depth:
            return
        self._outside_writes += 1
        if self._journal is not None:
            self._journal(self._outside_writes, operation, name, value, source)

    # --- under the lock -------------------------------------------------------------------------------

    def _store(self, name: str, value: Value | None, source: str, held: bool) -> Value:
        """Write a checked value (None: one more press of a trigger), mark it held or not, and tell
        the subscribers if it changed."""
        with self._lock:
            if held:
                self._held.add(name)
            else:
                self._held.discard(name)
            if value is None:
                value = self._values[name] + 1
            elif same_value(self._values[name], value):
                return value
            self._values[name] = value
            self._versions[name] += 1
            subscribers = tuple(self._subscribers)
        self._notify(subscribers, name, value, source)
        return value

    def _notify(self, subscribers: tuple[Subscriber, ...], name: str, value: Value, source: str) -> None:
        for callback in subscribers:
            try:
                callback(name, value, source)
            except Exception:  # a broken listener (a dead feedback socket) must not stop the control path
                log.exception("control subscriber %r failed on %s", callback, name)

    def _resolve(self, name: str) -> str:
        if name in self._parameters:
            return name
        if name not in self._aliases:
            self._lookup(name)  # raises with the known names
        resolved = self._resolve_or_none(name)
        if resolved is None:
            raise ControlError(f"{name}: the scene on screen ({self._values.get('scene')}) has no such parameter")
        return resolved

    def _resolve_or_none(self, alias: str) -> str | None:
        return self._aliases[alias][1].get(str(self._values.get("scene")))

    def _lookup(self, name: str) -> Parameter:
        parameter = self._parameters.get(name)
        if parameter is None:
            known = sorted([*self._parameters, *self._aliases])
            raise ControlError(f"unknown parameter {name!r}; known: {', '.join(known)}")
        return parameter

    def _check_free(self, name: str) -> None:
        if name in self._parameters or name in self._aliases:
            raise ControlError(f"parameter {name} is declared twice")
