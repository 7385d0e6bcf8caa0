"""The event log of a live run (`run --record-events LOG`), and reading it back for a replay.

One JSON object a line, appended and flushed as each thing happens, so a crash
or a pulled plug loses at most the line being written:

    {"event": "start", "version": 1, "show_path": ..., "show_text": ..., "overrides": {...}, "fps": 30}
    {"event": "control", "n": 7, "t": 12.503, "op": "set", "name": "drift.scale", "value": 3.0, "source": "osc"}
    {"event": "frame", "frame": 375, "t": 12.512, "controls": 7, "audio": [0.41, ...], "beats": [[12.49, true]]}
    {"event": "cue", "t": 12.5, "cue": 3, "scene": "bloom"}
    {"event": "reload", "t": 40.2, "what": "model", "scene": "snow", "path": "..."}
    {"event": "ladder", "t": 41.0, "frame": 1230, "scene": "drift", "rung": 2}
    {"event": "screenshot", "t": 12.53, "frame": 375, "file": "frame-000380.png"}
    {"event": "stop", "t": 600.0}

`control` lines are the controllers' writes to the bus (OSC, keys, GO), numbered
in the order they reached it; a `frame` line is one composed frame: its show
time, how many controller writes it had seen, the sound's features it used
(none: silence) and the beats the show's leading tempo source handed the
director that frame, each at its own time and whether it starts a bar (none:
no beat). Cues, reloads and screenshots are there for people reading the
night back, and a ladder line says which rung the governor put a scene on from
that frame. A replay applies each frame's writes and rungs before it and
renders it at its own time with its own features and beats, so it gives the
frames the night gave, cues quantised to Link or MIDI clock included (a replay
has neither).
A log keeps every run appended to it; a replay takes the last.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from live.control.bus import ControlBus
from live.control.parameters import ControlError
from live.inputs.audio import AudioStatus
from live.inputs.audio_analysis import SILENCE, AudioFeatures
from live.show.tempo import Beat

log = logging.getLogger("latentstage.events")

VERSION = 1
AUDIO_FIELDS = [field.name for field in dataclasses.fields(AudioFeatures)]


class EventLogError(ValueError):
    """A log that cannot be replayed; the message is one line naming the file (and line)."""


class EventRecorder:
    """Appends a live run's events to LOG, from any thread. A write that fails (a full disk, the
    drive gone) stops the log, says so once, and never stops the show: `problem` tells the HUD."""

    def __init__(self, path: Path):
        self.path = path
        self.problem = ""
        self.lines = 0
        self._lock = threading.Lock()
        try:
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())
        except OSError as error:
            raise EventLogError(f"{path}: cannot write the event log: {error.strerror or error}") from None

    def start(self, show_path: Path, show_text: str, overrides: dict[str, Any], fps: float) -> None:
        self._write({"event": "start", "version": VERSION, "show_path": str(show_path.resolve()),
                     "show_text": show_text, "overrides": overrides, "fps": fps})

    def control(self, number: int, operation: str, name: str, value: Any, source: str, t: float,
                bus: int = 0) -> None:
        """A controller's write to the bus (the bus's journal calls this, in the order of the writes);
        `bus` counts the buses of the run: a reloaded show brings a new one."""
        self._write({"event": "control", "bus": bus, "n": number, "t": t, "op": operation, "name": name,
                     "value": value, "source": source})

    def frame(self, frame: int, t: float, controls: int, features: AudioFeatures, beats: list[Beat] = ()) -> None:
        entry = {"event": "frame", "frame": frame, "t": t, "controls": controls}
        if features != SILENCE:
            entry["audio"] = list(dataclasses.astuple(features))
        if beats:
            entry["beats"] = [[float(beat.at), None if beat.downbeat is None else bool(beat.downbeat)]
                              for beat in beats]  # a fitted clock's are numpy numbers
        self._write(entry)

    def note(self, event: str, t: float, **details: Any) -> None:
        """A line for people reading the night back: a cue fired, a model reloaded, a screenshot."""
        self._write({"event": event, "t": t, **details})

    def close(self, t: float) -> None:
        self._write({"event": "stop", "t": t})
        with self._lock:
            if not self._file.closed:
                try:
                    self._file.close()
                except OSError:
                    pass

    def _write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._lock:
            if self.problem or self._file.closed:
                return
            try:
                self._file.write(line)
                self._file.flush()
                self.lines += 1
            except OSError as error:
                self.problem = f"event log stopped: {error.strerror or error}"
                log.error("%s: %s; the show goes on without it", self.path, self.problem)


@dataclass(frozen=True)
class RecordedFrame:
    frame: int  # its number in the live run, from 0
    t: float  # seconds of show time it was composed for
    controls: int  # controller writes it had seen
    features: AudioFeatures
    beats: tuple[Beat, ...] = ()  # the leading tempo source's beats it handed the director


@dataclass(frozen=True)
class RecordedRun:
    """The last run in a log: how it started, and its frames and controller writes in order."""

    path: Path
    runs: int  # in the log; this is the last
    show_path: Path
    show_text: str
    overrides: dict[str, Any]
    frames: int
    start_line: int  # 1-based line of its start record

    def events(self) -> Iterator[RecordedFrame | dict[str, Any]]:
        """Its frames (RecordedFrame) and its other lines (dicts: controls, cues, notes) in file order."""
        for number, entry in _entries(self.path, self.start_line + 1):
            if entry["event"] == "start":
                return
            if entry["event"] == "frame":
                yield _frame(entry, self.path, number)
            else:
                yield entry


def read_run(path: Path) -> RecordedRun:
    """The last run in the event log at `path`, checked line by line; a torn last line (the show
    was killed while writing it) is left out, anything else wrong is an EventLogError."""
    starts: list[tuple[int, dict]] = []
    frames = 0
    for number, entry in _entries(path, 1):
        if entry["event"] == "start":
            if entry.get("version") != VERSION:
                raise EventLogError(f"{path}:{number}: event log version {entry.get('version')!r}; "
                                    f"this latentstage reads version {VERSION}")
            starts.append((number, entry))
            frames = 0
        elif not starts:
            raise EventLogError(f"{path}:{number}: the log does not begin with a run's start line")
        elif entry["event"] == "frame":
            _frame(entry, path, number)
            frames += 1
        elif entry["event"] == "reload" and entry.get("what") == "show" and not (
                isinstance(entry.get("show_text"), str) and isinstance(entry.get("controls"), int)
                and isinstance(entry.get("t"), (int, float))):
            raise EventLogError(f"{path}:{number}: a show reload line without its text, time or controls")
    if not starts:
        raise EventLogError(f"{path}: no run in it (is it an event log from `latentstage run --record-events`?)")
    line, start = starts[-1]
    try:
        return RecordedRun(path, len(starts), Path(start["show_path"]), str(start["show_text"]),
                           dict(start.get("overrides") or {}), frames, line)
    except (KeyError, TypeError, ValueError) as error:
        raise EventLogError(f"{path}:{line}: a start line without {error}") from None


def apply_control(bus: ControlBus, entry: dict[str, Any]) -> None:
    """A recorded controller write, made again the way it was made; one the show no longer takes is
    logged and skipped (the replay goes on)."""
    try:
        if entry["op"] == "set":
            bus.set(entry["name"], entry["value"], source=entry["source"])
        elif entry["op"] == "release":
            bus.release(entry["name"], source=entry["source"])
        elif entry["op"] == "input":
            bus.set_input(entry["name"], entry["value"])
    except (ControlError, KeyError, TypeError, ValueError) as error:
        log.warning("replay: control %s at %.3f s not applied: %s", entry.get("n"), entry.get("t", 0.0), error)


class RecordedAudio:
    """The sound's features exactly as each recorded frame heard them: the audio input of a replay."""

    def __init__(self, log_path: Path, samplerate: int):
        self._next = SILENCE
        self._status = AudioStatus(True, "ok", f"replayed from {log_path}", samplerate, 0)

    def hear(self, frame: RecordedFrame) -> None:
        """What the next frame hears (the replay calls this before each frame)."""
        self._next = frame.features

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def pin_tempo(self, bpm: float | None) -> None:
        """Nothing to do: the recorded features carry the tempo the live run's pin gave."""

    def features(self, t: float) -> AudioFeatures:
        return self._next

    def status(self) -> AudioStatus:
        return self._status


class RecordedBeats:
    """The beats each recorded frame's tempo source handed the director: a replay's tempo, whatever the
    night followed (Link and MIDI clock are not there to follow again)."""

    def __init__(self, log_path: Path):
        self._next: tuple[Beat, ...] = ()
        self._log_path = log_path

    def hear(self, frame: RecordedFrame) -> None:
        """The beats the next frame gets (the replay calls this before each frame)."""
        self._next = frame.beats

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def update(self, t: float, features: AudioFeatures, osc_beats: int = 0) -> list[Beat]:
        return list(self._next)

    def hud_line(self, t: float) -> str:
        return f"tempo: the beats of {self._log_path}"

    def describe(self, t: float) -> dict:
        return {"source": "replayed"}


def replayed_frames(run: RecordedRun, controls, hearing: list[RecordedAudio | RecordedBeats],
                    reload: Callable[[str, float], None],
                    use_rung: Callable[[str, int], None] | None = None) -> Iterator[RecordedFrame]:
    """The run's frames in order; before each is yielded, the controller writes it had seen are made on
    `controls.bus` and each of `hearing` (the replay's sound, its beats) hears what the frame heard. A show
    file reloaded during the run is swapped in by `reload(text, t)` where it was, after the writes the old
    bus had taken; a ladder rung the governor chose is put on its scene by `use_rung(scene, rung)` before
    the frame it came with. (A write that came while a frame was being composed can be logged before that frame's
    line: it waits for the frame that saw it.)"""
    pending: list[dict[str, Any]] = []
    generation = 0  # of the bus the writes go to: each reload brings a new one

    def apply_through(count: int) -> None:
        nonlocal pending
        due = [entry for entry in pending if entry.get("bus", 0) == generation and entry.get("n", 0) <= count]
        pending = [entry for entry in pending if entry.get("bus", 0) != generation or entry.get("n", 0) > count]
        for entry in due:
            apply_control(controls.bus, entry)

    for item in run.events():
        if isinstance(item, RecordedFrame):
            apply_through(item.controls)
            for listener in hearing:
                listener.hear(item)
            yield item
        elif item["event"] == "control":
            pending.append(item)
        elif item["event"] == "ladder" and use_rung is not None:
            try:
                use_rung(str(item["scene"]), int(item["rung"]))
            except (KeyError, TypeError, ValueError) as error:  # a show edited since: the replay goes on
                log.warning("replay: ladder step at %.3f s not applied: %s", item.get("t", 0.0), error)
        elif item["event"] == "reload" and item.get("what") == "show":
            apply_through(int(item["controls"]))
            pending = [entry for entry in pending if entry.get("bus", 0) != generation]  # lost live too
            reload(str(item["show_text"]), float(item["t"]))
            generation += 1


def _entries(path: Path, first_line: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, entry) from `first_line` on; a torn last line is skipped with a warning."""
    try:
        file = open(path, encoding="utf-8")  # noqa: SIM115 (closed below; a generator)
    except OSError as error:
        raise EventLogError(f"{path}: cannot read the event log: {error.strerror or error}") from None
    with file:
        pending: tuple[int, str] | None = None
        try:
            for number, line in enumerate(file, 1):
                if number < first_line:
                    continue
                if pending is not None:
                    yield _entry(path, *pending)
                pending = (number, line)
        except UnicodeDecodeError:
            raise EventLogError(f"{path}: not an event log (not UTF-8 text)") from None
        if pending is not None:
            number, line = pending
            if line.endswith("\n"):
                yield _entry(path, number, line)
            else:
                log.warning("%s:%d: the last line was cut short (the run was killed while writing it); "
                            "replaying up to the line before", path, number)


def _entry(path: Path, number: int, line: str) -> tuple[int, dict[str, Any]]:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        raise EventLogError(f"{path}:{number}: not an event log line (JSON expected)") from None
    if not isinstance(entry, dict) or not isinstance(entry.get("event"), str):
        raise EventLogError(f"{path}:{number}: not an event log line (no \"event\")")
    return number, entry


def _frame(entry: dict[str, Any], path: Path, number: int) -> RecordedFrame:
    try:
        audio = entry.get("audio")
        features = SILENCE if audio is None else AudioFeatures(**dict(zip(AUDIO_FIELDS, audio, strict=True)))
        beats = tuple(_beat(beat) for beat in entry.get("beats", ()))
        return RecordedFrame(int(entry["frame"]), float(entry["t"]), int(entry["controls"]), features, beats)
    except (KeyError, TypeError, ValueError) as error:
        raise EventLogError(f"{path}:{number}: a frame line that cannot be read ({error})") from None


def _beat(entry: Any) -> Beat:
    """A frame's recorded beat, [seconds, starts a bar (true, false or null)]; ValueError if it is not one."""
    at, downbeat = entry  # ValueError, TypeError for anything but a pair
    if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at) \
            or not (downbeat is None or isinstance(downbeat, bool)):
        raise ValueError(f"a beat {entry!r:.40}")
    return Beat(float(at), downbeat)
