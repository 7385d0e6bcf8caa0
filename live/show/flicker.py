"""The flicker figure: how much a scene's picture changes from one new picture to the next, against its input.

An operator watching a model boil wants one number: the output's mean change
per new picture (0..255 levels, all pixels and channels) set against its input
frame's change over the same step. A still camera through a steady model reads
near 0 in and 0 out; a model that boils on it reads a large output change over
a tiny input one, and the ratio says by how much it amplifies what it is fed.
A scene with no input (a CPPN) has only the output change. Pictures the GL
renderer draws from a program (a CPPN shader) are not pixels here: not counted.
A scene tuning its edges toward a flicker target (live.scenes.edge_tuning)
measures its pictures in the same unit, so its target reads against "out".
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from live.core.imaging import change

WINDOW = 30  # new pictures the HUD's figure is the mean of
QUIET = 0.05  # levels: an input change below this is a still input; no ratio is made of it


@dataclass
class _SceneFlicker:
    output: deque = field(default_factory=lambda: deque(maxlen=WINDOW))  # levels per new picture
    input: deque = field(default_factory=lambda: deque(maxlen=WINDOW))
    total_output: float = 0.0  # sums over the run, for --stats-json
    total_input: float = 0.0
    count: int = 0
    counted_input: int = 0
    tuning: tuple[float, float] | None = None  # (target, stabilise) at its newest picture, if it tunes
    stabilise_range: list | None = None  # [lowest, highest] stabilise it ran with


class FlickerMeter:
    """Each scene's output and input change per new picture; fed from the thread that composes frames."""

    def __init__(self):
        self._scenes: dict[str, _SceneFlicker] = {}
        self._previous: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}  # scene -> (output, input) last seen

    def note(self, scene: str, output, given, tuning: tuple[float, float] | None = None) -> None:
        """A new picture of `scene`: `output` (H, W, 3) uint8 (a copy the scene will not reuse; anything else
        is skipped) made from `given` (the input frame, or None); `tuning`: the scene's (flicker target,
        stabilise in use), if it tunes its edges toward one."""
        if not isinstance(output, np.ndarray):
            return
        previous = self._previous.get(scene)
        self._previous[scene] = (output, given)
        if previous is None or previous[0].shape != output.shape:
            return
        figures = self._scenes.setdefault(scene, _SceneFlicker())
        if tuning is not None:
            figures.tuning = tuning
            low, high = figures.stabilise_range or (tuning[1], tuning[1])
            figures.stabilise_range = [min(low, tuning[1]), max(high, tuning[1])]
        out = change(previous[0], output)
        figures.output.append(out)
        figures.total_output += out
        figures.count += 1
        if given is not None and previous[1] is not None and previous[1].shape == given.shape:
            inp = change(previous[1], given)
            figures.input.append(inp)
            figures.total_input += inp
            figures.counted_input += 1

    def forget(self, scene: str) -> None:
        """The scene went off screen: its next picture is not compared with one from before."""
        self._previous.pop(scene, None)

    def hud_line(self, scene: str) -> str:
        """'flicker out 3.2 in 1.1 levels a picture (2.9x)' for the scene on screen, and '(target 4.0,
        stabilise 0.42)' after it when the scene tunes toward one; "" before two pictures."""
        figures = self._scenes.get(scene)
        if figures is None or not figures.output:
            return ""
        out = sum(figures.output) / len(figures.output)
        tuned = f"  (target {figures.tuning[0]:.1f}, stabilise {figures.tuning[1]:.2f})" if figures.tuning else ""
        if not figures.input:
            return f"flicker out {out:.1f} levels a picture{tuned}"
        inp = sum(figures.input) / len(figures.input)
        ratio = f" ({out / inp:.1f}x)" if inp >= QUIET else ""
        return f"flicker out {out:.1f} in {inp:.1f} levels a picture{ratio}{tuned}"

    def summary(self) -> dict:
        """Each scene's mean output and input change per new picture over the run, and their ratio; the
        output's over its last WINDOW pictures (where a tuned scene settled); a tuned scene's target and
        stabilise at the end and their range."""
        result = {}
        for scene, figures in self._scenes.items():
            out = figures.total_output / figures.count
            entry = {"output_levels": round(out, 3), "pictures": figures.count,
                     "last_output_levels": round(sum(figures.output) / len(figures.output), 3)}
            if figures.tuning is not None:
                entry.update(target=figures.tuning[0], stabilise=round(figures.tuning[1], 3),
                             stabilise_range=[round(value, 3) for value in figures.stabilise_range])
            if figures.counted_input:
                inp = figures.total_input / figures.counted_input
                entry.update(input_levels=round(inp, 3), ratio=round(out / inp, 3) if inp >= QUIET else None)
            result[scene] = entry
        return result
