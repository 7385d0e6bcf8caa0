"""The controllers a show plays with, built from its settings.

Each entry of CONTROLLERS is a function from the show (and whether it is
rehearsed) to a controller, or None where the show does not use it. A
controller itself (live/control/) knows nothing of shows: the entry reads
the show's settings for it. Adding a controller is a class in live/control/
filling live.control.controller.Controller, and one entry here; the conductor
then hands it the bus, starts it, polls it each frame, puts its status on the
HUD and stops it. Keys are added by the live run (they need its window), a
rehearsal's OSC script by the rehearsal (it comes from the command line).
"""
from __future__ import annotations

from collections.abc import Callable

from live.control.controller import Controller
from live.control.midi import MidiController
from live.control.osc import OscServer
from live.show.midi_learning import learned_into
from live.show.schema import Show
from live.show.show_file_writer import SHOW_FILE_WRITER


def osc_server(show: Show, rehearsal: bool) -> Controller | None:
    """The show's OSC server, live; a rehearsal listens to no network (its script stands in)."""
    return None if rehearsal else OscServer(show.osc)


def midi_devices(show: Show, rehearsal: bool) -> Controller | None:
    """The show's MIDI devices, live, when it names any; learned mappings go into its file, off the frame's
    thread."""
    if rehearsal or not (show.midi.inputs or show.midi.feedback is not None):
        return None
    return MidiController(show.midi, learned_into(show, SHOW_FILE_WRITER))


CONTROLLERS: tuple[Callable[[Show, bool], Controller | None], ...] = (osc_server, midi_devices)


def show_controllers(show: Show, rehearsal: bool) -> list[Controller]:
    return [controller for build in CONTROLLERS if (controller := build(show, rehearsal)) is not None]
