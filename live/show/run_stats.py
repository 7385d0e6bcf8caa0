"""A live run's rolling figures: for the HUD while it runs, and for the operator's log and benchmarks after."""
from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from live.inputs.audio import AudioFeatures
from live.show.flicker import FlickerMeter

NEW_PICTURES_WINDOW = 3.0  # seconds the HUD's new-pictures rate is counted over


@dataclass
class Stats:
    """Rolling figures for the HUD and the end-of-run report."""

    intervals: deque = field(default_factory=lambda: deque(maxlen=600))  # seconds between presents
    latencies: deque = field(default_factory=lambda: deque(maxlen=600))  # seconds, capture to display
    steps: deque = field(default_factory=lambda: deque(maxlen=600))  # seconds per inference-thread step
    presented: int = 0
    new_frames: int = 0  # composed frames the renderer took (at the show's rate, new pictures or not)
    # when a new picture of the scene on screen reached the screen (a new input frame through it, or a
    # scene that draws from t alone): what the visitor sees move, which the display rate is not
    new_picture_times: deque = field(default_factory=lambda: deque(maxlen=600))
    new_pictures: int = 0
    _new_pictures_span: list = field(default_factory=list)  # [first, last] time of a new picture
    dropped: int = 0  # results overwritten before the renderer took them
    resident_mb: list = field(default_factory=list)  # (seconds, MB) sampled every RSS_EVERY seconds
    audio_peaks: dict = field(default_factory=dict)  # feature -> highest value heard (0..1)
    onsets: int = 0
    tempo_bpm: float | None = None  # the newest estimate
    parameter_ranges: dict = field(default_factory=dict)  # "scene.parameter" -> [lowest, highest] rendered
    osc: dict = field(default_factory=dict)  # the OSC server's counters at the end; empty without one
    midi: dict = field(default_factory=dict)  # the MIDI controller's counters at the end; empty without one
    models: dict = field(default_factory=dict)  # model files reloaded and refused while the show ran
    show_file: dict = field(default_factory=dict)  # versions of the show file reloaded and refused
    recording: dict = field(default_factory=dict)  # --record's figures at the end; empty without one
    attract: dict = field(default_factory=dict)  # the attract mode's changes and time; empty without one
    outputs: dict = field(default_factory=dict)  # each output to other programs (sent, dropped, errors), by label
    flicker: FlickerMeter = field(default_factory=FlickerMeter)  # each scene's picture change against its input's
    ladder: dict = field(default_factory=dict)  # scenes with a ladder: rung at the end, steps, seconds on each rung
    _next_rss: float = 0.0  # show time of the next memory sample

    def note_audio(self, features: AudioFeatures) -> None:
        for name in ("level", "bass", "low_mid", "high_mid", "high", "flux"):
            self.audio_peaks[name] = max(self.audio_peaks.get(name, 0.0), getattr(features, name))
        self.onsets += bool(features.onset)
        self.tempo_bpm = features.tempo_bpm or self.tempo_bpm

    def note_memory(self, now: float) -> None:
        """A resident-memory sample at `now` (seconds of show time), every RSS_EVERY seconds."""
        if now >= self._next_rss:
            self.resident_mb.append((round(now, 1), round(resident_mb(), 1)))
            self._next_rss = now + RSS_EVERY

    def note_values(self, scene: str, values) -> None:
        for name, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                low, high = self.parameter_ranges.get(f"{scene}.{name}", (value, value))
                self.parameter_ranges[f"{scene}.{name}"] = [min(low, value), max(high, value)]

    def fps(self) -> float:
        return len(self.intervals) / sum(self.intervals) if self.intervals else 0.0

    def note_new_picture(self, now: float) -> None:
        self.new_picture_times.append(now)
        self.new_pictures += 1
        self._new_pictures_span[1:] = [now] if self._new_pictures_span else [now, now]

    def new_pictures_fps(self, now: float, window: float = NEW_PICTURES_WINDOW) -> float:
        """New pictures a second over the last `window` seconds (or since the first, if sooner)."""
        times = self.new_picture_times
        if not times:
            return 0.0
        since = max(now - window, times[0])
        recent = sum(1 for at in times if at > since)
        return recent / (now - since) if now > since else 0.0

    @staticmethod
    def percentile_ms(values: deque, q: float) -> float:
        return float(np.percentile(np.fromiter(values, float), q) * 1000.0) if values else 0.0

    def summary(self) -> dict:
        """The figures a benchmark or an operator's log wants, as plain JSON-able values."""
        return {
            "presented": self.presented, "new_frames": self.new_frames, "dropped": self.dropped,
            "fps": round(self.fps(), 2),
            "new_pictures": self.new_pictures, "new_pictures_fps": round(self._run_new_pictures_fps(), 2),
            # between the last (up to 600) new pictures on screen: what the ladder holds against a target
            "new_picture_interval_ms": {"p50": self.percentile_ms(self._new_picture_intervals(), 50),
                                        "p95": self.percentile_ms(self._new_picture_intervals(), 95)},
            "frame_interval_ms": {"p50": self.percentile_ms(self.intervals, 50),
                                  "p99": self.percentile_ms(self.intervals, 99)},
            "latency_ms": {"p50": self.percentile_ms(self.latencies, 50),
                           "p99": self.percentile_ms(self.latencies, 99)},
            "inference_step_ms": {"p50": self.percentile_ms(self.steps, 50),
                                  "p99": self.percentile_ms(self.steps, 99)},
            "resident_mb": self.resident_mb,
            "audio": {"peaks": {name: round(value, 3) for name, value in self.audio_peaks.items()},
                      "onsets": self.onsets, "tempo_bpm": self.tempo_bpm},
            "parameters": self.parameter_ranges,
            "osc": self.osc,
            "midi": self.midi,
            "models": self.models,
            "show_file": self.show_file,
            "recording": self.recording,
            "attract": self.attract,
            "outputs": self.outputs,
            "flicker": self.flicker.summary(),
            "ladder": self.ladder,
        }


    def _new_picture_intervals(self) -> deque:
        times = list(self.new_picture_times)
        return deque(later - earlier for earlier, later in zip(times, times[1:]))

    def _run_new_pictures_fps(self) -> float:
        """New pictures a second over the whole run (from the first to the last)."""
        if not self._new_pictures_span:
            return 0.0
        first, last = self._new_pictures_span
        return (self.new_pictures - 1) / (last - first) if last > first else 0.0


RSS_EVERY = 5.0  # seconds between resident-memory samples


def resident_mb() -> float:
    """This process's resident memory in MB (Linux /proc; 0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return 0.0
