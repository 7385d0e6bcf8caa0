"""The director: which scenes are on screen at time t, and how far a crossfade has gone.

Cues are a function of t (seconds), so live runs (wall clock) and rehearsals
(virtual clock) follow the same timeline. A performer's manual scene change
overrides the cue list until the next cue comes due.
"""
from __future__ import annotations

from dataclasses import dataclass

from live.control.mappings import Curve, apply_curve
from live.show.schema import Show


@dataclass(frozen=True)
class Composition:
    scene: int  # index of the scene fading in (or alone on screen)
    previous: int | None  # index of the scene fading out, None when no fade is under way
    mix: float  # 0..1: how much of `scene` shows over `previous`


@dataclass(frozen=True)
class _Change:
    at: float  # seconds: on the folded show clock for cues, the raw clock for manual changes
    scene: int
    fade: float  # seconds
    previous: int  # the scene on screen when the change came
    curve: Curve = "smooth"  # the mappings' curves; smooth starts and ends a fade without a kink


class Director:
    def __init__(self, show: Show):
        self.show = show
        self._cued: list[_Change] = []
        for cue in show.timeline:
            previous = self._cued[-1].scene if self._cued else 0
            self._cued.append(_Change(cue.at, show.scene_index(cue.scene), cue.fade, previous, cue.curve))
        self._manual: _Change | None = None

    def show_time(self, t: float) -> float:
        """t folded into the show's length when the cue list repeats."""
        return t % self.show.length if self.show.length else t

    def select(self, scene: int, t: float, fade: float = 0.0) -> None:
        """Cut or fade to `scene` now (t in seconds), ahead of the cue list."""
        on_screen = self.composition_at(t).scene
        self._manual = _Change(t, scene % len(self.show.scenes), fade, on_screen)

    def composition_at(self, t: float) -> Composition:
        current = self._latest_change(t)
        if current is None:
            return Composition(scene=0, previous=None, mix=1.0)
        elapsed = self._elapsed(current, t)
        if current.fade > 0 and elapsed < current.fade and current.previous != current.scene:
            return Composition(current.scene, current.previous, apply_curve(elapsed / current.fade, current.curve))
        return Composition(current.scene, None, 1.0)

    def fade_at(self, t: float) -> float:
        """Seconds of the fade that brought the scene on screen at t (0 for a cut, or before any cue)."""
        change = self._latest_change(t)
        return change.fade if change is not None else 0.0

    def next_scene(self, t: float, fade: float = 0.0) -> None:
        self.select(self.composition_at(t).scene + 1, t, fade)

    def _latest_change(self, t: float) -> _Change | None:
        folded = self.show_time(t)
        due = [change for change in self._cued if change.at <= folded]
        cue = due[-1] if due else None
        manual = self._manual
        if manual is not None and manual.at <= t and (cue is None or self._elapsed(cue, t) > t - manual.at):
            return manual
        return cue

    def _elapsed(self, change: _Change, t: float) -> float:
        """Seconds since a change: manual changes live on the raw clock, cues on the folded one."""
        if change is self._manual:
            return t - change.at
        return self.show_time(t) - change.at
