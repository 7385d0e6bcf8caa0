"""The live run: an inference thread filling a latest-wins mailbox, and a render loop that never waits for it.

One show clock (seconds since the show started) drives everything: the
inference thread takes the conductor's step for the show time at the show's
frame rate (the same step a rehearsal takes) and hands over copies; the audio
input stamps its blocks on the same clock. The render loop uploads whatever is
newest, redraws the last good frame otherwise, and keeps the figures (fps,
frame-time p99, capture-to-display latency, dropped frames). A failing
inference step is logged, shown on the HUD and retried with backoff. The loop
is all this module keeps: the HUD, the keys, the status file, screenshots, the
recording, the outputs, the event log, the operator window and the scenes'
ladders (live.show.rate_keeper) are each a collaborator of their own.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live.control.keys import Keys
from live.core.clock import ShowClock
from live.core.frames import Mailbox
from live.core.worker import SupervisedWorker
from live.output.recorder import Recorder
from live.output.render import Renderer
from live.output.sending import Sending
from live.scenes.contract import Scene
from live.show.conductor import Conductor
from live.show.event_log import EventRecorder
from live.show.hud import Hud
from live.show.operator_desk import OperatorDesk
from live.show.rate_keeper import RateKeeper
from live.show.resume_state import ResumeWriter, snapshot
from live.show.run_journal import RunJournal
from live.show.run_outputs import Recording, Screenshots, StatusFile
from live.show.run_stats import Stats
from live.show.show_reload import ShowReloader
from live.show.stage import Layers, Stage

RESUME_FADE = 1.0  # seconds: a resumed show comes up from black over this
RESUME_BANNER = 60.0  # seconds the HUD says where the show resumed


@dataclass(frozen=True)
class ComposedFrame:
    layers: Layers
    seq: int
    scene: Scene  # the one shown (looked up as it was composed: a reloaded show may have others by now)
    scene_name: str
    mirror: bool  # flipped left-right, as the frame's tick read the switch


class LiveRun:
    def __init__(self, stage: Stage, renderer: Renderer, conductor: Conductor, clock: ShowClock,
                 reloader: ShowReloader | None = None):
        """`clock` is the show clock the stage's sources and the conductor's audio input were built with;
        `reloader` (optional) swaps edits of the show file in while it runs."""
        self.stage = stage
        self.renderer = renderer
        self.conductor = conductor
        self.clock = clock
        self.reloader = reloader
        self.mailbox: Mailbox[ComposedFrame] = Mailbox()
        self.stats = Stats()
        self.inference = SupervisedWorker("inference", self._infer, clock)
        self.hud = Hud(stage, conductor, self.stats, renderer.window, self.inference, reloader)
        self.journal: RunJournal | None = None  # the event log, when the run keeps one
        self.recording: Recording | None = None
        self.sending: Sending | None = None  # outputs to other programs (NDI, streams), when the run has any
        self.operator: OperatorDesk | None = None  # the operator window, when the run has one
        self._seq = 0  # of the next composed frame
        self._stop_requested = threading.Event()
        self._mix = 1.0
        self._shown: Scene = stage.scenes[0]  # the scene on screen, and its name as the HUD says it
        self._scene_name = stage.scene_name(0)
        self._shown_seq = -1  # the composed frame on screen
        self._last_capture: float | None = None  # capture time of the newest picture on screen
        self._deadline = 0.0  # seconds: when the next present is due
        self._rate = stage.show.output.fps  # frames a second now, as the inference thread last decided
        self.resume_writer: ResumeWriter | None = None  # keeps where the show is, for `run --resume`
        self.starts_at = 0.0  # show time the clock starts at (a resumed show's moment)
        self._black: np.ndarray | None = None  # (H, W, 3) uint8: what a resumed show fades up from
        self._measured: tuple[str, float | None] | None = None  # (scene, capture time) of the last picture measured
        self.rate_keeper = RateKeeper(stage)  # each scene's ladder, stepped by its rate
        self.hud.rate_keeper = self.rate_keeper

    def resume_at(self, t: float, message: str) -> None:
        """Start at show time t (seconds) with a short fade from black, saying `message` on the HUD a while."""
        self.starts_at = t
        self.hud.banner, self.hud.banner_until = message, t + RESUME_BANNER
        width, height = self.stage.size
        self._black = np.zeros((height, width, 3), dtype=np.uint8)

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
        if events is not None:  # controllers' writes, numbered as they reach the bus (keys, OSC, GO)
            self.journal = RunJournal(events, self.clock, lambda: self._seq)
            self.journal.watch(self.conductor, self.reloader)
            self.rate_keeper.journal = self.journal
        operator = self.operator
        windows = [self.renderer.window, *([operator.window.window] if operator is not None else [])]
        self.conductor.add(Keys(windows, self._space_trigger))
        self.recording = Recording(recorder) if recorder is not None else None
        screenshots = Screenshots(screenshot_dir, screenshot_every) if screenshot_dir is not None else None
        status = StatusFile(status_file) if status_file is not None else None
        self.clock.start(self.starts_at)  # first: camera frames and audio blocks are stamped in show time from here on
        self.rate_keeper.governor.start(self.starts_at)
        if self.resume_writer is not None:
            self.resume_writer.start()
        self.stage.start()  # waits (up to `hold`) for the scenes' first frames: no idle flash at the start
        self.conductor.start()
        self.inference.start()
        if self.sending is not None:
            self.sending.start()
        if operator is not None:
            operator.start()
        if self.reloader is not None:
            self.reloader.start()
        last_present = None
        try:
            window = self.renderer.window
            while not (window.has_exit or self._stop_requested.is_set() or (operator is not None and operator.closed)) \
                    and (seconds is None or self.now() < seconds):
                window.dispatch_events()
                if operator is not None:
                    operator.dispatch_events()
                if self.reloader is not None:
                    self.reloader.attach_renderer(self.renderer)  # new CPPN scenes' shaders compile on this thread
                if not self._draw():  # nothing composed yet: show (and record) nothing rather than black
                    self._pace(self.now())
                    continue
                self._pass_on_program()
                if self.conductor.bus.get("hud"):
                    self.renderer.draw_hud(self.hud_text())
                if screenshots is not None:
                    self._screenshot(screenshots)
                if status is not None:
                    status.update(self.now(), self.hud_text)
                self.stats.note_memory(self.now())
                window.flip()
                presented_at = self.now()
                if last_present is not None:
                    self.stats.intervals.append(presented_at - last_present)
                last_present = presented_at
                self.stats.presented += 1
                if operator is not None:
                    operator.draw(self._mix, self.hud_text, presented_at)
                self._pace(presented_at)
        finally:
            self.inference.stop()
            if self.sending is not None:
                self.sending.stop()
                self.stats.outputs = self.sending.figures()
            if operator is not None:
                operator.stop()
            if self.resume_writer is not None:
                self.resume_writer.stop()
            if self.reloader is not None:
                self.reloader.stop()
                self.stats.show_file = self.reloader.counts()
            self.stage.stop()
            self.conductor.stop()
            self.conductor.bus.keep_journal(None)
            self.stats.dropped = self.mailbox.dropped
            self.stats.models = self.stage.model_counts()
            if self.conductor.osc is not None:
                self.stats.osc = self.conductor.osc.counters()
            if self.conductor.midi is not None:
                self.stats.midi = self.conductor.midi.counters()
            if self.conductor.attract is not None:
                self.stats.attract = self.conductor.attract.summary()
            self.stats.ladder = self.rate_keeper.governor.summary()
        return self.stats

    def _space_trigger(self) -> str:
        """What space presses: GO in a cue list, the next scene in a timed show (read each time: a reload
        may turn one into the other)."""
        return "go" if self.stage.show.is_cue_list else "scene.next"

    def _infer(self, worker: SupervisedWorker) -> None:
        """Compose a frame per period of the show's rate until stopped; a failure goes to the
        worker, which logs it, shows it on the HUD and retries, while the screen keeps its last frame."""
        conductor = self.conductor
        while not worker.stopping:
            started = self.now()
            if self.reloader is not None:
                ladders = dict(self.stage.ladders)
                if self.reloader.apply_pending(self.stage, conductor, started) is not None:  # an edited show file
                    self.rate_keeper.follow_reload(ladders, self.now())
            self.rate_keeper.steer(started, self._seq)
            layers = conductor.step(self.stage, started, copy=True)
            # read each time: an edit may change it, and an empty room's attract scene lowers it
            self._rate = conductor.frame_rate(started, self.stage.director)
            self.rate_keeper.lower_the_empty_room(conductor.attract, started)
            period = 1.0 / self._rate
            self.stats.note_audio(conductor.features)
            for scene, moment in conductor.rendered.items():
                self.stats.note_values(scene, moment.values)
            if self.journal is not None:
                self.journal.composed(self._seq, started, conductor, self.stage)
            worker.mark_healthy()
            took = self.now() - started
            self.stats.steps.append(took)
            index = layers.composition.scene
            self.rate_keeper.composed(self.stage.scene_name(index), layers.captured_at, started, took)
            if self.resume_writer is not None and self.resume_writer.due(started):  # between frames, on this thread
                stage = self.stage
                self.resume_writer.offer(snapshot(started, stage.show, stage.director, conductor.bus, stage.scenes,
                                                  stage.scene_name(index)))
            self._measure_flicker(self.stage.scene(index), layers)
            self.mailbox.put(ComposedFrame(layers, self._seq, self.stage.scene(index), self.stage.scene_name(index),
                                           conductor.mirror))
            self._seq += 1
            self.stage.warm_up_next()  # a scene not yet warmed up, if any (the start left them to this thread)
            worker.wait(max(0.0, started + period - self.now()))

    def _measure_flicker(self, scene: Scene, layers: Layers) -> None:
        """Each new picture of the scene in front against its last one, and its input's (live.show.flicker)."""
        captured = scene.captured_at
        measured = self._measured
        if measured is not None and measured[0] == scene.name and captured is not None and captured == measured[1]:
            return  # no new picture: the same input, the same output
        if measured is None or measured[0] != scene.name:  # back on screen: not compared with a picture from before
            self.stats.flicker.forget(scene.name)
        self.stats.flicker.note(scene.name, layers.current, scene.last_input, scene.flicker_tuning)
        self._measured = (scene.name, captured)

    def _draw(self) -> bool:
        """Draw the newest composed frame, or the last one again; False before the first has come."""
        frame = self.mailbox.take_new()
        if frame is not None:
            layers = frame.layers
            self.renderer.upload(1, layers.current)
            if layers.previous is not None:
                self.renderer.upload(0, layers.previous)
            self._mix = layers.composition.mix if layers.previous is not None else 1.0
            if self._black is not None and layers.previous is None:  # a resumed show, coming up from black
                self._mix = min(1.0, (self.now() - self.starts_at) / RESUME_FADE)
                self.renderer.upload(0, self._black)
                if self._mix >= 1.0:
                    self._black = None
            self._shown, self._scene_name, self._shown_seq = frame.scene, frame.scene_name, frame.seq
            self.renderer.mirror = frame.mirror
            self.stats.latencies.append(self.clock() - layers.captured_at)
            self.stats.new_frames += 1
            if self.operator is not None:
                self.operator.take(layers, frame.mirror, frame.scene_name)
            if layers.captured_at != self._last_capture:  # a composed frame of an input it showed already is no news
                self.stats.note_new_picture(self.now())
                self.rate_keeper.shown(frame.scene_name, self.now())
                self._last_capture = layers.captured_at
        if not self.stats.new_frames:
            return False
        self.renderer.draw(self._mix)
        return True

    def _pass_on_program(self) -> None:
        """The program picture (what the window shows, before the HUD goes over it), read back once, to
        the recording and the outputs to other programs."""
        if self.recording is None and self.sending is None:
            return
        pixels, shown_at = self.renderer.read_pixels(), self.clock()
        if self.recording is not None:
            self.recording.add(pixels, shown_at)
        if self.sending is not None:
            self.sending.offer(pixels, shown_at)

    def hud_text(self) -> str:
        notes = [self.recording.problem if self.recording is not None else "",
                 self.journal.problem if self.journal is not None else ""]
        text = self.hud.text(self._scene_name, self._shown_now(), self.mailbox.dropped, notes, self.now())
        return "\n".join([text, *self.sending.hud_lines()]) if self.sending is not None else text

    def _shown_now(self) -> Scene | None:
        """The scene on screen, unless a reloaded show has just dropped or rebuilt it (its parameters
        are not on the conductor any more): None until the first frame of the new show is drawn."""
        stage = self.stage
        return self._shown if any(self._shown is scene for scene in (*stage.scenes, stage.idle)) else None

    def _screenshot(self, screenshots: Screenshots) -> None:
        path = screenshots.take(self.now(), self.renderer.read_pixels, self.stats.presented)
        if path is not None and self.journal is not None:
            self.journal.screenshot(self.now(), self._shown_seq, path.name)

    def _pace(self, presented_at: float) -> None:
        """Without a vsync'd display (Xvfb, some drivers) flip returns at once: sleep to the show's rate (an
        empty room's attract scene lowers it)."""
        period = 1.0 / self._rate
        self._deadline = max(self._deadline + period, presented_at - period)  # never bank more than a frame
        time.sleep(max(0.0, self._deadline - self.now()))

