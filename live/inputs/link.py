"""Ableton Link: join the session on the local network, read its tempo and beat grid, or lead it.

LinkPython-extern's `link.Link` runs Link's own threads (peer discovery over UDP
multicast, 224.76.78.75:20808, on every interface with an IPv4 address, loopback
included); this wrapper only captures the app's session state on the caller's thread
(the frame tick) and never blocks. Link keeps time on its own clock (microseconds;
CLOCK_MONOTONIC_RAW on Linux): each read samples it and the show's clock back to back,
so the beat times it hands out are on the show's clock. A missing wheel is a status line,
not a crash.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from live.core.clock import Clock

log = logging.getLogger("latentstage.link")


@dataclass(frozen=True)
class LinkReading:
    bpm: float
    beat: float  # the session's beat at the time read (its phase in the bar is shared by all peers)
    peers: int  # other Link programs in the session
    link_us: int  # Link's clock at the time read, microseconds


class LinkSession:
    """One Link peer: `start` joins, `reading(t)` and `beats_between` follow, `lead` sets the tempo."""

    def __init__(self, bpm: float, quantum: float, clock: Clock):
        """`bpm`: the tempo the session starts at if this peer is alone; `quantum`: beats to a bar."""
        self.quantum = quantum
        self.clock = clock
        self._bpm = bpm
        self._link = None
        self.problem = ""  # why Link is off, "" while it runs

    def start(self) -> None:
        try:
            import link  # LinkPython-extern
        except ImportError as error:
            self.problem = f"Link is not installed ({error}); pip install LinkPython-extern"
            log.error("%s", self.problem)
            return
        self._link = link.Link(self._bpm)
        self._link.enabled = True
        log.info("Link: joined at %.1f bpm, %g beats to the bar", self._bpm, self.quantum)

    def stop(self) -> None:
        if self._link is not None:
            self._link.enabled = False
            self._link = None

    @property
    def running(self) -> bool:
        return self._link is not None

    def peers(self) -> int:
        return self._link.numPeers() if self._link is not None else 0

    def _link_time(self, t: float) -> int:
        """Link's clock (microseconds) at show time t: both clocks read back to back, so the two agree
        to a few microseconds whatever drift lies between them."""
        now = self.clock()
        return self._link.clock().micros() + round((t - now) * 1e6)

    def reading(self, t: float) -> LinkReading | None:
        """The session's tempo and beat at show time t; None while Link is off."""
        if self._link is None:
            return None
        link_us = self._link_time(t)
        state = self._link.captureAppSessionState()
        return LinkReading(state.tempo(), state.beatAtTime(link_us, self.quantum), self._link.numPeers(), link_us)

    def beats_between(self, since: float, until: float) -> list[tuple[float, bool]]:
        """(show time, downbeat) of each of the session's whole beats in (since, until]: the exact
        times, from the session's timeline, whenever the frame that asks comes."""
        if self._link is None or until <= since:
            return []
        t, link_us = until, self._link_time(until)
        state = self._link.captureAppSessionState()
        first = math.floor(state.beatAtTime(link_us + round((since - t) * 1e6), self.quantum)) + 1
        last = math.floor(state.beatAtTime(link_us, self.quantum))
        beats = []
        for beat in range(first, last + 1):
            at = t + (state.timeAtBeat(beat, self.quantum) - link_us) / 1e6
            beats.append((at, beat % round(self.quantum) == 0 if self.quantum >= 1 else True))
        return beats

    def lead(self, bpm: float, t: float, beat: float | None = None) -> None:
        """Set the session's tempo at show time t (every peer follows it); with `beat`, map that beat
        to t as well (the show's own grid), quantised as Link does when other peers are playing."""
        if self._link is None:
            return
        link_us = self._link_time(t)
        state = self._link.captureAppSessionState()
        if abs(state.tempo() - bpm) > 1e-3:  # Link keeps microseconds a beat: 140 reads 140.00014
            state.setTempo(bpm, link_us)
        if beat is not None:
            state.requestBeatAtTime(beat, link_us, self.quantum)
        self._link.commitAppSessionState(state)
