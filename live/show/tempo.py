"""The show's tempo: the sources it may follow, side by side, and the one that leads now.

A show's `tempo:` names its source (a fixed grid, the audio tracker,
`/latentstage/beat`, Ableton Link or MIDI clock) and the sources to fall back to,
in order, when it is lost; the first one alive leads, and each change is one log
line. Every frame, `update` asks each source for the beats since the previous
frame, at their own times (Link and a fixed grid know them exactly; the audio
tracker and OSC say "now"), and hands the leading source's to the director,
which fires beat- and bar-quantised cues on them. The show can lead other tools
too (`lead: [link, midi]`): Link's session takes the leading tempo and, from a
fixed grid, its phase; MIDI clock goes out at 24 ticks a beat on the leading
source's beat grid.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Protocol

from live.control.midi_clock import MidiClockIn, MidiClockOut
from live.core.clock import Clock
from live.inputs.audio_analysis import AudioFeatures
from live.inputs.link import LinkSession
from live.show.schema import TempoConfig

log = logging.getLogger("latentstage.tempo")

OSC_LOST_AFTER = 2.0  # beats' worth of silence (at least this many seconds) before /latentstage/beat is lost
LINK_LOST_AFTER = 1.0  # seconds a Link follower may be alone in its session before it counts as lost


@dataclass(frozen=True)
class Beat:
    at: float  # show seconds
    downbeat: bool | None  # the bar's first beat; None when the source does not know bars


class TempoSource(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def update(self, t: float, since: float, features: AudioFeatures, osc_beats: int) -> list[Beat]:
        """The beats in (since, t], each at its own time; `osc_beats`: /latentstage/beat presses this frame."""

    def alive(self, t: float) -> bool: ...

    def bpm(self) -> float | None: ...

    def beat_at(self, t: float) -> float | None:
        """Beats since the source's first (a fraction between them), None until it has a tempo."""

    def detail(self) -> str:
        """A few words for the HUD: peers, a device, what is missing."""


class FixedTempo:
    name = "fixed"

    def __init__(self, config: TempoConfig):
        self.period = 60.0 / config.bpm  # seconds
        self.offset = config.offset
        self.beats_per_bar = config.beats_per_bar

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def update(self, t, since, features, osc_beats) -> list[Beat]:
        first = max(0, math.floor((since - self.offset) / self.period) + 1)
        last = math.floor((t - self.offset) / self.period)
        return [Beat(self.offset + k * self.period, k % self.beats_per_bar == 0) for k in range(first, last + 1)]

    def alive(self, t: float) -> bool:
        return True

    def bpm(self) -> float | None:
        return 60.0 / self.period

    def beat_at(self, t: float) -> float | None:
        return (t - self.offset) / self.period

    def detail(self) -> str:
        return ""


class HeardTempo:
    """Beats heard as they come (the audio tracker's, or /latentstage/beat): each at the frame that
    brings it; the tempo is the tracker's, or the median gap of the last few beats heard."""

    def __init__(self, name: str):
        self.name = name
        self._beats: list[float] = []  # the last few, seconds
        self._count = 0  # beats heard
        self._tracked: float | None = None  # the audio tracker's BPM

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def update(self, t, since, features, osc_beats) -> list[Beat]:
        if self.name == "audio":
            self._tracked = features.tempo_bpm
            heard = 1 if features.beat else 0
        else:
            heard = osc_beats
        if heard:
            self._beats = (self._beats + [t])[-8:]
            self._count += heard
        return [Beat(t, None)] * heard

    def _period(self) -> float | None:
        if self._tracked:
            return 60.0 / self._tracked
        gaps = sorted(b - a for a, b in zip(self._beats, self._beats[1:]))
        return gaps[len(gaps) // 2] if gaps else None

    def alive(self, t: float) -> bool:
        if self.name == "audio":
            return self._tracked is not None
        period = self._period()
        return period is not None and t - self._beats[-1] < max(OSC_LOST_AFTER, 2 * period)

    def bpm(self) -> float | None:
        period = self._period()
        return 60.0 / period if period else None

    def beat_at(self, t: float) -> float | None:
        period = self._period()
        if period is None or not self._beats:
            return None
        return self._count - 1 + (t - self._beats[-1]) / period

    def detail(self) -> str:
        return ""


class AbsentTempo:
    """A source a rehearsal cannot have (Link, MIDI clock): never alive, so the show falls back."""

    def __init__(self, name: str):
        self.name = name

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def update(self, t, since, features, osc_beats) -> list[Beat]:
        return []

    def alive(self, t: float) -> bool:
        return False

    def bpm(self) -> float | None:
        return None

    def beat_at(self, t: float) -> float | None:
        return None

    def detail(self) -> str:
        return "not in rehearsal"


class LinkTempo:
    """Following Ableton Link: alive while another peer is in the session (alone, it would only
    follow itself); the show can be alone and lead, though, and then Link is not its source."""

    name = "link"

    def __init__(self, session: LinkSession):
        self.session = session
        self._alone_since: float | None = -math.inf  # alone from the start: lost until a peer is seen

    def start(self) -> None:
        pass  # the session is started (once) by the Tempo that owns it

    def stop(self) -> None:
        pass

    def update(self, t, since, features, osc_beats) -> list[Beat]:
        if self.session.peers() > 0:
            self._alone_since = None
        elif self._alone_since is None:
            self._alone_since = t
        return [Beat(at, downbeat) for at, downbeat in self.session.beats_between(since, t)]

    def alive(self, t: float) -> bool:
        return self.session.running and (self._alone_since is None or t - self._alone_since < LINK_LOST_AFTER)

    def bpm(self) -> float | None:
        reading = self.session.reading(self.session.clock())
        return reading.bpm if reading else None

    def beat_at(self, t: float) -> float | None:
        reading = self.session.reading(t)
        return reading.beat if reading else None

    def detail(self) -> str:
        if not self.session.running:
            return self.session.problem
        peers = self.session.peers()
        return f"{peers} peer{'s' if peers != 1 else ''}"


class MidiTempo:
    name = "midi"

    def __init__(self, clock_in: MidiClockIn):
        self.clock_in = clock_in

    def start(self) -> None:
        self.clock_in.start()

    def stop(self) -> None:
        self.clock_in.stop()

    def update(self, t, since, features, osc_beats) -> list[Beat]:
        return [Beat(at, downbeat) for at, downbeat in self.clock_in.beats_until(t)]

    def alive(self, t: float) -> bool:
        return self.clock_in.running(t)

    def bpm(self) -> float | None:
        return self.clock_in.bpm()

    def beat_at(self, t: float) -> float | None:
        return self.clock_in.beat_at(t)

    def detail(self) -> str:
        return self.clock_in.status()


class Tempo:
    """The show's tempo sources in order of precedence; the first alive leads."""

    def __init__(self, config: TempoConfig, clock: Clock, rehearsal: bool = False):
        self.config = config
        self.clock = clock
        self.rehearsal = rehearsal
        names = [config.source, *config.fallback]
        self._link: LinkSession | None = None
        if not rehearsal and ("link" in names or "link" in config.lead):
            self._link = LinkSession(config.bpm or 120.0, config.beats_per_bar, clock)
        self.sources: list[TempoSource] = [self._source(name) for name in names]
        self._clock_out: MidiClockOut | None = None
        if not rehearsal and "midi" in config.lead:
            self._clock_out = MidiClockOut(config.midi_out, clock, config.beats_per_bar)
        self.leading: TempoSource | None = None
        self._since = -math.inf  # show time of the previous update

    def _source(self, name: str) -> TempoSource:
        if name == "fixed":
            return FixedTempo(self.config)
        if name in ("audio", "osc"):
            return HeardTempo(name)
        if self.rehearsal:  # Link and MIDI clock: not on a rehearsal's virtual clock
            return AbsentTempo(name)
        if name == "link":
            return LinkTempo(self._link)
        return MidiTempo(MidiClockIn(self.config.midi_in, self.clock, self.config.beats_per_bar))

    def start(self) -> None:
        if self._link is not None:
            self._link.start()
        for source in self.sources:
            source.start()
        if self._clock_out is not None:
            self._clock_out.start()
        if self.rehearsal and any(name in ("link", "midi") for name in (self.config.source, *self.config.fallback)):
            log.info("rehearsal: no Link or MIDI clock to follow; the tempo falls back as the show says")

    def stop(self) -> None:
        for source in self.sources:
            source.stop()
        if self._clock_out is not None:
            self._clock_out.stop()
        if self._link is not None:
            self._link.stop()

    def update(self, t: float, features: AudioFeatures, osc_beats: int = 0) -> list[Beat]:
        """The leading source's beats since the previous frame, at their times (every source is read, so
        each keeps its own count); the leader changes, with one log line, when it is lost or comes back."""
        since = self._since if self._since > -math.inf else t - 1e-9
        beats = {source.name: source.update(t, since, features, osc_beats) for source in self.sources}
        self._since = t
        leading = next((source for source in self.sources if source.alive(t)), None)
        if leading is not self.leading:
            self._announce(self.leading, leading)
            self.leading = leading
        self._lead_others(t)
        return beats[leading.name] if leading is not None else []

    def _announce(self, before: TempoSource | None, now: TempoSource | None) -> None:
        if before is None and now is not None and now is self.sources[0]:
            log.info("tempo: following %s", now.name)
        elif now is None:
            log.warning("tempo: %s lost, and nothing to fall back to: cues on the beat wait",
                        before.name if before else self.config.source)
        elif before is not None and self.sources.index(now) < self.sources.index(before):
            log.info("tempo: %s is back; following it again", now.name)
        else:
            lost = before.name if before is not None else self.config.source
            log.warning("tempo: %s lost; falling back to %s", lost, now.name)

    def _lead_others(self, t: float) -> None:
        """Hand the leading tempo to Link and MIDI clock, as the show's `lead` says. Link's tempo is set
        again whenever the session's moves away from it: joining a session that was there first takes
        that session's tempo."""
        leading = self.leading
        if leading is None or leading.name == "link":
            return
        bpm = leading.bpm()
        if bpm is None:
            return
        reading = self._link.reading(t) if self._link is not None and "link" in self.config.lead else None
        if reading is not None and abs(reading.bpm - bpm) > 0.01:  # set, or a session joined since moved it
            self._link.lead(bpm, t, leading.beat_at(t) if leading.name == "fixed" else None)
        if self._clock_out is not None:
            self._clock_out.follow(bpm, leading.beat_at(t), t)

    def hud_line(self, t: float) -> str:
        """'tempo 128.0 bpm  beat 3 of 4  link (1 peer)', or what is lost and followed instead."""
        leading = self.leading
        if leading is None:
            return f"tempo: {self.config.source} lost, nothing to fall back to"
        bpm, beat = leading.bpm(), leading.beat_at(t)
        parts = [f"tempo {bpm:.1f} bpm" if bpm else "tempo --"]
        if beat is not None:
            parts.append(f"beat {math.floor(beat) % self.config.beats_per_bar + 1} of {self.config.beats_per_bar}")
        detail = leading.detail()
        parts.append(leading.name + (f" ({detail})" if detail else ""))
        if leading is not self.sources[0]:
            parts.append(f"({self.config.source} lost)")
        return "  ".join(parts)

    def describe(self, t: float) -> dict:
        """The leading source's name, tempo and beat at t, for the event log; Link's clock too when following Link."""
        leading = self.leading
        if leading is None:
            return {"source": None}
        entry = {"source": leading.name, "bpm": leading.bpm(), "beat": leading.beat_at(t)}
        if isinstance(leading, LinkTempo):
            reading = leading.session.reading(t)
            entry["link_us"] = reading.link_us if reading else None
        return entry
