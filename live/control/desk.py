"""The control desk: one show's control bus, mappings, audio and OSC, read once per frame into a Drive.

Controllers and the sound card work on their own threads and only leave plain
values behind (the bus, the audio ring buffer). On each inference step the desk
analyses the audio that has come in, runs the show's mappings, turns the
performer's scene commands into director changes, and hands the scenes one
consistent Drive. In rehearsal the same desk reads a sound file and a timed
list of OSC messages instead, on the virtual clock, so a rehearsed show reacts
exactly as it will live.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any, Callable

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from live.inputs.audio import SILENCE, AudioFeatures, NoAudio, open_audio
from live.control.bus import ControlBus, ControlError, Mapper, standard_parameters
from live.show.director import Director
from live.scenes.contract import Drive
from live.control.osc import OscServer, apply_message
from live.show.schema import Show

log = logging.getLogger("latentstage.desk")


class OscCue(BaseModel):
    """One message of a rehearsal's OSC script: `{at: 12.5, address: /latentstage/cppn/scale, args: [2.0]}`."""

    model_config = ConfigDict(extra="forbid")
    at: float = Field(ge=0)  # seconds of show time
    address: str
    args: list[Any] = Field(default_factory=list)


def load_osc_script(path: Path) -> list[OscCue]:
    """A YAML list of OscCue, in time order; errors name the file and the entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        cues = TypeAdapter(list[OscCue]).validate_python(data)
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the OSC script: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{path}: entry {where}: {first['msg']}") from None
    return sorted(cues, key=lambda cue: cue.at)


SCENE_STEPS = {"scene.next": 1, "scene.previous": -1}  # trigger -> scenes to move


class Desk:
    def __init__(self, show: Show, bus: ControlBus, mapper: Mapper, audio, osc: OscServer | None,
                 script: list[OscCue], rehearsal: bool):
        self.show = show
        self.bus = bus
        self.mapper = mapper
        self.audio = audio
        self.osc = osc
        self.rehearsal = rehearsal
        self.features: AudioFeatures = SILENCE  # the latest analysis, for the HUD
        self._script = script
        self._script_done = 0  # messages of the script already applied
        self._seen_scene_version = 0  # the bus's `scene` version already acted on
        self._seen_presses = dict.fromkeys(SCENE_STEPS, 0)  # trigger -> presses already acted on
        self.osc_problem = ""  # why the OSC server is not listening, for the HUD

    @classmethod
    def build(cls, show: Show, rehearsal: bool = False, clock: Callable[[], float] = time.perf_counter,
              audio_file: Path | None = None, osc_script: list[OscCue] | None = None) -> Desk:
        bus = ControlBus(standard_parameters([scene.name for scene in show.scenes]))  # targets checked at load
        # the window's starting state, so OSC queries and feedback tell the truth from the start
        bus.set("hud", show.window.hud, source="show")
        bus.set("mirror", show.window.mirror, source="show")
        audio_config = show.audio
        if audio_file is not None:
            audio_config = dataclasses.replace(audio_config, kind="file", path=audio_file)
        elif rehearsal and audio_config.kind == "input":
            # a rehearsal never opens the sound card: without a file standing in, it is silent
            log.info("rehearsal: the show listens to a live input; give --audio FILE to hear something")
            audio_config = dataclasses.replace(audio_config, kind="none")
        audio = open_audio(audio_config, clock)
        osc = None if rehearsal else OscServer(show.osc, bus)
        return cls(show, bus, Mapper(show.mappings, bus), audio, osc, osc_script or [], rehearsal)

    def start(self) -> None:
        self.audio.start()
        if self.osc is not None:
            try:
                self.osc.start()
            except OSError as error:  # a busy port must not stop the show: it runs without OSC, and says so
                self.osc_problem = str(error)
                log.error("%s; the show goes on without OSC", error)
                self.osc = None

    def stop(self) -> None:
        self.audio.stop()
        if self.osc is not None:
            self.osc.stop()

    def drive_at(self, t: float, director: Director) -> Drive:
        """Everything the controls say for the frame at t (seconds of show time)."""
        self._play_script(t)
        features = self.audio.features(t)  # a file's features at t in rehearsal, the newest sound live
        self.features = features
        self.mapper.update(t, features)
        self._direct(t, director)
        values = self.bus.values()
        touched = self.bus.version  # a parameter nobody has set leaves each scene its own value
        return Drive(
            scale=float(values["cppn.scale"]) if touched("cppn.scale") else None,
            speed=float(values["cppn.speed"]),
            jitter=float(values["cppn.jitter"]),
            onset=bool(features.onset),
            canny_sigma=float(values["canny.sigma"]) if touched("canny.sigma") else None,
            style_strength=float(values["style.strength"]),
        )

    def status_line(self) -> str:
        """One HUD line: audio health and level, OSC traffic and rejects."""
        audio = self.audio.status()
        if isinstance(self.audio, NoAudio):
            parts = ["audio off"]
        elif not audio.healthy:
            parts = [f"audio {audio.message}"]
        else:
            tempo = f" {self.features.tempo_bpm:.0f} bpm" if self.features.tempo_bpm else ""
            parts = [f"audio ok   level {self.features.level:.2f} bass {self.features.bass:.2f}{tempo}"]
        if self.osc_problem:
            parts.append(f"osc off: {self.osc_problem}")
        elif self.osc is not None:
            osc = self.osc
            parts.append(f"osc {osc.address[0]}:{osc.address[1]} in {osc.received} bad "
                         f"{osc.rejected + osc.malformed + osc.refused}")
        return "   ".join(parts)

    def _play_script(self, t: float) -> None:
        while self._script_done < len(self._script) and self._script[self._script_done].at <= t:
            cue = self._script[self._script_done]
            self._script_done += 1
            try:
                apply_message(self.bus, self.show.osc.prefix, cue.address, cue.args, source="script")
            except ControlError as error:
                log.warning("OSC script at %.2f s: %s %s: %s", cue.at, cue.address, cue.args, error)

    def _direct(self, t: float, director: Director) -> None:
        """Scene commands from the bus (OSC, keys) become director changes, each acted on once."""
        fade = float(self.bus.get("fade"))
        names = [scene.name for scene in self.show.scenes]
        if self.bus.version("scene") != self._seen_scene_version:
            self._seen_scene_version = self.bus.version("scene")
            director.select(names.index(self.bus.get("scene")), t, fade)
        for trigger, step in SCENE_STEPS.items():
            presses = self.bus.count(trigger)
            if presses != self._seen_presses[trigger]:
                self._seen_presses[trigger] = presses
                director.select(director.composition_at(t).scene + step, t, fade)

