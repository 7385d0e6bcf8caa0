"""The live run: an inference thread filling a latest-wins mailbox, and a render loop that never waits for it.

One show clock (seconds since the show started) drives everything: the
inference thread reads the controls and renders the director's layers for the
show time at the show's frame rate and hands over copies; the audio input
stamps its blocks on the same clock. The render loop uploads whatever is
newest, redraws the last good frame otherwise, and keeps the HUD's figures
(fps, frame-time p99, capture-to-display latency, dropped frames). A failing
inference step is logged, shown on the HUD and retried with backoff.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from live.control.bus import ControlBus
from live.control.keys import bind_keys
from live.core.clock import ShowClock
from live.core.frames import Mailbox
from live.core.worker import SupervisedWorker
from live.inputs.audio import AudioFeatures
from live.output.recorder import Recorder
from live.output.render import Renderer
from live.output.video import even_size
from live.scenes.contract import Moment, Scene
from live.show.conductor import Conductor
from live.show.event_log import EventRecorder
from live.show.show_reload import AppliedShow, ShowReloader
from live.show.stage import Layers, Stage

log = logging.getLogger("latentstage.live")


@dataclass(frozen=True)
class ComposedFrame:
    layers: Layers
    seq: int
    scene: Scene  # the one shown (looked up as it was composed: a reloaded show may have others by now)
    scene_name: str


@dataclass
class Stats:
    """Rolling figures for the HUD and the end-of-run report."""

    intervals: deque = field(default_factory=lambda: deque(maxlen=600))  # seconds between presents
    latencies: deque = field(default_factory=lambda: deque(maxlen=600))  # seconds, capture to display
    steps: deque = field(default_factory=lambda: deque(maxlen=600))  # seconds per inference-thread step
    presented: int = 0
    new_frames: int = 0
    dropped: int = 0  # results overwritten before the renderer took them
    resident_mb: list = field(default_factory=list)  # (seconds, MB) sampled every RSS_EVERY seconds
    audio_peaks: dict = field(default_factory=dict)  # feature -> highest value heard (0..1)
    onsets: int = 0
    tempo_bpm: float | None = None  # the newest estimate
    parameter_ranges: dict = field(default_factory=dict)  # "scene.parameter" -> [lowest, highest] rendered
    osc: dict = field(default_factory=dict)  # the OSC server's counters at the end; empty without one
    models: dict = field(default_factory=dict)  # model files reloaded and refused while the show ran
    show_file: dict = field(default_factory=dict)  # versions of the show file reloaded and refused

    def note_audio(self, features: AudioFeatures) -> None:
        for name in ("level", "bass", "low_mid", "high_mid", "high", "flux"):
            self.audio_peaks[name] = max(self.audio_peaks.get(name, 0.0), getattr(features, name))
        self.onsets += bool(features.onset)
        self.tempo_bpm = features.tempo_bpm or self.tempo_bpm

    def note_values(self, scene: str, values) -> None:
        for name, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                low, high = self.parameter_ranges.get(f"{scene}.{name}", (value, value))
                self.parameter_ranges[f"{scene}.{name}"] = [min(low, value), max(high, value)]

    def fps(self) -> float:
        return len(self.intervals) / sum(self.intervals) if self.intervals else 0.0

    @staticmethod
    def percentile_ms(values: deque, q: float) -> float:
        return float(np.percentile(np.fromiter(values, float), q) * 1000.0) if values else 0.0

    def summary(self) -> dict:
        """The figures a benchmark or an operator's log wants, as plain JSON-able values."""
        return {
            "presented": self.presented, "new_frames": self.new_frames, "dropped": self.dropped,
            "fps": round(self.fps(), 2),
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
            "models": self.models,
            "show_file": self.show_file,
        }


RSS_EVERY = 5.0  # seconds between resident-memory samples
STATUS_EVERY = 0.25  # seconds between rewrites of the status file


def resident_mb() -> float:
    """This process's resident memory in MB (Linux /proc; 0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return 0.0


class LiveRun:
    def __init__(self, stage: Stage, renderer: Renderer, controls: Conductor, clock: ShowClock,
                 reloader: ShowReloader | None = None):
        """`clock` is the show clock the stage's sources and the controls' audio input were built with;
        `reloader` (optional) swaps edits of the show file in while it runs."""
        self.stage = stage
        self.renderer = renderer
        self.controls = controls
        self.clock = clock
        self.reloader = reloader
        self.mailbox: Mailbox[ComposedFrame] = Mailbox()
        self.stats = Stats()
        self.note = ""  # a problem of the run itself (the recording paused), shown on the HUD
        self.inference = SupervisedWorker("inference", self._infer, clock)
        self._seq = 0  # of the next composed frame
        self._stop_requested = threading.Event()
        self._mix = 1.0
        self._shown: Scene = stage.scenes[0]  # the scene on screen, and its name as the HUD says it
        self._scene_name = stage.scene_name(0)
        self._shown_seq = -1  # the composed frame on screen
        self.events: EventRecorder | None = None  # the event log, when the run keeps one
        self._bus_generation = 0  # buses journaled so far: each show reload brings a new one
        self._deadline = 0.0  # seconds: when the next present is due

    def request_stop(self) -> None:
        """End the run after the frame in progress, as Esc does; safe from a signal handler."""
        self._stop_requested.set()

    def now(self) -> float:
        """Seconds of show time: since the show started."""
        return self.clock()

    def run(self, seconds: float | None = None, screenshot_dir: Path | None = None,
            screenshot_every: float = 1.0, recorder: Recorder | None = None, status_file: Path | None = None,
            events: EventRecorder | None = None) -> Stats:
        """Perform until Esc, a stop request or `seconds`; `events` logs what happens for a replay."""
        self.events = events
        if events is not None:  # controllers' writes, numbered as they reach the bus (keys, OSC, GO)
            self.controls.journal = self._keep_journal
            self._keep_journal(self.controls.bus)
            if self.reloader is not None:
                self.reloader.on_applied = self._log_reload
        # keys go through the control bus like any controller, so OSC feedback follows them
        bind_keys(self.renderer.window, lambda: self.controls.bus,
                  lambda: "go" if self.stage.show.is_cue_list else "scene.next")
        self.clock.start()  # first: camera frames and audio blocks are stamped in show time from here on
        self.stage.start()  # waits (up to `hold`) for the scenes' first frames: no idle flash at the start
        self.controls.start()
        self.inference.start()
        if self.reloader is not None:
            self.reloader.start()
        next_screenshot = next_rss = next_status = 0.0
        last_present = None
        try:
            window = self.renderer.window
            while not (window.has_exit or self._stop_requested.is_set()) and (seconds is None or self.now() < seconds):
                window.dispatch_events()
                if self.reloader is not None:
                    self.reloader.attach_renderer(self.renderer)  # new CPPN scenes' shaders compile on this thread
                if not self._draw():  # nothing composed yet: show (and record) nothing rather than black
                    self._pace(self.now())
                    continue
                if screenshot_dir is not None and self.now() >= next_screenshot and self.stats.new_frames:
                    self._screenshot(screenshot_dir)
                    next_screenshot = self.now() + screenshot_every
                if recorder is not None:
                    self._record(recorder)
                if status_file is not None and self.now() >= next_status:
                    self._write_status(status_file)
                    next_status = self.now() + STATUS_EVERY
                if self.now() >= next_rss:
                    self.stats.resident_mb.append((round(self.now(), 1), round(resident_mb(), 1)))
                    next_rss = self.now() + RSS_EVERY
                window.flip()
                presented_at = self.now()
                if last_present is not None:
                    self.stats.intervals.append(presented_at - last_present)
                last_present = presented_at
                self.stats.presented += 1
                self._pace(presented_at)
        finally:
            self.inference.stop()
            if self.reloader is not None:
                self.reloader.stop()
                self.stats.show_file = self.reloader.counts()
            self.stage.stop()
            self.controls.stop()
            self.controls.bus.keep_journal(None)
            self.stats.dropped = self.mailbox.dropped
            self.stats.models = self.stage.model_counts()
            if self.controls.osc is not None:
                self.stats.osc = self.controls.osc.counters()
        return self.stats

    def _infer(self, worker: SupervisedWorker) -> None:
        """Compose a frame per period of the show's rate until stopped; a failure goes to the
        worker, which logs it, shows it on the HUD and retries, while the screen keeps its last frame."""
        while not worker.stopping:
            started = self.now()
            if self.reloader is not None:
                self.reloader.apply_pending(self.stage, self.controls, started)  # an edited show file, between frames
            period = 1.0 / self.stage.show.output.fps  # read each time: an edit may change it
            self.controls.update(started, self.stage.director)
            self.stats.note_audio(self.controls.features)
            layers = self.stage.frame_at(started, copy=True, moment_for=self._moment)
            if self.events is not None:
                self._log_frame(started, layers)
            worker.mark_healthy()
            self.stats.steps.append(self.now() - started)
            index = layers.composition.scene
            self.mailbox.put(ComposedFrame(layers, self._seq, self.stage.scene(index), self.stage.scene_name(index)))
            self._seq += 1
            worker.wait(max(0.0, started + period - self.now()))

    def _keep_journal(self, bus: ControlBus) -> None:
        """Log each controller write to `bus`; a reloaded show's new bus is the next generation, its writes
        numbered from 1 again."""
        events, generation = self.events, self._bus_generation
        self._bus_generation += 1
        bus.keep_journal(lambda number, operation, name, value, source: events.control(
            number, operation, name, value, source, self.now(), generation))

    def _log_reload(self, applied: AppliedShow) -> None:
        """The edited show's text, before the first frame that uses it: a replay swaps it in there too."""
        self.events.note("reload", applied.at, what="show", frame=self._seq, controls=applied.controls,
                         show_text=applied.text)

    def _log_frame(self, t: float, layers: Layers) -> None:
        """The frame's line in the event log (what a replay needs), and the cues and reloads that came with it."""
        events, controls = self.events, self.controls
        events.frame(self._seq, t, controls.outside_writes, controls.features)
        for at, cue in controls.fired:
            events.note("cue", at, scene=cue.scene, trigger=cue.trigger)
        for scene, path in self.stage.swapped:
            events.note("reload", t, what="model", scene=scene, path=str(path))

    def _inference_health(self) -> str:
        health = self.inference.health()
        return "" if health.healthy else f"inference: {health.message}"

    def _moment(self, scene: Scene, t: float) -> Moment:
        moment = self.controls.moment(scene, t)
        self.stats.note_values(scene.name, moment.values)
        return moment

    def _draw(self) -> bool:
        """Draw the newest composed frame, or the last one again; False before the first has come."""
        frame = self.mailbox.take_new()
        if frame is not None:
            layers = frame.layers
            self.renderer.upload(1, layers.current)
            if layers.previous is not None:
                self.renderer.upload(0, layers.previous)
            self._mix = layers.composition.mix if layers.previous is not None else 1.0
            self._shown, self._scene_name, self._shown_seq = frame.scene, frame.scene_name, frame.seq
            self.stats.latencies.append(self.clock() - layers.captured_at)
            self.stats.new_frames += 1
        if not self.stats.new_frames:
            return False
        bus = self.controls.bus
        self.renderer.mirror = bool(bus.get("mirror"))
        self.renderer.draw(self._mix)
        if bus.get("hud"):
            self.renderer.draw_hud(self.hud_text())
        return True

    def hud_text(self) -> str:
        stats = self.stats
        problems = "; ".join(f"{name}: {message}" for name, message in self.stage.health.items())
        events = self.events.problem if self.events is not None else ""
        health = problems or self.stage.model_problems() or self._show_file_problem() or self._inference_health() \
            or "; ".join(filter(None, [self.note, events]))
        return "\n".join([
            f"{stats.fps():5.1f} fps   frame p99 {stats.percentile_ms(stats.intervals, 99):5.1f} ms",
            f"latency p50 {stats.percentile_ms(stats.latencies, 50):5.1f} ms  p99 "
            f"{stats.percentile_ms(stats.latencies, 99):5.1f} ms   dropped {self.mailbox.dropped}",
            f"inference step p50 {stats.percentile_ms(stats.steps, 50):5.1f} ms",
            f"scene {self._scene_name}   providers {', '.join(self.stage.providers) or 'none (no model)'}",
            *self.controls.hud_lines(self._shown_now()),
            *filter(None, [self.stage.source_summary(), self._models_line(), self._show_file_line()]),
            self._window_line(),
            f"health {health or 'ok'}",
        ])

    def _shown_now(self) -> Scene | None:
        """The scene on screen, unless a reloaded show has just dropped or rebuilt it (its parameters
        are not on the controls any more): None until the first frame of the new show is drawn."""
        stage = self.stage
        return self._shown if any(self._shown is scene for scene in (*stage.scenes, stage.idle)) else None

    def _models_line(self) -> str:
        counts = self.stage.model_counts()
        return f"models reloaded {counts['reloaded']} refused {counts['refused']}" if any(counts.values()) else ""

    def _show_file_line(self) -> str:
        return self.reloader.hud_line() if self.reloader is not None else ""

    def _show_file_problem(self) -> str:
        return self.reloader.problem if self.reloader is not None else ""

    def _window_line(self) -> str:
        bus, window = self.controls.bus, self.renderer.window
        width, height = window.get_framebuffer_size()
        switches = {"hud": bus.get("hud"), "mirror": bus.get("mirror"), "fullscreen": window.fullscreen}
        return "   ".join(f"{name} {'on' if state else 'off'}" for name, state in switches.items()) + \
            f"   {width}x{height}"

    def _write_status(self, path: Path) -> None:
        """The HUD's text into `path`, replaced whole, so a watcher never reads half of it."""
        partial = path.with_name(path.name + ".partial")
        partial.write_text(self.hud_text() + "\n", encoding="utf-8")
        os.replace(partial, path)

    def _pace(self, presented_at: float) -> None:
        """Without a vsync'd display (Xvfb, some drivers) flip returns at once: sleep to the show's rate."""
        period = 1.0 / self.stage.show.output.fps
        self._deadline = max(self._deadline + period, presented_at - period)  # never bank more than a frame
        time.sleep(max(0.0, self._deadline - self.now()))

    def _record(self, recorder: Recorder) -> None:
        pixels = self.renderer.read_pixels()
        height, width = pixels.shape[:2]
        if recorder.error is not None:  # a full disk, say: the file keeps what was written before
            self.note = f"recording stopped: {recorder.error}"
            return
        if even_size(width, height) != (recorder.width, recorder.height):
            self.note = "recording paused: the window changed size"  # the file keeps its first size
            return
        recorder.submit(pixels[:recorder.height, :recorder.width], self.clock())

    def _screenshot(self, folder: Path) -> None:
        from PIL import Image

        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"frame-{self.stats.presented:06d}.png"
        Image.fromarray(np.ascontiguousarray(self.renderer.read_pixels())).save(path)
        if self.events is not None:  # which composed frame it shows: a replay renders that one again
            self.events.note("screenshot", self.now(), frame=self._shown_seq, file=path.name)
