"""Keys in the live window: a controller like OSC, writing the control bus.

Every key held is a raw input (`key:j` is 1 while held, so a mapping can use
it); space, the digits, h and m write the bus's show parameters, so OSC
feedback follows them; f toggles the window's fullscreen mode.
"""
from __future__ import annotations

from collections.abc import Callable

from live.control.bus import ControlBus

TOGGLES = {"h": "hud", "m": "mirror"}  # key -> the on/off parameter it flips


def key_name(symbol: int) -> str:
    """A key as show files name it: "j", "space", "f1", and "1" for the digit keys (pyglet calls them "_1")."""
    from pyglet.window import key

    return key.symbol_string(symbol).lower().lstrip("_") or "_"


def bind_keys(window, bus: Callable[[], ControlBus], space: Callable[[], str]) -> None:
    """Keys of `window` onto the bus `bus()` gives (looked up on each press: a reloaded show brings a
    new one); space presses the trigger `space()` names (GO in a cue list, the next scene otherwise)."""
    from pyglet.window import key

    def on_key_press(symbol, modifiers):
        target = bus()
        name = key_name(symbol)
        target.set_input(f"key:{name}", 1.0)
        if symbol == key.SPACE:
            target.set(space(), source="key")
        elif name.isdigit() and name != "0" and int(name) <= len(target.declaration("scene").choices):
            target.set("scene", int(name) - 1, source="key")
        elif name in TOGGLES:
            target.set(TOGGLES[name], not target.get(TOGGLES[name]), source="key")

    def on_key_release(symbol, modifiers):
        bus().set_input(f"key:{key_name(symbol)}", 0.0)
        if symbol == key.F:
            # On release, not press: pyglet (Xlib) recreates the window to change mode, and a release
            # sent to the old window never arrives, so pyglet would take the next f for auto-repeat.
            window.set_fullscreen(not window.fullscreen)

    window.push_handlers(on_key_press=on_key_press, on_key_release=on_key_release)
