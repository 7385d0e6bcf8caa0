"""What every controller is: outside events in, bus writes and raw inputs out.

A controller (the OSC server, MIDI devices, the window's keys, a rehearsal's
OSC script) knows nothing of shows, cues or scenes: it writes parameters and
triggers on the control bus it is given, or raw inputs (`osc:/1/fader1`,
`key:j`) that the show's mappings read. The conductor holds the show's
controllers as a list, hands each the bus (and a reloaded show's new one),
starts and stops them, polls them once per frame and puts their status on
the HUD. A controller that cannot start raises OSError: the show goes on
without it and says so.

This base class gives the no-op lifecycle once; a controller overrides what
it needs.
"""
from __future__ import annotations

from collections.abc import Sequence

from live.control.bus import ControlBus
from live.control.mappings import MappingConfig


class Controller:
    name = "controller"  # as the HUD names it: "osc off: <why>"

    def __init__(self) -> None:
        self.bus: ControlBus | None = None

    def use_bus(self, bus: ControlBus) -> None:
        """Write to `bus` from now on: the show's bus before `start`, a reloaded show's new one while it runs."""
        self.bus = bus

    def use_mappings(self, mappings: Sequence[MappingConfig]) -> None:
        """The show's mappings (a reloaded show's new ones), for a controller that shows mapped values
        back on its own controls (MIDI feedback); most ignore them."""

    def start(self) -> None:
        """Begin taking outside events (open a socket, bind a window's keys); OSError if it cannot."""

    def poll(self, t: float) -> None:
        """Once per frame on the frame's thread, before the frame reads the bus, at show time t (seconds):
        write what is due by t (a timed script), send what is owed (OSC feedback). Writes here count as
        the frame's own, not as outside writes."""

    def stop(self) -> None:
        """Stop taking events; safe to call twice, and after a failed start."""

    def status(self) -> str:
        """The controller's part of the HUD's status line ('' for nothing to say)."""
        return ""
