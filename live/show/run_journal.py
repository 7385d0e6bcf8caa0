"""A live run's event log, kept as it happens: controller writes, frames, cues, reloads and screenshots.

Controller writes are numbered as they reach the bus; a reloaded show's new bus
is the next generation, its writes numbered from 1 again. Each composed frame
has a line saying how many writes it had seen, what it heard and the beats its
tempo source gave, so a replay renders the night's frames (live.show.event_log).
"""
from __future__ import annotations

from collections.abc import Callable

from live.control.bus import ControlBus
from live.core.clock import Clock
from live.show.conductor import Conductor
from live.show.event_log import EventRecorder
from live.show.show_reload import AppliedShow, ShowReloader
from live.show.stage import Stage


class RunJournal:
    def __init__(self, events: EventRecorder, clock: Clock, frame: Callable[[], int]):
        """`frame()`: the number the next composed frame will have."""
        self.events = events
        self.clock = clock
        self.frame = frame
        self._bus_generation = 0  # buses journaled so far: each show reload brings a new one

    @property
    def problem(self) -> str:
        return self.events.problem

    def watch(self, conductor: Conductor, reloader: ShowReloader | None) -> None:
        """Journal the conductor's bus now and each reloaded show's bus from its first frame."""
        conductor.journal = self.keep
        self.keep(conductor.bus)
        if reloader is not None:
            reloader.on_applied = self.reloaded

    def keep(self, bus: ControlBus) -> None:
        events, generation, clock = self.events, self._bus_generation, self.clock
        self._bus_generation += 1
        bus.keep_journal(lambda number, operation, name, value, source: events.control(
            number, operation, name, value, source, clock(), generation))

    def reloaded(self, applied: AppliedShow) -> None:
        """The edited show's text, before the first frame that uses it: a replay swaps it in there too."""
        self.events.note("reload", applied.at, what="show", frame=self.frame(), controls=applied.controls,
                         show_text=applied.text)

    def composed(self, seq: int, t: float, conductor: Conductor, stage: Stage) -> None:
        """The frame's line (what a replay needs), and the cues and model reloads that came with it."""
        self.events.frame(seq, t, conductor.outside_writes, conductor.features, conductor.beats)
        for at, cue in conductor.fired:
            tempo = {"tempo": conductor.tempo.describe(at)} if conductor.tempo is not None else {}
            self.events.note("cue", at, scene=cue.scene, trigger=cue.trigger, **tempo)
        for scene, path in stage.swapped:
            self.events.note("reload", t, what="model", scene=scene, path=str(path))

    def rung(self, seq: int, t: float, scene: str, rung: int) -> None:
        """The governor put `scene` on ladder rung `rung` from composed frame `seq` on: a replay does too."""
        self.events.note("ladder", t, frame=seq, scene=scene, rung=rung)

    def screenshot(self, t: float, seq: int, file: str) -> None:
        """Which composed frame a screenshot shows: a replay renders that one again."""
        self.events.note("screenshot", t, frame=seq, file=file)
