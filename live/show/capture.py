"""Capture to show: the scene on screen, as the performer has it now, written into the show file.

A press of the bus's `capture` (the `c` key, `/latentstage/capture [NAME]`, a
MIDI button mapped `to: capture`) snapshots the on-screen scene's latent (the
one its last render was drawn from) and the values a performer holds on it
that differ from the scene's own (what the show would give it). The latent
becomes a named keyframe of the scene (`capture-1`, `capture-2`, ... or NAME;
never one that exists already), written as its numbers by their shortest repr
so it reads back to the same float32; in a cue list, a GO cue after the cue
that fired last glides the scene back to it over the performer's `fade`,
setting the held values (`set:`). A scene without a latent (pipeline) gives a
cue of its held values only. The file is edited in place (live.show.show_edit:
the rest of it as written, checked as `check` checks, written atomically), and
the running show's hot reload takes it within a fraction of a second. The
snapshot is taken between frames on the frame's thread; the write (a few
hundred milliseconds of YAML parsing on a busy CPU) happens on a thread of its
own (live.show.show_file_writer), one edit at a time, so the show never waits for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from live.control.bus import ControlBus
from live.control.parameters import Value, same_value
from live.show.schema import Show, ShowError, parse_show, show_text
from live.show.show_edit import composed, edit_show, flow, with_entry, with_list_item

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # a keyframe name as a cue writes it
DEFAULT_NAME = "capture-{}"


@dataclass(frozen=True)
class Snapshot:
    """The on-screen scene as a performer has it at one frame."""

    scene: str
    latent: tuple[float, ...] | None  # (z_dim,) as float32 values; None: a scene without a latent
    held: dict[str, Value]  # the scene's parameters (short names) a performer holds away from the scene's own
    fired: int | None  # cues of a cue list fired so far (the new cue goes after them); None: a timed show
    fade: float  # seconds: the performer's crossfade, which the new cue glides back over
    name: str  # asked for; "" takes the next free capture-N


def snapshot(scene, bus: ControlBus, fired: int | None, name: str = "") -> Snapshot:
    """What `scene` (on screen, built) shows now, with the performer's held values from `bus`."""
    held = {}
    for parameter in scene.parameters:
        full = f"{scene.name}.{parameter.name}"
        value = bus.get(full)
        if bus.held(full) and not same_value(value, bus.declaration(full).default):
            held[parameter.name] = value
    latent = scene.latent
    return Snapshot(scene.name, None if latent is None else tuple(float(x) for x in np.asarray(latent, np.float32)),
                    held, fired, float(bus.get("fade")), name)


@dataclass(frozen=True)
class Captured:
    keyframe: str | None  # the name it took; None: a scene without a latent
    cue: int | None  # its number (from 1) in the cue list; None: no cue written
    message: str  # one line for the HUD and the log


def capture_into(path: Path, taken: Snapshot) -> Captured:
    """Write `taken` into the show file at `path`; ShowError (the file untouched) when it cannot."""
    if not path.is_file():
        raise ShowError("capture: the show has no file to write into")
    show = parse_show(show_text(path), path)
    if taken.scene not in [scene.name for scene in show.scenes]:
        raise ShowError(f"capture: the show file has no scene {taken.scene!r} any more")
    index = show.scene_index(taken.scene)
    spec = show.scenes[index]
    keyframe = _keyframe_name(show, taken) if taken.latent is not None and spec.keyframes_at else None
    cue_at = min(taken.fired, len(show.cues)) if taken.fired is not None and show.is_cue_list else None
    if keyframe is None and (cue_at is None or not taken.held):
        why = "it holds no value a performer set" if cue_at is not None else "a timed show keeps no cue of its values"
        raise ShowError(f"capture: nothing to capture: scene {taken.scene!r} has no latent and {why}")
    cue = {"go": True, "scene": taken.scene, **({"keyframe": keyframe} if keyframe else {}),
           **({"fade": taken.fade} if taken.fade else {}), **({"set": taken.held} if taken.held else {})}

    def edit(text: str, tree: yaml.MappingNode) -> str:
        if keyframe is not None:
            where = ("scenes", index, *spec.keyframes_at)
            text = with_entry(text, tree, where, flow(keyframe), flow(list(taken.latent)))
            tree = composed(text)
        if cue_at is not None:
            text = with_list_item(text, tree, "cues", flow(cue), before=cue_at)
        return text

    edit_show(path, edit)
    return Captured(keyframe, None if cue_at is None else cue_at + 1, _said(path, taken, keyframe, cue_at))


def _keyframe_name(show: Show, taken: Snapshot) -> str:
    """The name asked for, else the first capture-N no scene of the show names (never one that exists)."""
    named = {name for scene in show.scenes for name in scene.keyframe_names()}
    if taken.name:
        if not NAME.match(taken.name):
            raise ShowError(f"capture: {taken.name[:80]!r} is not a keyframe name: "
                            "use up to 64 letters, digits, - and _")
        if taken.name in show.scenes[show.scene_index(taken.scene)].keyframe_names():
            raise ShowError(f"capture: scene {taken.scene!r} has a keyframe {taken.name!r} already; "
                            "a capture never replaces one: give another name")
        return taken.name
    number = 1
    while DEFAULT_NAME.format(number) in named:
        number += 1
    return DEFAULT_NAME.format(number)


def _said(path: Path, taken: Snapshot, keyframe: str | None, cue_at: int | None) -> str:
    held = ", ".join(f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
                     for name, value in taken.held.items())
    if keyframe is None:
        return (f"captured {taken.scene}'s held values ({held}) into {path} as cue {cue_at + 1}; "
                f"scene {taken.scene} has no latent, so only its values")
    said = f"captured keyframe {keyframe} into {path}"
    if cue_at is not None:
        return said + f": cue {cue_at + 1} (GO) glides {taken.scene} back to it" + (f", holding {held}" if held else "")
    return said + (f"; a timed show gets no cue (name it in one: keyframe: {keyframe})"
                   + (f", and the held values ({held}) are not kept" if held else ""))
