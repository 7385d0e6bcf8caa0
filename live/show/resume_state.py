"""Resume state: where a running show is, kept on disk about once a second, so `run --resume` comes back there.

A live run hands a snapshot to `ResumeWriter` once a second of show time,
from the thread that renders (so scenes are read between frames): the show
clock, when each cue of a cue list fired, a performer's scene change, the
values a performer holds (the tempo pin among them), each scene's own place
(a latent walk's), the scene on screen. A thread of its own writes it whole
(a temporary file, flushed to disk, renamed over the last), so a power cut
leaves the previous state or this one, never half of one. There is one state
per show file, in `$XDG_STATE_HOME/latentstage/resume/` (default
`~/.local/state/...`), named after the show and its absolute path.

`resumption` reads it back for `run SHOW --resume` and says in one line what
happens: the same show goes on at its moment; an edited show goes on at the cue
that shows the same scene (if one still does) with the held values that still
fit, else from the top; a state that is missing, unreadable or of another show
starts from the top. Nothing in a state can stop a show from starting.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from live.control.bus import ControlBus
from live.control.parameters import ControlError
from live.scenes.contract import Scene
from live.show.director import Director
from live.show.schema import Show

log = logging.getLogger("latentstage.resume")

STATE_EVERY = 1.0  # seconds of show time between snapshots
VERSION = 1
NOT_RESTORED = ("scene",)  # bus values the director puts back itself


def state_path(show_path: Path) -> Path:
    """Where the resume state of the show file at `show_path` lives (one per file)."""
    resolved = show_path.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
    home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(home) / "latentstage" / "resume" / f"{resolved.stem}-{digest}.json"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def snapshot(t: float, show: Show, director: Director, bus: ControlBus, scenes: list[Scene], on_screen: str) -> dict:
    """The show's state at t (seconds of show time), as plain JSON values; call it between frames."""
    number = director.last_fired(t)
    cue = director.cue(number - 1) if number is not None else None
    values = bus.values()
    held = {name: value for name, value in values.items()
            if name not in NOT_RESTORED and bus.declaration(name).kind != "trigger" and bus.held(name)}
    return {"version": VERSION, "show": show.name, "t": t, "written_at": time.time(), **director.state(),
            "cue": None if cue is None else {"number": number, "scene": cue.scene, "keyframe": cue.keyframe},
            "held": held, "scene": on_screen,
            "scenes": {scene.name: {"spec": _spec_digest(show, scene.name), **scene.resume_state()}
                       for scene in scenes}}


def _spec_digest(show: Show, name: str) -> str:
    spec = next(spec for spec in show.scenes if spec.name == name)
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:16]


class ResumeWriter:
    """Writes the newest snapshot offered, whole, on a thread of its own; a failure is logged once."""

    def __init__(self, path: Path, show_path: Path):
        self.path = path
        self.show_path = show_path
        self.written = 0
        self._next = 0.0  # show time of the next snapshot
        self._pending: dict | None = None
        self._wake = threading.Condition()
        self._stopping = False
        self._failed = False
        self._thread = threading.Thread(target=self._work, name="resume state", daemon=True)

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def due(self, t: float) -> bool:
        """Whether a snapshot is due at t (seconds of show time); the first is due at once."""
        if t < self._next:
            return False
        self._next = t + STATE_EVERY
        return True

    def offer(self, state: dict) -> None:
        with self._wake:
            self._pending = state
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _work(self) -> None:
        while True:
            with self._wake:
                while self._pending is None and not self._stopping:
                    self._wake.wait()
                state, self._pending = self._pending, None
                if state is None:
                    return
            self._write(state)

    def _write(self, state: dict) -> None:
        try:
            state["show_text"] = text_digest(self.show_path.read_text(encoding="utf-8"))
            partial = self.path.with_name(self.path.name + ".partial")
            with open(partial, "w", encoding="utf-8") as file:
                json.dump(state, file)
                file.flush()
                os.fsync(file.fileno())  # on disk before it replaces the last one: a power cut keeps one whole
            os.replace(partial, self.path)
            self.written += 1
            self._failed = False
        except (OSError, ValueError, TypeError) as error:
            if not self._failed:
                log.warning("cannot write the resume state %s: %s (the show goes on; trying again each second)",
                            self.path, error)
            self._failed = True


@dataclass
class Resumption:
    """What `run --resume` carries on from: a show time, and what to put back before the first frame."""

    t: float  # seconds of show time to start at
    message: str  # "resumed at cue 7 after 4.2 s", for the log, the HUD and the status file
    fired: list[float] = field(default_factory=list)
    manual: dict | None = None
    held: dict = field(default_factory=dict)
    scenes: dict = field(default_factory=dict)  # scene name -> its resume_state

    def apply(self, director: Director, bus: ControlBus, scenes: list[Scene]) -> list[str]:
        """Put it back (before the show's first frame); the held values that no longer fit, by name."""
        director.resume(self.fired, self.manual)
        refused = []
        for name, value in self.held.items():
            try:
                bus.set(name, value, source="resume")
            except (ControlError, KeyError, ValueError, TypeError):
                refused.append(name)
        for scene in scenes:
            if scene.name in self.scenes:
                scene.resume(self.scenes[scene.name])
        return refused


def resumption(path: Path, show: Show, text: str) -> tuple[Resumption | None, str]:
    """(what to resume, one line saying so) for `show` (its file's `text`) from the state at `path`;
    (None, why) to start from the top."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        t, written = float(state["t"]), float(state["written_at"])
        if state.get("version") != VERSION:
            raise ValueError(f"version {state.get('version')!r}, not {VERSION}")
    except FileNotFoundError:
        return None, f"--resume: no resume state for this show yet ({path}); starting from the top"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return None, f"--resume: the resume state {path} cannot be read ({error}); starting from the top"
    if state.get("show") != show.name:
        return None, (f"--resume: {path} is the state of show {state.get('show')!r}, not {show.name!r}; "
                      f"starting from the top")
    after = max(0.0, time.time() - written)
    same = state.get("show_text") == text_digest(text)
    where = f"cue {state['cue']['number']}" if state.get("cue") else f"{t:.1f} s"
    scenes = {name: scene for name, scene in state.get("scenes", {}).items()
              if any(spec.name == name for spec in show.scenes) and scene.get("spec") == _spec_digest(show, name)}
    resumed = Resumption(t, f"resumed at {where} after {after:.1f} s", list(state.get("fired", [])),
                         state.get("manual"), dict(state.get("held", {})), scenes)
    if same:
        return resumed, resumed.message
    if not show.is_cue_list:  # a timed show's cues are a function of t: it goes on at t with its cues as they are now
        resumed.message += " (the show was edited since: its cues as they are now)"
        return resumed, resumed.message
    cue = state.get("cue")
    if cue is None:  # nothing had fired: the top is where it was
        resumed.fired = []
        return resumed, resumed.message + " (the show was edited since)"
    matches = [number for number, candidate in enumerate(show.timeline, start=1)
               if candidate.scene == cue["scene"] and candidate.keyframe == cue["keyframe"]]
    if not matches:
        return None, (f"--resume: the show was edited and no cue shows {cue['scene']!r} any more (it was on "
                      f"cue {cue['number']}); starting from the top")
    number = min(matches, key=lambda candidate: abs(candidate - cue["number"]))
    fired = resumed.fired or [t]
    resumed.fired = (fired + [fired[-1]] * number)[:number]
    resumed.message = (f"resumed at cue {number} after {after:.1f} s (the show was edited: it was cue "
                       f"{cue['number']}, {cue['scene']!r})") if number != cue["number"] else \
        f"resumed at cue {number} after {after:.1f} s (the show was edited since)"
    return resumed, resumed.message
