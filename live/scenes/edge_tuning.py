"""A scene's edge stabilisation tuned toward a flicker target, from its own pictures.

A show writes `flicker: {target: 4.0}` on a pipeline scene with Canny edges:
the levels of output change per new picture it may show (the HUD's "flicker
out" figure, in the same unit, live.core.imaging.change). Each new picture the
scene makes, the tuner sets it against the one before; while the running
figure sits above the target (past a dead band) the Canny steps keep a little
more of the past (CannyConfig.stabilise), below it a little less, one small
step a picture, within 0..MOST. It sees nothing but the scene's own output, so
a rehearsal of the same clip tunes the same way frame for frame.
"""
from __future__ import annotations

import numpy as np
from pydantic import Field

from live.core.config import Settings
from live.core.imaging import change

MOST = 0.95  # the most of the past a Canny step may keep (CannyConfig.stabilise's bound)
STEP = 0.01  # stabilise moved per new picture: 0.3 a second at 30, slow beside the figure it follows
DEAD_BAND = 0.15  # fraction of the target either side of it where nothing moves
SMOOTHING = 0.1  # weight of each new picture's change in the running figure (about the last ten)


class FlickerTarget(Settings):
    """`flicker: {target: 4.0}`: what a scene's edge stabilisation is tuned toward."""

    # levels (0..255) of output change per new picture: the HUD's "flicker out" figure
    target: float = Field(gt=0, le=255)


class EdgeTuner:
    """The stabilise a scene's Canny steps run with, moved toward the target by each new picture."""

    def __init__(self, target: float, stabilise: float):
        self.target = target
        self.stabilise = min(max(stabilise, 0.0), MOST)  # where the show (or the model's card) starts it
        self.level: float | None = None  # the running output change, levels per new picture
        self._previous: np.ndarray | None = None  # the last new picture, kept (the scene reuses its own)

    def note(self, picture: np.ndarray) -> None:
        """A new picture of the scene (uint8): the figure follows it, and stabilise takes a step if the
        figure is outside the dead band. A picture of another size starts the comparison again."""
        previous = self._previous
        if previous is None or previous.shape != picture.shape:
            self._previous = picture.copy()
            return
        moved = change(previous, picture)
        np.copyto(previous, picture)
        self.level = moved if self.level is None else self.level + SMOOTHING * (moved - self.level)
        if self.level > self.target * (1.0 + DEAD_BAND):
            self.stabilise = min(MOST, self.stabilise + STEP)
        elif self.level < self.target * (1.0 - DEAD_BAND):
            self.stabilise = max(0.0, self.stabilise - STEP)
