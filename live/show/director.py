"""The director: which scenes are on screen at time t, and how far a crossfade has gone.

Timed cues are a function of t (seconds), so live runs (wall clock) and
rehearsals (virtual clock) follow the same timeline. A show whose cues wait for
the operator's GO, or for the cue before them, is a cue list, as in theatre
software: its cues fire in file order, each when its time has come, its wait
after the previous one has passed, or GO is pressed (GO fires the standby cue,
whatever it waits for); the fired cues are then a timeline like any other, and
a rehearsal that presses GO at the same times gets the same frames. A
performer's manual scene change overrides the cues until the next one fires.
An attract scene (live.show.attract: nobody in front of the camera) holds the
screen over the cues and the performer's changes: it glides in over its fade
and, on waking, gives the screen back to whatever they say is on it by then;
a performer picking a scene ends it at once.
A cue that says `quantise: beat` (or `bar`) waits, once its trigger has come,
for the next beat (or first beat of a bar) of the show's tempo: a fixed grid,
or the beats the show's leading tempo source reports (live.show.tempo: the audio
tracker, `/latentstage/beat`, Ableton Link, MIDI clock), at their own times.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from live.core.curves import Curve, apply_curve
from live.show.schema import Cue, Show


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


@dataclass(frozen=True)
class _Attract:
    """The attract scene holding the screen: since `at` (raw clock seconds), faded in over `fade`; once woken at
    `woke_at`, fading back out over `wake_fade`."""

    scene: int
    at: float
    fade: float
    woke_at: float | None = None
    wake_fade: float = 0.0


class Director:
    def __init__(self, show: Show):
        self.show = show
        self._cues = show.timeline
        self._cue_list = show.is_cue_list
        self._cued: list[_Change] = []  # a timed show's every cue; a cue list's cues fired so far
        self._armed: float | None = None  # when the standby cue's trigger came, if it waits for a beat
        self._beats: list[tuple[float, bool | None]] = []  # beats heard (seconds, the bar's first beat if known)
        if not self._cue_list:
            for cue in self._cues:
                self._fire(cue.at)
        self._manual: _Change | None = None
        self._attract: _Attract | None = None

    @classmethod
    def continuing(cls, show: Show, before: Director, t: float) -> Director:
        """A director for `show` (the show file edited while it runs) that carries on from `before` at t:
        as many of its cues have fired, by position, at the times they fired then; the beats heard
        stay heard; a performer's scene change stays on screen if its scene is still in the show."""
        director = cls(show)
        director._beats = list(before._beats)
        if director._cue_list:
            fired = [change.at for change in before._cued if change.at <= before.show_time(t)]
            for at in fired[:len(director._cues)]:
                director._fire(at)
            if before._armed is not None and len(fired) == len(director._cued) and director.standby is not None:
                director._armed = before._armed  # the standby cue was waiting for its beat: it still is
        names = [scene.name for scene in show.scenes]
        manual = before._manual
        if manual is not None and before.show.scenes[manual.scene].name in names:
            previous = before.show.scenes[manual.previous].name
            scene = names.index(before.show.scenes[manual.scene].name)
            director._manual = _Change(manual.at, scene, manual.fade,
                                       names.index(previous) if previous in names else scene, manual.curve)
        attract = before._attract  # kept while the show still attracts to that scene
        if attract is not None and show.attract is not None \
                and before.show.scenes[attract.scene].name == show.attract.scene:
            scene = names.index(show.attract.scene)
            director._attract = _Attract(scene, attract.at, attract.fade, attract.woke_at, attract.wake_fade)
        return director

    def state(self) -> dict:
        """What a resumed show needs of the director, as plain JSON values: when each cue of a cue list
        fired (a timed show's cues are a function of t) and a performer's scene change, by scene name."""
        names = [scene.name for scene in self.show.scenes]
        manual = self._manual
        return {"fired": [change.at for change in self._cued] if self._cue_list else [],
                "manual": None if manual is None else {"scene": names[manual.scene], "at": manual.at,
                                                       "fade": manual.fade, "previous": names[manual.previous],
                                                       "curve": manual.curve}}

    def resume(self, fired: list[float], manual: dict | None) -> None:
        """Carry on from a `state`: the first len(fired) cues of a cue list fired at those times (as many
        as the list has), and the performer's scene change if its scene is still in the show."""
        if self._cue_list:
            self._cued, self._armed = [], None
            for at in fired[:len(self._cues)]:
                self._fire(at)
        names = [scene.name for scene in self.show.scenes]
        if manual is not None and manual["scene"] in names:
            scene = names.index(manual["scene"])
            previous = names.index(manual["previous"]) if manual["previous"] in names else scene
            self._manual = _Change(manual["at"], scene, manual["fade"], previous, manual["curve"])

    def last_fired(self, t: float) -> int | None:
        """Number (from 1, firing order) of the latest cue fired by t (folded into the show's length); None before any."""
        folded = self.show_time(t)
        fired = [index for index, change in enumerate(self._cued) if change.at <= folded]
        return fired[-1] + 1 if fired else None

    @property
    def is_cue_list(self) -> bool:
        return self._cue_list

    def cue(self, index: int) -> Cue:
        """The cue at `index` in firing order."""
        return self._cues[index]

    @property
    def standby(self) -> int | None:
        """The next cue of a cue list to fire (0-based, file order); None when all have fired or the
        show is timed."""
        if not self._cue_list or len(self._cued) >= len(self._cues):
            return None
        return len(self._cued)

    def go(self, t: float) -> bool:
        """The operator's GO at t: fire the standby cue now (on its next beat, if it is quantised),
        whatever it waits for, and any that follow it at once. False when there is nothing to fire
        (a timed show, or the list is done)."""
        self._follow(t)
        if self.standby is None:
            return False
        if self._armed is None:  # a cue already waiting for its beat keeps it
            self._arm(t)
        self._follow(t)
        return True

    def fired_between(self, since: float, until: float) -> list[tuple[float, Cue]]:
        """(when, cue) for each cue that fired after `since` and by `until` (seconds), in firing order;
        a timed show's cues fire again in each round of its length."""
        self._follow(until)
        since = max(since, -1.0)  # cues fire at 0 s or later: any earlier start is the same (and finite)
        if self._cue_list:
            return [(change.at, self._cues[index]) for index, change in enumerate(self._cued)
                    if since < change.at <= until]
        length = self.show.length
        fired = []
        for cue in self._cues:
            first_round = max(0, math.floor((since - cue.at) / length) + 1) if length else 0
            rounds = range(first_round, first_round + 1 + (math.floor((until - since) / length) if length else 0))
            fired += [(at, cue) for k in rounds if since < (at := cue.at + k * (length or 0)) <= until]
        return sorted(fired, key=lambda item: item[0])

    @property
    def fired_count(self) -> int:
        """Cues of a cue list fired so far (0 for a timed show)."""
        return len(self._cued) if self._cue_list else 0

    def fired_from(self, position: int) -> list[tuple[float, Cue]]:
        """(when, cue) for each cue of a cue list fired from `position` (0-based, firing order) on. A cue on
        a beat that its source handed over late (MIDI clock through JACK's cycle) fired at that beat's
        time, which can be before the frame that learnt of it, so a caller counts fired cues, not times."""
        return [(change.at, self._cues[index]) for index, change in enumerate(self._cued[position:], position)]

    def beat(self, t: float, downbeat: bool | None = None) -> None:
        """A beat at t from the leading tempo source; `downbeat`: whether it starts a bar, if the source
        knows bars (Link, MIDI clock, a fixed grid)."""
        self._beats.append((t, downbeat))
        self._follow(t)

    def _fire(self, at: float) -> None:
        self._armed = None
        cue = self._cues[len(self._cued)]
        previous = self._cued[-1].scene if self._cued else 0
        self._cued.append(_Change(at, self.show.scene_index(cue.scene), cue.fade, previous, cue.curve))

    def _arm(self, at: float) -> None:
        """The standby cue's trigger came at `at`: it fires then, or on its beat after."""
        self._armed = at
        if not self._cues[self.standby].quantise:
            self._fire(at)

    def _follow(self, t: float) -> None:
        """Fire each cue of the list whose time, wait or beat has come by t, in order; a GO cue stops the run."""
        while self.standby is not None:
            cue = self._cues[self.standby]
            if self._armed is None:
                last = self._cued[-1].at if self._cued else 0.0
                due = self._due(cue, last)
                if due is None or due > t:
                    return
                self._arm(max(due, last))
                continue
            on_beat = self._beat_after(self._armed, cue.quantise)
            if on_beat is None or on_beat > t:
                return
            self._fire(on_beat)

    def _due(self, cue: Cue, last: float) -> float | None:
        """When the standby cue's own trigger comes, the cue before it having fired at `last`; None: on GO."""
        if cue.at is not None:
            return cue.at
        if cue.wait is not None:
            return last + cue.wait
        if cue.follow:  # auto-follow: once the cue before it is done
            return last + (self._cues[len(self._cued) - 1].lasts if self._cued else 0.0)
        return None

    def _beat_after(self, at: float, quantise: str) -> float | None:
        """The first beat (or bar's first beat) at or after `at`; None until one is known."""
        tempo = self.show.tempo
        every = tempo.beats_per_bar if quantise == "bar" else 1
        if tempo.source == "fixed":
            period = 60.0 / tempo.bpm * every
            return tempo.offset + max(0, math.ceil((at - tempo.offset) / period - 1e-9)) * period
        # heard beats: a bar starts on a source's downbeat, or where it does not know bars, every
        # `every` beats counting from the first beat heard
        def starts_a_bar(index: int, downbeat: bool | None) -> bool:
            return downbeat if downbeat is not None else index % every == 0

        return next((beat for index, (beat, downbeat) in enumerate(self._beats)
                     if beat >= at and (quantise == "beat" or starts_a_bar(index, downbeat))), None)

    def show_time(self, t: float) -> float:
        """t folded into the show's length when the cue list repeats."""
        return t % self.show.length if self.show.length else t

    def select(self, scene: int, t: float, fade: float = 0.0) -> None:
        """Cut or fade to `scene` now (t in seconds), ahead of the cue list (and of an attract scene)."""
        on_screen = self.composition_at(t).scene
        self._manual = _Change(t, scene % len(self.show.scenes), fade, on_screen)
        self._attract = None

    def attract(self, scene: int, t: float, fade: float) -> None:
        """From t (seconds), glide to `scene` over `fade` seconds and hold it there until `wake`."""
        self._attract = _Attract(scene, t, fade)

    def wake(self, t: float, fade: float) -> None:
        """From t (seconds), give the screen back to the cues and the performer over `fade` seconds. Woken while
        it still glides in, it goes back from where the glide had got to (the smooth curve is symmetric: the
        fade back starts that far along), never from the attract scene in full."""
        attract = self._attract
        if self.attracting:
            glided = min(1.0, (t - attract.at) / attract.fade) if attract.fade > 0 else 1.0
            self._attract = replace(attract, woke_at=t - fade * (1.0 - glided), wake_fade=fade)

    @property
    def attracting(self) -> bool:
        """Whether an attract scene holds the screen (not yet woken)."""
        return self._attract is not None and self._attract.woke_at is None

    def composition_at(self, t: float) -> Composition:
        """Which scenes are on screen at t and how far a crossfade between them has gone."""
        beneath = self._directed_at(t)
        attract = self._attract
        if attract is None:
            return beneath
        if attract.woke_at is None or t < attract.woke_at:
            return _faded(attract.scene, beneath.scene, t - attract.at, attract.fade)
        if t - attract.woke_at >= attract.wake_fade:
            self._attract = None  # woken and faded out: the cues and the performer have the screen again
            return beneath
        return _faded(beneath.scene, attract.scene, t - attract.woke_at, attract.wake_fade)

    def _directed_at(self, t: float) -> Composition:
        """The cues' and the performer's composition at t, as if no attract scene held the screen."""
        self._follow(t)
        current = self._latest_change(t)
        if current is None:
            return Composition(scene=0, previous=None, mix=1.0)
        elapsed = self._elapsed(current, t)
        if current.fade > 0 and elapsed < current.fade and current.previous != current.scene:
            return Composition(current.scene, current.previous, apply_curve(elapsed / current.fade, current.curve))
        return Composition(current.scene, None, 1.0)

    def fade_at(self, t: float) -> float:
        """Seconds of the fade that brought the scene on screen at t (0 for a cut, or before any cue)."""
        attract = self._attract
        if attract is not None:
            return attract.fade if attract.woke_at is None or t < attract.woke_at else attract.wake_fade
        change = self._latest_change(t)
        return change.fade if change is not None else 0.0

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


def _faded(scene: int, previous: int, elapsed: float, fade: float, curve: Curve = "smooth") -> Composition:
    """`scene` coming in over `previous`, `elapsed` seconds into a fade of `fade` seconds."""
    if fade > 0 and elapsed < fade and previous != scene:
        return Composition(scene, previous, apply_curve(max(0.0, elapsed) / fade, curve))
    return Composition(scene, None, 1.0)
