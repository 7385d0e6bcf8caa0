"""Attract mode: when nobody has been in front of the camera for a while, glide to an attract scene; wake on approach.

An installation says `attract: {scene: drift, after: 60}`. Once the room's
presence (live.inputs.presence) has stayed under `below` for `after` seconds,
the attract scene glides in over `fade` seconds and holds the screen over the
cues (live.show.director), and while it is alone there the show composes at
`fps`, a lower rate, so an empty room does not burn the machine's power.
When presence reaches `wake` (above `below`, so it never flaps) the screen
goes back to what the cues and the performer say, over a fade that follows
the activity: a quick approach (the whole picture moving) gets the short end
of `wake_fade`, someone drifting in slowly the long one. Every decision is a
function of the show time and the presence read from the frames, so a
rehearsal of the same clip attracts and wakes at the same frames.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from live.core.config import Settings

if TYPE_CHECKING:  # the director reads the show file, whose `attract:` block is declared here
    from live.show.director import Director

log = logging.getLogger("latentstage.attract")

MAX_CHANGES = 200  # attract changes --stats-json keeps (the newest), over days unattended


class AttractConfig(Settings):
    scene: str  # the attract scene: what an empty room sees
    after: float = Field(60.0, gt=0)  # seconds of presence under `below` before it glides in
    below: float = Field(0.1, gt=0, lt=1)  # presence under this is an empty room
    wake: float = Field(0.3, gt=0, le=1)  # presence at or over this wakes it
    fade: float = Field(4.0, ge=0)  # seconds: the glide into the attract scene
    wake_fade: tuple[float, float] = (0.5, 3.0)  # seconds back: a quick approach's, a slow one's
    # frames a second while the attract scene is alone on screen; None: a third of the show's rate
    fps: float | None = Field(None, gt=0, le=240)

    @model_validator(mode="after")
    def _ordered(self) -> AttractConfig:
        if self.wake <= self.below:
            raise ValueError(f"wake ({self.wake:g}) must be above below ({self.below:g}), or it would flap "
                             "between the two on a visitor at the edge of the picture")
        quick, slow = self.wake_fade
        if not 0 <= quick <= slow:
            raise ValueError(f"wake_fade is [quick, slow] seconds, 0 <= quick <= slow; got {list(self.wake_fade)}")
        return self


@dataclass
class AttractChange:
    at: float  # seconds of show time
    scene: str  # the scene gliding in: the attract scene, or the one it gives the screen back to
    presence: float
    fade: float  # seconds


@dataclass
class Attract:
    """The attract mode's decisions, once per frame (`update`), and what it has done (counts, HUD)."""

    config: AttractConfig
    scene: int  # the attract scene's index in the show
    names: list[str]  # the show's scene names
    still_since: float | None = None  # show time presence last went under `below`; None while someone is there
    since: float | None = None  # show time the attract scene took the screen; None while awake
    entered: int = 0
    woke: int = 0
    seconds: float = 0.0  # attract time of the changes already over (the current one's is added on reading)
    changes: list[AttractChange] = field(default_factory=list)
    _t: float = 0.0

    def update(self, t: float, presence: float, activity: float, director: Director) -> None:
        """Decide for the frame at t (seconds) on this frame's presence (smoothed) and activity (raw), 0..1."""
        self._t = t
        if self.since is not None and not director.attracting:  # a performer picked a scene: someone is there
            self._woken(t, presence, "the performer picked a scene", self.names[director.composition_at(t).scene], 0.0)
            self.still_since = None  # counted again from now
        if presence >= self.config.below:
            self.still_since = None
        elif self.still_since is None:
            self.still_since = t
        if self.since is None and self.still_since is not None and t - self.still_since >= self.config.after:
            director.attract(self.scene, t, self.config.fade)
            self.since, self.entered = t, self.entered + 1
            self._note(AttractChange(t, self.names[self.scene], presence, self.config.fade))
            log.info("attract at %.2f s: nobody for %.1f s (presence %.2f): %r glides in over %g s", t,
                     t - self.still_since, presence, self.names[self.scene], self.config.fade)
        elif self.since is not None and presence >= self.config.wake:
            quick, slow = self.config.wake_fade
            fade = slow - (slow - quick) * min(1.0, max(0.0, activity))
            director.wake(t, fade)
            self._woken(t, presence, f"someone came (activity {activity:.2f})",
                        self.names[director.composition_at(t).scene], fade)

    def _woken(self, t: float, presence: float, why: str, back_to: str, fade: float) -> None:
        log.info("attract woken at %.2f s: %s after %.1f s (presence %.2f): back to %r over %.1f s", t, why,
                 t - self.since, presence, back_to, fade)
        self.seconds += t - self.since
        self.since, self.woke = None, self.woke + 1
        self._note(AttractChange(t, back_to, presence, fade))

    def _note(self, change: AttractChange) -> None:
        self.changes = [*self.changes[-(MAX_CHANGES - 1):], change]

    def alone_on_screen(self, director: Director, t: float) -> bool:
        """Whether the attract scene holds the screen alone at t (not while it glides in or out)."""
        return self.since is not None and director.attracting and director.composition_at(t).previous is None

    def frame_rate(self, show_fps: float, director: Director, t: float) -> float:
        """Frames a second to compose at t: the show's, or the attract rate while its scene is alone on screen
        (not while it glides: a fade at a few frames a second would stutter)."""
        return min(show_fps, self.config.fps or show_fps / 3.0) if self.alone_on_screen(director, t) else show_fps

    def hud_line(self, presence: float, now: float, wall: Callable[[], float] = time.time) -> str:
        """'attract since 21:14, presence 0.02' while it holds the screen; else how long the room has been still."""
        if self.since is not None:
            started = time.strftime("%H:%M", time.localtime(wall() - (now - self.since)))
            return f"attract since {started}, presence {presence:.2f}"
        if self.still_since is not None:
            return (f"presence {presence:.2f}, still for {now - self.still_since:.0f} s "
                    f"(attract after {self.config.after:g} s)")
        return f"presence {presence:.2f}"

    def summary(self) -> dict:
        """For --stats-json: how often it glided in and woke, the seconds it held the screen, each change."""
        holding = self._t - self.since if self.since is not None else 0.0
        return {"entered": self.entered, "woke": self.woke, "seconds": round(self.seconds + holding, 2),
                "attracting": self.since is not None,
                "changes": [{"at": round(change.at, 3), "scene": change.scene, "presence": round(change.presence, 3),
                             "fade": round(change.fade, 2)} for change in self.changes]}
