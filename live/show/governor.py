"""The governor: holds each scene's rate by stepping down its ladder when it misses its target, and back up.

It steers by what the visitor sees: the intervals between the new pictures of
the scene on screen (live.show.run_stats counts the same). Once a scene has
been `window` seconds on a rung, each frame looks at the p95 interval over the
last `window` seconds (the wait since the newest picture included). It steps down a
rung when that misses the target (by more than `tolerance`) and the scene's
own work is what limits it (the typical composing step takes at least half
the budget: a camera that brings fewer pictures, a starved display or a
thread descheduled now and then on a busy CPU is no reason to draw worse).
It steps back up after `dwell` seconds on a rung when
the rung above, as last measured against this one, would need at most
`1 - margin` of the budget now. A step up that has to be taken back within two
dwells doubles that rung's dwell, so a load that sits on the edge settles
rather than oscillates. Each step is logged once, in words, and counted.

Time is passed in (seconds of show time) and nothing here reads a clock: the
tests drive it with made-up times, and a rehearsal never runs it at all (a
rehearsal takes a recorded ladder position instead, so its frames stay exact).
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from pydantic import Field

from live.core.config import Settings

log = logging.getLogger("latentstage.ladder")

MIN_PICTURES = 5  # new pictures a window needs before it judges
MAX_DWELL = 120.0  # seconds: the longest a doubled dwell grows
# The composing step's p50 above this share of the budget: the work is what limits the rate (its p95 would
# count the waits of a thread descheduled on a busy CPU, which a cheaper rung does not shorten)
WORK_LIMITS = 0.5


class GovernorConfig(Settings):
    """A show's `governor:` block: how the live run steps its scenes' ladders (live.show.governor)."""

    window: float = Field(3.0, gt=0, le=60)  # seconds of new pictures judged at a time
    dwell: float = Field(8.0, gt=0, le=MAX_DWELL)  # seconds on a rung before stepping back up is tried
    margin: float = Field(0.3, gt=0, lt=1)  # fraction of the budget the rung above must leave free to step up
    tolerance: float = Field(0.1, ge=0, le=1)  # fraction the p95 interval may miss the target by


@dataclass
class Step:
    """A move the governor decided: scene `scene` to rung `rung` (0 is the top), and why, in words."""

    scene: str
    rung: int
    reason: str


@dataclass
class _Watch:
    """What the governor keeps of one scene while it is on one rung."""

    since: float  # show seconds: on this rung (or on screen again) from then
    pictures: deque = field(default_factory=lambda: deque(maxlen=2000))  # show seconds of each new picture
    steps: deque = field(default_factory=lambda: deque(maxlen=2000))  # (show seconds, composing step seconds)


class Governor:
    """Decides rung moves for scenes with a target; `rungs` says which rungs each scene can stand on."""

    def __init__(self, config: GovernorConfig, targets: dict[str, float], rungs: dict[str, list[int]],
                 priors: dict[str, dict[int, float]] | None = None, start: float = 0.0):
        """`targets`: scene -> target fps; `rungs`: scene -> the usable rung numbers, 0 (the top) first
        (a rung the machine skips, fp16 on a CPU, is left out); `priors`: scene -> rung -> how much
        dearer the usable rung above it is, where that is known beforehand (a smaller render size:
        the ratio of pixels), which caps what is learnt under a changing load. Nothing is judged
        before `start` + `dwell` (show seconds): a show's first seconds stall on warming caches."""
        self.config = config
        self.targets = dict(targets)
        self.rungs = {scene: list(numbers) for scene, numbers in rungs.items() if scene in targets}
        self.position = {scene: numbers[0] for scene, numbers in self.rungs.items()}
        self.forced: dict[str, int] = {}  # scene -> a rung someone holds it on (an attract mode)
        self.steps_down = {scene: 0 for scene in self.rungs}
        self.steps_up = {scene: 0 for scene in self.rungs}
        self.seconds_on = {scene: {} for scene in self.rungs}  # scene -> rung -> show seconds spent on it
        self._lock = threading.Lock()  # pictures come from the render thread, steps from the inference thread
        self._watch: dict[str, _Watch] = {}
        self._on_screen: str | None = None
        self._cost: dict[tuple[str, int], float] = {}  # (scene, rung) -> its step p95 when it was last left
        self._ratio: dict[tuple[str, int], float] = {}  # (scene, rung) -> step of rung above / step of this one
        self._dwell = {scene: {} for scene in self.rungs}  # scene -> rung -> its dwell, doubled after a bounce
        self._arrived_up: dict[str, float] = {}  # scene -> show seconds of its last step up
        self._last_seen: dict[str, float] = {}  # scene -> when its time on the rung was last counted
        self.last_p95_ms: dict[str, float] = {}  # scene -> the last judged p95 interval, for the HUD
        self._released: set[str] = set()  # scenes let go of since the last decision
        self._priors = {scene: dict(ratios) for scene, ratios in (priors or {}).items()}
        self._judging_from = start + config.dwell

    def start(self, t: float) -> None:
        """The show starts (or resumes) at t (show seconds): nothing is judged for a dwell after it."""
        with self._lock:
            self._judging_from = t + self.config.dwell

    def note_picture(self, scene: str, t: float) -> None:
        """A new picture of `scene` reached the screen at t (show seconds); from the render thread."""
        with self._lock:
            watch = self._watch.get(scene)
            if watch is not None and scene == self._on_screen:
                watch.pictures.append(t)

    def note_step(self, scene: str, t: float, seconds: float) -> None:
        """The composing step at t (show seconds) that made a new picture of `scene` took `seconds`."""
        with self._lock:
            watch = self._watch.get(scene)
            if watch is not None and scene == self._on_screen:
                watch.steps.append((t, seconds))

    def force(self, scene: str, rung: int | None) -> None:
        """Hold `scene` on `rung` whatever its rate (an attract mode lowering the work), or None to let the
        governor steer it again. The move is made at the next `decide`."""
        with self._lock:
            if rung is None:  # back to the top: the governor steps it down again if it must
                if self.forced.pop(scene, None) is not None:
                    self._released.add(scene)
            else:
                self.forced[scene] = rung

    def decide(self, on_screen: str, t: float) -> Step | None:
        """The move to make before the frame at t (show seconds) with `on_screen` in front, or None."""
        with self._lock:
            self._count_time(t)
            if on_screen != self._on_screen:  # a scene back on screen is judged afresh
                self._on_screen = on_screen
                if on_screen in self.rungs:
                    self._watch[on_screen] = _Watch(t)
            for scene in sorted(self._released):
                self._released.discard(scene)
                if self.position[scene] != self.rungs[scene][0]:
                    return self._move(scene, self.rungs[scene][0], t, "let go (no longer held)")
            if on_screen in self.forced and self.forced[on_screen] != self.position[on_screen]:
                return self._move(on_screen, self.forced[on_screen], t, "held there (forced)")
            for scene, rung in self.forced.items():  # a forced scene off screen moves too: it is ready when shown
                if scene != on_screen and rung != self.position[scene]:
                    return self._move(scene, rung, t, "held there (forced)")
            if on_screen not in self.rungs or on_screen in self.forced:
                return None
            return self._judge(on_screen, t)

    def _judge(self, scene: str, t: float) -> Step | None:
        watch = self._watch[scene]
        config = self.config
        if t - watch.since < config.window or t < self._judging_from:
            return None
        budget = 1.0 / self.targets[scene]  # seconds between new pictures
        since = t - config.window
        pictures = [at for at in watch.pictures if at > since]
        steps = np.array([seconds for at, seconds in watch.steps if at > since])
        if len(pictures) < 2 or len(steps) == 0:
            if pictures and t - pictures[-1] <= budget * (1.0 + config.tolerance):
                return None  # too few pictures to judge, but the last came in time
            intervals = np.array([t - (pictures[-1] if pictures else watch.since)])  # nothing, or stalled
        else:
            intervals = np.diff(np.array([*pictures, t]))  # the wait since the last picture counts too
            if len(pictures) < MIN_PICTURES and intervals.max() <= budget:
                return None
        p95 = float(np.percentile(intervals, 95))
        step_p95 = float(np.percentile(steps, 95)) if len(steps) else p95
        self.last_p95_ms[scene] = p95 * 1000.0
        rungs, position = self.rungs[scene], self.position[scene]
        level = rungs.index(position)
        ratio = self._learned_ratio(scene, position, steps) if level > 0 else None
        step_p50 = float(np.percentile(steps, 50)) if len(steps) else p95
        if p95 > budget * (1.0 + config.tolerance) and step_p50 > budget * WORK_LIMITS and level + 1 < len(rungs):
            self._cost[(scene, position)] = step_p95  # what it costs now (p50 would still be the calm before a load)
            return self._move(scene, rungs[level + 1], t,
                              f"p95 {p95 * 1000:.0f} ms > {budget * 1000:.0f} ms")
        if level == 0 or t - watch.since < self._dwell_of(scene, position) or p95 > budget * (1.0 + config.tolerance):
            return None  # at the top, not here long enough, or missing the target even here (a starved display)
        above = rungs[level - 1]
        log.debug("%s on rung %d: p95 %.0f ms, step p95 %.0f ms, ratio %s", scene, position, p95 * 1000,
                  step_p95 * 1000, ratio)
        if ratio is None:
            return None
        predicted = step_p95 * ratio
        if predicted <= budget * (1.0 - config.margin):
            return self._move(scene, above, t, f"rung {above} would take {predicted * 1000:.0f} ms of "
                                               f"{budget * 1000:.0f} ms")
        return None

    def _learned_ratio(self, scene: str, position: int, steps: np.ndarray) -> float | None:  # steps: seconds
        """How much dearer the rung above is than this one: learnt at the first judgement after stepping
        down to it, a window after the step (about the same load on both sides of it)."""
        key = (scene, position)
        prior = self._priors.get(scene, {}).get(position)
        if key not in self._ratio:
            above = self._cost.get((scene, self.rungs[scene][self.rungs[scene].index(position) - 1]))
            if above is None or not len(steps):
                return prior  # never measured above (a rung forced, then let go of): what is known beforehand
            self._ratio[key] = max(1.0, above / max(float(np.percentile(steps, 95)), 1e-6))
        return min(self._ratio[key], prior) if prior is not None else self._ratio[key]

    def _dwell_of(self, scene: str, rung: int) -> float:
        return self._dwell[scene].get(rung, self.config.dwell)

    def _move(self, scene: str, rung: int, t: float, why: str) -> Step:
        before = self.position[scene]
        if rung > before:
            self.steps_down[scene] += 1
            went_up = self._arrived_up.get(scene)
            if went_up is not None and t - went_up < 2 * self._dwell_of(scene, rung):  # it bounced: wait longer
                self._dwell[scene][rung] = min(MAX_DWELL, 2 * self._dwell_of(scene, rung))
        else:
            self.steps_up[scene] += 1
            self._arrived_up[scene] = t
        self.position[scene] = rung
        self._ratio.pop((scene, rung), None)  # each stay on a rung learns its ratio afresh
        self._watch[scene] = _Watch(t)
        return Step(scene, rung, why)

    def _count_time(self, t: float) -> None:
        for scene, rung in self.position.items():
            last = self._last_seen.get(scene, t)
            spent = self.seconds_on[scene]
            spent[rung] = spent.get(rung, 0.0) + max(0.0, t - last)
            self._last_seen[scene] = t

    def carry_over(self, before: Governor, kept: set[str]) -> None:
        """After a reloaded show: the scenes in `kept` (their ladders unchanged) keep their rung and counts."""
        for scene in kept & set(self.rungs) & set(before.rungs):
            self.position[scene] = before.position[scene]
            self.steps_down[scene], self.steps_up[scene] = before.steps_down[scene], before.steps_up[scene]
            self.seconds_on[scene] = dict(before.seconds_on[scene])
            if scene in before.forced:
                self.forced[scene] = before.forced[scene]

    def summary(self) -> dict:
        """For --stats-json: each scene's rung now, its steps down and up, and seconds on each rung."""
        with self._lock:
            return {scene: {"rung": self.position[scene], "target_fps": self.targets[scene],
                            "steps_down": self.steps_down[scene], "steps_up": self.steps_up[scene],
                            "seconds_on_rung": {str(rung): round(seconds, 2)
                                                for rung, seconds in sorted(self.seconds_on[scene].items())},
                            **({"p95_ms": round(self.last_p95_ms[scene], 1)} if scene in self.last_p95_ms else {}),
                            **({"forced": self.forced[scene]} if scene in self.forced else {})}
                    for scene in self.rungs}
