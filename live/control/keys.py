"""Keys in the live window: a controller like OSC, writing the control bus.

Every key held is a raw input (`key:j` is 1 while held, so a mapping can use
it); space, the digits, h and m write the bus's show parameters, so OSC
feedback follows them; f toggles the fullscreen mode of the window it is
pressed in. The keys act the same in every window they are given (the
program window, the operator window, or either alone); l arms MIDI
learn for the parameter a performer touched last (by OSC or a key): touch it
on the OSC controller, press l, move the MIDI control; c captures the scene on
screen into the show file (live.show.capture).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from live.control.controller import Controller

TOGGLES = {"h": "hud", "m": "mirror"}  # key -> the on/off parameter it flips
LEARN_KEY = "l"  # arms MIDI learn (the bus's `learn`) for the parameter touched last
CAPTURE_KEY = "c"  # presses the bus's `capture`


def key_name(symbol: int) -> str:
    """A key as show files name it: "j", "space", "f1", and "1" for the digit keys (pyglet calls them "_1")."""
    from pyglet.window import key

    return key.symbol_string(symbol).lower().lstrip("_") or "_"


class Keys(Controller):
    """The keys of pyglet `windows` (one or more). `space()` names the trigger space presses: the caller
    decides (GO in a cue list, the next scene otherwise); the digits 1-9 choose among the bus's scenes."""

    name = "keys"

    def __init__(self, windows: Sequence, space: Callable[[], str]):
        super().__init__()
        self.windows = list(windows)
        self.space = space
        self._bound: list[tuple[object, dict]] = []  # (window, the handlers pushed onto it)
        self.touched: str | None = None  # the parameter a performer set last, by OSC or a key
        self._unsubscribe = None

    def use_bus(self, bus) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = bus.subscribe(self._touch)
        self.bus = bus

    def start(self) -> None:
        for window in self.windows:
            handlers = {"on_key_press": self.on_key_press,
                        "on_key_release": functools.partial(self.on_key_release, window=window)}
            window.push_handlers(**handlers)
            self._bound.append((window, handlers))
        self._unsubscribe = self.bus.subscribe(self._touch)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for window, handlers in self._bound:
            window.remove_handlers(**handlers)
        self._bound = []

    def on_key_press(self, symbol: int, modifiers: int) -> None:
        from pyglet.window import key

        bus = self.bus  # read once: a reloaded show may hand over a new one meanwhile
        name = key_name(symbol)
        bus.set_input(f"key:{name}", 1.0)
        if symbol == key.SPACE:
            bus.set(self.space(), source="key")
        elif name.isdigit() and name != "0" and int(name) <= len(bus.declaration("scene").choices):
            bus.set("scene", int(name) - 1, source="key")
        elif name in TOGGLES:
            bus.set(TOGGLES[name], not bus.get(TOGGLES[name]), source="key")
        elif name == LEARN_KEY and self.touched is not None:
            bus.set("learn", self.touched, source="key")
        elif name == CAPTURE_KEY:
            bus.set("capture", source="key")

    def _touch(self, name: str, value, source: str) -> None:
        if (source.startswith("osc:") or source == "key") and name != "learn":
            self.touched = name

    def on_key_release(self, symbol: int, modifiers: int, window=None) -> None:
        """A key let go in `window` (the first of the windows if not said)."""
        from pyglet.window import key

        self.bus.set_input(f"key:{key_name(symbol)}", 0.0)
        if symbol == key.F:
            # On release, not press: pyglet (Xlib) recreates the window to change mode, and a release
            # sent to the old window never arrives, so pyglet would take the next f for auto-repeat.
            window = window if window is not None else self.windows[0]
            window.set_fullscreen(not window.fullscreen)
