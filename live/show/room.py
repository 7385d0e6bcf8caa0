"""The room: presence read each frame from the watched scene's input frames, put on the bus for mappings.

The watched scene (the show's `presence: {scene: ...}`, else its first scene
that reads frames) keeps its source running whether it is on screen or not,
so the room is watched while an attract scene shows. Each new input frame
(by its sequence number) is read once, at its own capture time: live the
camera's newest, in rehearsal the clip's frame at t. The level goes on the
bus as the raw input `camera:presence`, where `{camera: presence, to: ...}`
mappings read it, as audio mappings read the sound's features.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from live.control.bus import ControlBus
from live.inputs.presence import PresenceConfig, PresenceEstimator
from live.scenes.contract import Scene

log = logging.getLogger("latentstage.presence")

PRESENCE_INPUT = "camera:presence"  # the bus input mappings with `camera: presence` read


class Room:
    def __init__(self, scene: str, config: PresenceConfig):
        self.scene = scene  # the name of the scene whose input frames are watched
        self.estimator = PresenceEstimator(config.background)
        self._seen_seq: int | None = None
        self._problem = ""  # why no frame could be read, said once

    @property
    def presence(self) -> float:
        return self.estimator.level

    @property
    def activity(self) -> float:
        return self.estimator.activity

    def update(self, t: float, scenes: Sequence[Scene], bus: ControlBus) -> None:
        """Read the watched scene's frame for t (seconds of show time) if it is a new one; put the level on `bus`."""
        scene = next((scene for scene in scenes if scene.name == self.scene), None)
        if scene is None:  # a reloaded show without it
            return
        try:
            frame = scene.input_frame(t)
        except Exception as error:  # a file gone bad: the scene says so on the HUD; presence holds meanwhile
            if str(error) != self._problem:
                log.info("presence: no frame from scene %r: %s", self.scene, error)  # the scene says so itself
                self._problem = str(error)
            return
        if frame is not None and frame.seq != self._seen_seq:  # none while the camera is down: presence holds
            self._seen_seq, self._problem = frame.seq, ""
            self.estimator.note(frame.pixels, frame.captured_at)
        bus.set_input(PRESENCE_INPUT, self.estimator.level)
