"""A scene kind for tests only, written from the scene contract (live.scenes.contract) alone.

Vertical stripes in two colours that slide sideways at `speed` stripes per
second: pixels from t and its parameters, nothing else. It is registered with
one entry point (group `latentstage.scene_kinds`, `stripes =
tests.live.scenes.stripes_kind:StripesScene`), as a kind from another package
would be; test_scene_kind_plugin.py runs it through `latentstage rehearse`.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from live.scenes.contract import Moment, Parameter, SceneBase, SceneContext, SceneSpec

COLOURS = np.array([[250, 200, 20], [20, 40, 160]], dtype=np.uint8)  # (2, 3) RGB: the two stripes


class StripesSpec(SceneSpec):
    """Its block in a show: how many stripes across the picture."""

    kind: Literal["stripes"]
    count: int = Field(8, ge=1, le=64)


def stripes(t: float, count: int, speed: float, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8 RGB: `count` stripes across, moved on by `speed` stripes a second."""
    shift = int(np.floor(t * speed))  # whole stripes: the same pixels however t was reached
    band = (np.arange(width) * count // width + shift) % 2  # (width,) which colour each column has
    return np.ascontiguousarray(np.broadcast_to(COLOURS[band], (height, width, 3)))


class StripesScene(SceneBase):
    kind = "stripes"
    namespace = "stripes"
    spec_type = StripesSpec
    standalone = True
    PARAMETERS = (Parameter("speed", "float", 1.0, -8.0, 8.0, description="stripes moved on per second"),)

    def __init__(self, name: str, count: int):
        self.name = name
        self.count = count
        self.parameters = self.PARAMETERS
        self.last_output: np.ndarray | None = None

    @classmethod
    def build(cls, spec: StripesSpec, context: SceneContext) -> StripesScene:
        return cls(spec.name, spec.count)

    def warm_up(self, width: int, height: int) -> None:
        pass

    def render(self, moment: Moment, width: int, height: int) -> np.ndarray:
        self.last_output = stripes(moment.t, self.count, moment.values["speed"], width, height)
        return self.last_output
