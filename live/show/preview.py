"""The preview: what GO (in a cue list) or space (the next scene, in a timed show) would bring on, drawn small.

How it stays out of the program's way:
- It runs on a thread of its own at a low rate (the operator window's
  `preview_fps`, 5 a second by default) and at the preview's small size; the
  program's inference thread never waits for it, and it hands its picture over
  through a latest-wins mailbox.
- It never renders a program scene object. A scene that draws from t alone
  (`standalone`: a CPPN, a GAN) is previewed by an instance of its own, built
  from the same spec: its own model session, its own latent walk and random
  stream, so the program's scenes walk, kick and render exactly as they would
  without a preview (a rehearsal or an event-log replay gives the same frames
  bit for bit). A scene with an input (a camera through a model) is shown from
  its own latest picture instead, so a camera is never opened twice: the
  program's layer when the scene is on screen, else the last picture it made
  while it was (nothing renders it off screen, so nothing writes it meanwhile).
- It only reads the program's state: the director's standby cue and the
  conductor's latest parameter values, both replaced whole by the program's
  thread, never changed in place. It writes nothing to the control bus.
The preview shows the scene as the cue brings it on: the cue's `set` values
in place and its latent at the cue's keyframe, walking on from there.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from live.core.clock import Clock
from live.core.frames import Mailbox
from live.core.worker import SupervisedWorker
from live.output.picture import ShaderPicture
from live.scenes.contract import KeyframeMove, Moment, Scene, SceneContext, SceneSpec
from live.scenes.kinds import build_scene
from live.show.conductor import Conductor
from live.show.director import Director
from live.show.schema import Cue, Show
from live.show.stage import Stage

log = logging.getLogger("latentstage.preview")


@dataclass(frozen=True)
class Upcoming:
    """What the operator's next press brings on."""

    scene: str
    title: str  # "GO: cue 2 -> bloom"
    cue: Cue | None  # the standby cue of a cue list; None for the next scene of a timed show


def upcoming(show: Show, director: Director, on_screen: str) -> Upcoming | None:
    """The standby cue's scene in a cue list (None once the list is done), else the scene space moves to
    from the one on screen. Reads the director, never moves it (the program's thread owns it)."""
    if director.is_cue_list:
        index = director.standby
        if index is None:
            return None
        cue = director.cue(index)
        keyframe = f", keyframe {cue.keyframe}" if cue.keyframe is not None else ""
        return Upcoming(cue.scene, f"{cue.trigger}: cue {index + 1} -> {cue.scene}{keyframe}", cue)
    names = [scene.name for scene in show.scenes]
    following = names[(names.index(on_screen) + 1) % len(names)] if on_screen in names else names[0]
    return Upcoming(following, f"next scene (space): {following}", None)


@dataclass(frozen=True)
class PreviewPicture:
    pixels: np.ndarray | None  # (H, W, 3) uint8 RGB at the preview's size; None: nothing to show yet
    title: str  # what it previews, and why there is no picture when there is none
    seq: int


class Preview:
    def __init__(self, stage: Stage, conductor: Conductor, clock: Clock, size: tuple[int, int], fps: float):
        """`size`: (width, height) of the preview's pictures; `fps`: how many it makes a second."""
        self.stage = stage
        self.conductor = conductor
        self.clock = clock
        self.size = size
        self.period = 1.0 / fps
        self.mailbox: Mailbox[PreviewPicture] = Mailbox()
        self.worker = SupervisedWorker("preview", self._loop, clock)
        self.on_screen = ""  # the program's scene on screen, as the render loop last drew it
        self.on_screen_picture: np.ndarray | None = None  # (H, W, 3) uint8: its picture then (a copy for us)
        self._own: dict[str, tuple[SceneSpec, Scene]] = {}  # scene name -> (its spec, our instance)
        self._seq = 0
        self._moved: tuple[str, float] | None = None  # (scene, show time) the previewed cue's keyframe move began

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()
        for _, scene in self._own.values():
            scene.stop()

    def _loop(self, worker: SupervisedWorker) -> None:
        while not worker.stopping:
            started = self.clock()
            self.mailbox.put(self.render(started))
            worker.mark_healthy()
            worker.wait(started + self.period - self.clock())

    def render(self, t: float) -> PreviewPicture:
        """The preview at show time t (seconds)."""
        stage = self.stage
        coming = upcoming(stage.show, stage.director, self.on_screen)
        self._seq += 1
        if coming is None:
            return PreviewPicture(None, "cue list done", self._seq)
        program_scene = next((scene for scene in stage.scenes if scene.name == coming.scene), None)
        if program_scene is None:  # a reload has just dropped it
            return PreviewPicture(None, coming.title, self._seq)
        if program_scene.standalone:
            return PreviewPicture(self._render_own(program_scene, coming, t), coming.title, self._seq)
        picture = self.on_screen_picture if coming.scene == self.on_screen else program_scene.last_output
        if picture is None or isinstance(picture, ShaderPicture):
            return PreviewPicture(None, f"{coming.title} (shows once it has been on stage)", self._seq)
        return PreviewPicture(self._fitted(picture), coming.title, self._seq)

    def _render_own(self, program_scene: Scene, coming: Upcoming, t: float) -> np.ndarray:
        """Our own instance of the scene, at the moment the cue would bring it on at, at the preview's size."""
        spec = self.stage.show.scenes[self.stage.show.scene_index(coming.scene)]
        kept = self._own.get(coming.scene)
        if kept is None or kept[0] != spec:  # first asked for, or its block edited in a reloaded show
            if kept is not None:
                kept[1].stop()
            context = SceneContext(self.stage.show.engine, self.clock, rehearsal=False)
            kept = self._own[coming.scene] = (spec, build_scene(spec, context))
        scene = kept[1]
        program = self.conductor.moment(program_scene, t)  # the performer's values and the music, read only
        values, keyframe = dict(program.values), program.keyframe
        if coming.cue is not None:
            values.update({name: value for name, value in coming.cue.set.items() if name in values})
            if coming.cue.keyframe is not None:
                keyframe = KeyframeMove(coming.cue.keyframe, self._move_began(coming, t), 0.0)
        width, height = self.size
        picture = scene.render(Moment(t, values, program.onset, keyframe), width, height)
        if isinstance(picture, ShaderPicture):  # our instance has no renderer: it computes its pixels
            raise TypeError(f"{coming.scene}: a preview instance drew a shader picture")
        return np.array(picture, copy=True)

    def _move_began(self, coming: Upcoming, t: float) -> float:
        """When the previewed cue's latent move began: the first preview of that cue (so it walks on from it)."""
        if self._moved is None or self._moved[0] != coming.title:
            self._moved = (coming.title, t)
        return self._moved[1]

    def _fitted(self, picture: np.ndarray) -> np.ndarray:
        width, height = self.size
        if picture.shape[:2] == (height, width):
            return np.array(picture, copy=True)
        return cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
