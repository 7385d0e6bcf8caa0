"""Holding each scene's rate in a live run: the governor's moves put on the stage's ladders, logged once and
journaled, and an empty room's attract scene held on its cheapest rung.

The live run asks before each frame (`steer`), says what each composed frame cost (`composed`) and when a new
picture reached the screen (`shown`), and hands over a reloaded show's ladders (`follow_reload`). A rehearsal
never steers: its rungs come from `--ladder` or, in a replay, from the journal's ladder lines this writes.
"""
from __future__ import annotations

import logging

from live.show.attract import Attract
from live.show.governor import Governor
from live.show.run_journal import RunJournal
from live.show.stage import Stage

log = logging.getLogger("latentstage.live")


class RateKeeper:
    def __init__(self, stage: Stage):
        self.stage = stage
        self.governor = governor_for(stage)  # steps scenes with a target down their ladders and back up
        self.journal: RunJournal | None = None  # where each move is written for a replay, when the run keeps one
        self._held_low: str | None = None  # the attract scene held on its cheapest rung while the room is empty
        self._composed: tuple[str, float] | None = None  # (scene, capture time) of the last frame composed

    def hold_rung(self, scene: str, rung: int | None) -> None:
        """Hold `scene` on rung `rung` of its ladder whatever its rate (0 is the top), or let the governor steer
        it again with None (it goes back to the top, and down again only if it must). Safe from any thread;
        the move is made at the next `steer`."""
        ladder = self.stage.ladders.get(scene)
        if ladder is None or (rung is not None and not 0 <= rung < len(ladder.plans)):
            raise ValueError(f"scene {scene!r} has no rung {rung}" if ladder else f"scene {scene!r} has no ladder")
        self.governor.force(scene, rung)

    def steer(self, t: float, seq: int) -> None:
        """Before composing frame `seq` at t: the governor's move, if any, made, logged once and journaled."""
        on_screen = self._composed[0] if self._composed is not None else self.stage.scene_name(0)
        step = self.governor.decide(on_screen, t)
        if step is None:
            return
        ladder = self.stage.ladders[step.scene]
        before = ladder.position
        self.stage.use_rung(step.scene, step.rung)
        direction = "down" if step.rung > before else "up"
        (log.warning if direction == "down" else log.info)(
            "%s: %s to rung %d (%s): %s", step.scene, direction, step.rung, ladder.plans[step.rung].label,
            step.reason)
        if self.journal is not None:
            self.journal.rung(seq, t, step.scene, step.rung)

    def lower_the_empty_room(self, attract: Attract | None, t: float) -> None:
        """After the frame at t is directed: while the attract scene holds the screen alone, hold it on its
        cheapest rung if it has a ladder (an empty room needs no detail); let go when it glides out."""
        stage = self.stage
        scene = attract.names[attract.scene] if attract is not None else None
        ladder = stage.ladders.get(scene) if scene is not None else None
        lower = ladder is not None and attract.alone_on_screen(stage.director, t)
        if lower and self._held_low != scene:
            self.hold_rung(scene, ladder.usable[-1])
            self._held_low = scene
        elif not lower and self._held_low is not None:
            if self._held_low in stage.ladders:  # an edit may have taken its ladder away
                self.hold_rung(self._held_low, None)
            self._held_low = None

    def composed(self, scene: str, captured_at: float, started: float, took: float) -> None:
        """A frame of `scene` composed from t=started in `took` seconds: a new picture's work counts."""
        composed = (scene, captured_at)
        if composed != self._composed:
            self.governor.note_step(scene, started, took)
        self._composed = composed

    def shown(self, scene: str, t: float) -> None:
        """A new picture of `scene` reached the screen at t: the rate the governor steers by."""
        self.governor.note_picture(scene, t)

    def follow_reload(self, ladders_before: dict, t: float) -> None:
        """A reloaded show's ladders: scenes it kept keep their rung and counts, new ones start at the top."""
        before = self.governor
        self.governor = governor_for(self.stage, t)
        kept = {name for name, ladder in self.stage.ladders.items() if ladders_before.get(name) is ladder}
        self.governor.carry_over(before, kept)


def governor_for(stage: Stage, start: float = 0.0) -> Governor:
    """The governor of the stage's scenes that have a target and a ladder, each at the rung it is on;
    it judges from `start` (show seconds) on."""
    targets = {spec.name: spec.target_fps for spec in stage.show.scenes
               if spec.target_fps is not None and spec.name in stage.ladders}
    governor = Governor(stage.show.governor, targets, {name: ladder.usable for name, ladder in stage.ladders.items()},
                        {name: ladder.cost_priors() for name, ladder in stage.ladders.items()}, start)
    for name, ladder in stage.ladders.items():
        if name in governor.position:
            governor.position[name] = ladder.position
    return governor
