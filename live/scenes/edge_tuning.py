"""A scene's edge stabilisation tuned toward a flicker target, from its own pictures.

A show writes `flicker: {target: 4.0}` on a pipeline scene with Canny edges:
the levels of output change per new picture it may show (the HUD's "flicker
out" figure, in the same unit, live.core.imaging.change). Each new picture the
scene makes, the tuner sets it against the one before; while the running
figure sits above the target (past a dead band) the Canny steps keep a little
more of the past (CannyConfig.stabilise), below it a little less, one small
step a picture, within 0..MOST. It sees nothing but the scene's own input and
output, so a rehearsal of the same clip tunes the same way frame for frame.

A visitor moving changes the output as much as boiling does, and steadier edges
would only smear them: while the input changes clearly more than its own still
floor (the camera's noise, followed down at once and up slowly), stabilise is
not raised. It is still lowered there when the output is below the target.
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
# The input's still floor follows its change a picture down by FLOOR_FALL of the way (quickly, but one
# repeated frame does not drop it to 0) and up by FLOOR_RISE (a brighter room's new noise is taken in over
# some 200 pictures; a visitor's walk of a few seconds is not)
FLOOR_FALL = 0.1
FLOOR_RISE = 0.005
MOVING = 1.25  # input change over this times the floor, plus MOVING_LEVELS, is movement, not noise
MOVING_LEVELS = 0.5


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
        self.floor: float | None = None  # the input's change a picture when nothing moves: its noise
        self.moving = False  # the newest input changed clearly more than its floor
        self._output = _Kept()  # the last new picture (the scene reuses its own buffer)
        self._input = _Kept()

    def note(self, picture: np.ndarray, given: np.ndarray | None = None) -> None:
        """A new picture of the scene (uint8) made from the input frame `given` (uint8): the figure follows
        it, and stabilise takes a step if the figure is outside the dead band (up only while the input is
        still). A picture of another size starts the comparison again."""
        self.moving = given is not None and self._input_moved(given)
        moved = self._output.change_to(picture)
        if moved is None:
            return
        self.level = moved if self.level is None else self.level + SMOOTHING * (moved - self.level)
        if self.level > self.target * (1.0 + DEAD_BAND) and not self.moving:
            self.stabilise = min(MOST, self.stabilise + STEP)
        elif self.level < self.target * (1.0 - DEAD_BAND):
            self.stabilise = max(0.0, self.stabilise - STEP)

    def _input_moved(self, given: np.ndarray) -> bool:
        moved = self._input.change_to(given)
        if moved is None:
            return False
        floor = self.floor
        self.floor = moved if floor is None else floor + (FLOOR_FALL if moved < floor else FLOOR_RISE) * (moved - floor)
        return moved > MOVING * self.floor + MOVING_LEVELS


class _Kept:
    """A copy of the last picture of a stream, to set the next one against."""

    def __init__(self):
        self.picture: np.ndarray | None = None

    def change_to(self, picture: np.ndarray) -> float | None:
        """Levels from the kept picture to this one, which is kept in its place; None if none of its size was."""
        kept = self.picture
        if kept is None or kept.shape != picture.shape:
            self.picture = picture.copy()
            return None
        moved = change(kept, picture)
        np.copyto(kept, picture)
        return moved
