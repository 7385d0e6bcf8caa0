"""Hot reload of a running show's file: an edit is checked and built off the render path, then swapped in between frames.

A designer saves the show file while `latentstage run` performs it. A
`ShowReloader` reads the file every POLL_EVERY seconds on its own supervised
thread; once a new text has stood still for one look (so an editor's save in
progress is not read half-written) it is parsed with the same checks as
`load_show` and `check`, and its scenes are made ready: a scene whose block
did not change is the running object itself (its ONNX session, its camera),
a new or changed one is built, warmed up at the show's render size and
started here. The renderer's thread then hands the new scenes the renderer
(a scene that draws with a shader compiles it there), and the inference thread swaps the whole show in before its next
frame: the director carries on from the running one (cues fired so far, on
the same show clock), and a new control bus for the new scenes takes the
performer's held values, the cues' settings and the controllers' raw inputs,
while the audio input and the OSC server keep running. Settings that need a
restart (window, output size and outputs, engine, OSC, audio) keep their running values,
said once in the log and on the HUD. A broken edit (YAML, schema, a cue to no
scene, a model that does not load) is one log line and the HUD's health line,
in the words `check` uses, and the running show carries on; a later good edit
clears it.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from live.control.bus import SHOW, ControlBus
from live.control.mappings import Mapper
from live.control.parameters import ControlError, same_value
from live.core.clock import Clock
from live.core.config import read_user_file
from live.core.worker import SupervisedWorker
from live.inference.model_watch import release_freed_memory
from live.scenes.contract import Scene, SceneContext
from live.scenes.kinds import build_scene, control_bus
from live.show.conductor import Conductor
from live.show.preflight import preflight
from live.show.schema import MAX_SHOW_BYTES, Show, ShowError, parse_show
from live.show.ladder import SceneLadder
from live.show.stage import Stage, built_ladders, idle_scene

log = logging.getLogger("latentstage.reload")

POLL_EVERY = 0.1  # seconds between looks at the file: an edit is taken 0.1 to 0.2 s after the save
# Settings the running process cannot change: the window and its render size were made, the
# sessions' providers chosen, the OSC port bound, the MIDI devices, the sound card and the outputs to other
# programs opened when the show started.
RESTART_ONLY = ("output.width", "output.height", "output.render_scale", "output.send", "window.fullscreen",
                "window.screen", "window.width", "window.height", "window.vsync", "window.fit", "window.hide_cursor",
                "engine", "osc", "midi", "audio")
RELOAD = "reload"  # the bus source of values carried over: a performer's, so they stay held


@dataclass(frozen=True)
class AppliedShow:
    """A version of the show file that went on stage, for a log of the night."""

    path: Path
    text: str
    at: float  # seconds of show time: the first frame rendered with it
    controls: int  # controllers' writes the running show's bus had taken when it was swapped out


@dataclass
class _Prepared:
    """A good version of the file, its scenes ready, waiting to be swapped in."""

    file_show: Show  # as the file says it
    show: Show  # as it will run: the restart-only settings kept from the running show
    text: str
    scenes: list[Scene]
    idle: Scene
    built: list[Scene]  # scenes made for this version (the rest are running already)
    restart: list[str]  # restart-only settings the edit changed
    bus: ControlBus  # the control bus of its scenes, at their defaults (the swap carries values onto it)
    ladders: dict[str, SceneLadder]  # the ladders of the scenes built for it (kept scenes keep theirs)


class ShowReloader:
    """Watches `path`, the file of the show `stage` runs; `apply_pending` swaps each good edit in once."""

    def __init__(self, path: Path, stage: Stage, clock: Clock, poll: float = POLL_EVERY, rehearsal: bool = False):
        """`rehearsal`: scenes built for a replay of the night (on its virtual clock), not a live run."""
        self.path = Path(path)
        self.poll = poll  # seconds
        self._clock = clock
        self._running = (stage.show, list(stage.scenes), stage.idle)  # what the next version is built against
        self._file_show = stage.show  # the running version as its file said it (start() reads it)
        self._started_as = stage.show  # the file the process started with: what restart-only settings are
        self._restart_said: set[str] = set()  # restart-only settings the log has named already
        self._tried: str | None = None  # digest of the text running, or the last one tried
        self._seen: str | None = None  # digest at the last look
        self._lock = threading.Lock()  # guards the slots, the retired list and the figures below
        self._built: _Prepared | None = None  # ready but for the renderer's thread (shaders)
        self._ready: _Prepared | None = None  # ready to swap in
        self._retired: list = []  # scenes and model watchers the show no longer uses, to stop off the render path
        self.reloads = 0  # versions swapped in
        self.refused = 0  # versions that could not be used
        self.problem = ""  # why the newest version is not running; "" when it is
        self.notice = ""  # restart-only settings the running version changed, for the HUD
        self.applied: AppliedShow | None = None  # the newest version swapped in
        self.on_applied: Callable[[AppliedShow], None] | None = None  # told on the inference thread
        self.worker = SupervisedWorker("show file", self._work, clock)
        self._rehearsal = rehearsal

    def start(self) -> None:
        """Take the file as it is now as the running version, and watch it."""
        try:
            text = read_user_file(self.path, "show file", MAX_SHOW_BYTES)
            self._tried = self._seen = _digest(text)
            self._file_show = self._started_as = parse_show(text, self.path)  # the file's, not the command line's
        except (ValueError, ShowError) as error:  # changed since it was loaded: the first look tries it
            log.warning("show file: %s", error)
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()
        with self._lock:
            unused = [*(self._built.built if self._built else []), *(self._ready.built if self._ready else [])]
            self._built = self._ready = None
        self._retired.extend(unused)
        self._retire()

    def counts(self) -> dict[str, int]:
        """Versions of the show file swapped in and refused, for the HUD and --stats-json."""
        return {"reloaded": self.reloads, "refused": self.refused}

    def hud_line(self) -> str:
        if not (self.reloads or self.refused):
            return ""
        return f"show file reloaded {self.reloads} refused {self.refused}" + (f"; {self.notice}" if self.notice else "")

    # ---- the renderer's thread

    def attach_renderer(self, renderer) -> None:
        """Hand a built version's new scenes the renderer on its thread, which owns GL (a scene that
        draws with a shader compiles it); then it is ready to swap. `renderer` None: a run without one
        (tests)."""
        with self._lock:
            prepared = self._built
        if prepared is None:
            return
        try:
            for scene in prepared.built if renderer is not None else ():
                scene.attach_renderer(renderer)
        except Exception as error:  # noqa: BLE001 (backend: shader on a GL that cannot run it: refused)
            with self._lock:
                self._built = None
                self._retired.extend(prepared.built)
            self._refuse(str(error))
            return
        with self._lock:
            self._built, self._ready = None, prepared

    # ---- the inference thread

    def apply_pending(self, stage: Stage, controls: Conductor, t: float) -> AppliedShow | None:
        """Between frames: put the newest good version on stage from t (seconds of show time) on."""
        with self._lock:
            prepared, self._ready = self._ready, None
            if prepared is None:
                return None
            before = self._file_show
            # at once: a version the watcher builds from now on is built against this one
            self._running = (prepared.show, prepared.scenes, prepared.idle)
            self._file_show = prepared.file_show
        old_bus, bus = controls.bus, prepared.bus
        # Controllers' writes wait on both buses while the show changes hands (a tick each): the old bus
        # has taken exactly `seen` of them, and what is carried over is the show's own doing, so a
        # replay of the night makes the same swap from the same values.
        with old_bus.tick() as seen, bus.tick():
            carry_values(old_bus, bus)
            for switch in ("hud", "mirror"):  # the file's window switches, where the edit changed them
                if getattr(prepared.file_show.window, switch) != getattr(before.window, switch):
                    bus.set(switch, getattr(prepared.file_show.window, switch), source=SHOW)
            dropped, retired = stage.adopt(prepared.show, prepared.scenes, prepared.idle, t, prepared.ladders)
            controls.use_show(prepared.show, bus, prepared.scenes)
            carry_inputs(old_bus, bus)
        applied = AppliedShow(self.path, prepared.text, t, seen)
        with self._lock:
            self._retired.extend([*dropped, *retired])
            self.reloads += 1
            self.problem = ""
            self.notice = f"{', '.join(prepared.restart)}: need a restart" if prepared.restart else ""
            self.applied = applied
            unsaid = [key for key in prepared.restart if key not in self._restart_said]
            self._restart_said = set(prepared.restart)  # one put back and changed again is said again
        new = [scene.name for scene in prepared.built]
        log.info("show file %s reloaded at %.2f s: %s", self.path, t,
                 f"new or changed scenes {', '.join(new)}" if new else "no scene changed")
        if unsaid:
            log.warning("show file %s: %s changed, which needs a restart; running with the values it started with",
                        self.path, ", ".join(unsaid))
        if self.on_applied is not None:
            self.on_applied(applied)
        return applied

    def apply_now(self, text: str, stage: Stage, controls: Conductor, t: float, renderer) -> AppliedShow | None:
        """A replay's reload: the version a live run put on stage at t, prepared and put on stage here and
        now, as that run did (None, and the problem said, if it cannot be used now)."""
        self._prepare(text)
        self.attach_renderer(renderer)
        return self.apply_pending(stage, controls, t)

    # ---- the watcher's thread

    def _work(self, worker: SupervisedWorker) -> None:
        worker.mark_healthy("watching")
        while not worker.wait(self.poll):
            self._retire()
            with self._lock:
                if self._built is not None or self._ready is not None:
                    continue  # the next version is built against this one once it runs
            try:
                text, reason = read_user_file(self.path, "show file", MAX_SHOW_BYTES), None
            except ValueError as error:  # gone, unreadable, too big: an editor's save may be under way
                text, reason = None, str(error)
            digest = _digest(text if text is not None else reason)
            if digest == self._tried:
                self._seen = digest
                continue
            if digest != self._seen:  # still changing: look again
                self._seen = digest
                continue
            self._tried = digest  # each version once: a broken file is reported once, not every look
            if text is None:
                self._refuse(reason)
            else:
                self._prepare(text)

    def _prepare(self, text: str) -> None:
        try:
            file_show = parse_show(text, self.path)
            show, restart = self._as_running(file_show)
            preflight(show)  # what `check` refuses, refused with its own key before anything is built
            prepared = self._build(file_show, show, text, restart)
        except ShowError as error:
            self._refuse(str(error))
            return
        with self._lock:
            self._built = prepared

    def _as_running(self, file_show: Show) -> tuple[Show, list[str]]:
        """The edited show with the running values of what needs a restart, and which of those differ from
        what the file said when the show started."""
        running = self._running[0]
        restart = [key for key in RESTART_ONLY if _setting(file_show, key) != _setting(self._started_as, key)]
        show = file_show.model_copy(update={
            "output": running.output.replaced(fps=file_show.output.fps), "window": running.window,
            "engine": running.engine, "osc": running.osc, "midi": running.midi, "audio": running.audio})
        return show, restart

    def _build(self, file_show: Show, show: Show, text: str, restart: list[str]) -> _Prepared:
        """Each scene of `show`: the running one where its block is unchanged, else built, warmed and started."""
        running_show, running_scenes, running_idle = self._running
        context = SceneContext(show.engine, self._clock, rehearsal=self._rehearsal)
        width, height = show.output.render_size
        scenes, built = [], []
        try:
            for index, spec in enumerate(show.scenes):
                same = next((scene for old, scene in zip(running_show.scenes, running_scenes) if old == spec), None)
                if same is not None:
                    scenes.append(same)
                    continue
                try:
                    scene = build_scene(spec, context)
                    built.append(scene)
                    scene.warm_up(width, height)
                except Exception as error:  # noqa: BLE001 (a model that does not load or run: refused)
                    key = ("scenes", index, "model") if spec.model_file is not None else ("scenes", index)
                    raise ShowError(f"{file_show.where(key)}: {' '.join(str(error).split())}") from None
                scenes.append(scene)
            bundled = running_idle if all(running_idle is not scene for scene in running_scenes) else None
            idle = idle_scene(show, scenes, bundled)
            if all(idle is not scene for scene in [*scenes, running_idle]):
                built.append(idle)  # the bundled CPPN, for a show that has lost its own
                idle.warm_up(width, height)
            ladders = built_ladders(show, scenes, only=built)
            bus = control_bus([(scene.name, type(scene), scene.parameters) for scene in scenes])
            try:
                Mapper(show.mappings, bus)  # what the swap will build: any refusal is made here, not there
            except ControlError as error:
                raise ShowError(f"{self.path}: mappings: {error}") from None
            deadline = time.monotonic() + show.hold
            for scene in built:
                scene.start()
            for scene in built:
                scene.wait_until_ready(max(0.0, deadline - time.monotonic()))
        except BaseException:
            with self._lock:
                self._retired.extend(built)
            raise
        return _Prepared(file_show, show, text, scenes, idle, built, restart, bus, ladders)

    def _refuse(self, reason: str) -> None:
        with self._lock:
            self.refused += 1
            self.problem = f"{' | '.join(reason.splitlines())}; the show runs on as it was"  # one HUD line
        log.warning("show file changed but cannot be used: %s", self.problem)

    def _retire(self) -> None:
        """Stop what the show no longer uses, here rather than on the render path, and free its memory."""
        with self._lock:
            retired, self._retired = self._retired, []
        for part in retired:
            part.stop()
        if retired:
            release_freed_memory()


def carry_values(old: ControlBus, new: ControlBus) -> None:
    """The values on `old` that someone chose, onto `new` where the parameter still is: a performer's
    held ones stay held, the ones fired cues set stay the show's. The scene on screen is the
    director's to say; presses are counted by the controls."""
    names = {parameter.name for parameter in new.parameters() if not new.is_alias(parameter.name)}
    for parameter in old.parameters():
        name = parameter.name
        if name == "scene" or parameter.kind == "trigger" or name not in names or old.is_alias(name):
            continue
        value = old.get(name)
        if old.held(name):
            source = RELOAD
        elif not same_value(value, parameter.default):
            source = SHOW
        else:
            continue
        try:
            new.set(name, value, source=source)
        except ControlError as error:  # its range changed and the value is outside it: the show's default
            log.info("show file reloaded: %s %s is not kept: %s", name, value, error)


def carry_inputs(old: ControlBus, new: ControlBus) -> None:
    """Controllers' raw values (a fader's position, a key held down) onto `new`, each with its peak."""
    for key, (latest, peak) in old.take_inputs().items():
        new.set_input(key, peak)
        new.set_input(key, latest)


def _setting(show: Show, dotted: str):
    return functools.reduce(getattr, dotted.split("."), show)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
