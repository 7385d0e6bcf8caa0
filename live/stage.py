"""The stage: a show's scenes loaded and warmed up, and the frames the director asks for at time t.

Live runs and rehearsals both go through `Stage.frame_at`, so the same show
and clock give the same layers. Every scene's model is loaded and warmed up
before the first frame, so a cue never waits for a model to load.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from live.cppn_scene import CppnScene
from live.director import Composition, Director
from live.engine import Engine
from live.show import Show

log = logging.getLogger("latentstage.stage")


@dataclass
class Layers:
    """What the renderer needs for one frame."""

    current: np.ndarray  # (H, W, 3) uint8 RGB of the scene fading in or on screen
    previous: np.ndarray | None  # (H, W, 3) uint8 RGB of the scene fading out
    composition: Composition


class Stage:
    def __init__(self, show: Show, scenes: list[CppnScene]):
        self.show = show
        self.scenes = scenes
        self.director = Director(show)

    @classmethod
    def build(cls, show: Show) -> Stage:
        width, height = show.output.render_size
        scenes = []
        for spec in show.scenes:
            engine = Engine.load(spec.model, show.engine)
            scene = CppnScene(engine, spec.cppn)
            scene.warm_up(width, height)
            log.info("scene %r: %s on %s", spec.name, engine.card.describe(), ", ".join(engine.providers))
            scenes.append(scene)
        return cls(show, scenes)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) the scenes render at; the renderer scales it to the output."""
        return self.show.output.render_size

    @property
    def output_size(self) -> tuple[int, int]:
        return self.show.output.width, self.show.output.height

    def scene_name(self, index: int) -> str:
        return self.show.scenes[index].name

    def frame_at(self, t: float, copy: bool = False) -> Layers:
        """The layers at t (seconds). Scenes reuse their buffers: pass copy=True to hand them to another thread."""
        composition = self.director.composition_at(t)
        width, height = self.size
        current = self.scenes[composition.scene].render(t, width, height)
        if copy:
            current = current.copy()
        previous = None
        if composition.previous is not None:
            previous = self.scenes[composition.previous].render(t, width, height)
            if copy:
                previous = previous.copy()
        return Layers(current, previous, composition)
