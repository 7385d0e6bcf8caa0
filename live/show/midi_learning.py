"""MIDI learn for a show: the mapping a moved control makes, written into the show's file.

`learned_into(show)` is what a running show's MIDI controller calls when the
performer armed learn (`/latentstage/learn drift.scale`) and moved a control;
`learn_once` is `latentstage midi learn SHOW PARAM`, with no show running:
it opens the show's devices, waits for one control to move, and writes it.
Either way the file is edited in place (live.show.learned_mapping) and a
running show's hot reload takes the new mapping.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from live.control.mappings import MappingConfig, check_target
from live.control.midi import LEARN, Learned, MidiController
from live.control.parameters import ControlError
from live.show.learned_mapping import add_mapping
from live.show.schema import Show, ShowError
from live.show.show_file_writer import ShowFileWriter

log = logging.getLogger(__name__)


def learned_into(show: Show, writes: ShowFileWriter | None = None) -> Learned | None:
    """The MIDI controller's `learned` for this show: writes each learned mapping into its file (naming
    the device when the show reads several), through `writes` off the caller's thread when given (a running
    show: the frame never waits for the YAML), else at once. None for a show that has no file."""
    if not Path(show.source).is_file():
        return None
    several = len(show.midi.inputs) > 1
    entries = {str(entry): entry for entry in show.midi.inputs}

    def write(parameter: str, source: dict, device: str) -> None:
        midi = {**source, "device": entries[device]} if several else source
        if writes is None:
            log.info("%s", _written(show.source, midi, parameter))
        else:
            writes.submit("MIDI learn", lambda: _written(show.source, midi, parameter))
    return write


def _written(path: Path, midi: dict, parameter: str) -> str:
    """The mapping from `midi` to `parameter` written into the show file; what was written, in words."""
    try:
        line = add_mapping(Path(path), {"midi": midi, "to": parameter})
    except ShowError as error:
        raise ShowError(f"MIDI learn: {error}") from None
    return f"MIDI learn wrote into {path}: - {line}"


def learn_once(show: Show, bus, parameter: str, timeout: float, progress=print) -> str:
    """Arm learn for `parameter` on `bus` (the show's), wait up to `timeout` seconds for a control to
    move on one of the show's devices, and write its mapping. Returns what was written; ShowError if
    nothing moved, or what moved cannot drive the parameter."""
    if not show.midi.inputs:
        raise ShowError(f"{show.source}: the show reads no MIDI device; add `midi: {{inputs: [NAME]}}` "
                        "(part of a port's name from `latentstage midi list`)")
    try:
        check_target(MappingConfig(midi={"cc": 0}, to=parameter), bus)  # before anyone moves a thing
        bus.set(LEARN, parameter, source="cli")
    except ControlError as error:
        raise ShowError(f"midi learn: {error}") from None
    written: list[str] = []
    write = learned_into(show)

    def learned(name: str, source: dict, device: str) -> None:
        write(name, source, device)
        written.append(name)

    controller = MidiController(show.midi, learned)
    controller.use_bus(bus)
    try:
        controller.start()
    except OSError as error:
        raise ShowError(f"midi learn: {error}") from None
    try:
        absent = [port.status() for port in controller.inputs if port.status()]
        progress(f"move a control for {parameter} (waiting {timeout:g} s)"
                 + (f"; {', '.join(absent)} for now" if absent else ""))
        deadline = time.monotonic() + timeout
        while not written and controller.learn_problem is None and time.monotonic() < deadline:
            controller.poll(time.monotonic())
            time.sleep(0.02)
    finally:
        controller.stop()
    if controller.learn_problem is not None:
        raise ShowError(f"midi learn: {controller.learn_problem}")
    if not written:
        raise ShowError(f"midi learn: no control moved within {timeout:g} s; nothing was written")
    return written[0]
