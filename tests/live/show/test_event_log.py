"""The event log: lines written as things happen, a full disk that stops the log and not the show, and
a log read back run by run."""
from __future__ import annotations

from pathlib import Path

import pytest

from live.inputs.audio_analysis import SILENCE, AudioFeatures
from live.show.event_log import EventLogError, EventRecorder, read_run

HEARD = AudioFeatures(0.5, 0.25, 0.125, 0.1, 0.3, 0.7, True, 0.9, True, 127.5, False)


def record(path: Path, frames: list[AudioFeatures], show_text: str = "scenes: []\n") -> None:
    events = EventRecorder(path)
    events.start(path.with_name("show.yaml"), show_text, {"size": "64x36"}, 30)
    events.control(1, "set", "go", None, "key", 0.01)
    for number, features in enumerate(frames):
        events.frame(number, number / 30, 1, features)
    events.note("cue", 0.0, scene="a", trigger="GO")
    events.close(1.0)


def test_frames_come_back_with_their_sound_and_the_last_run_is_replayed(tmp_path):
    log = tmp_path / "night.log"
    record(log, [SILENCE, HEARD])
    record(log, [HEARD, HEARD, SILENCE], show_text="second night\n")  # appended: a restart, say
    run = read_run(log)
    assert (run.runs, run.frames, run.show_text, run.overrides) == (2, 3, "second night\n", {"size": "64x36"})
    items = list(run.events())
    frames = [item for item in items if not isinstance(item, dict)]
    assert [frame.features for frame in frames] == [HEARD, HEARD, SILENCE]  # exactly, floats and flags
    assert [item["event"] for item in items if isinstance(item, dict)] == ["control", "cue", "stop"]


def test_a_full_disk_stops_the_log_once_and_never_raises(tmp_path, caplog):
    events = EventRecorder(Path("/dev/full"))  # every write fails with ENOSPC, as on a full disk
    for number in range(3):
        events.frame(number, number / 30, 0, SILENCE)
    events.close(0.1)
    assert events.problem.startswith("event log stopped: No space left")
    assert sum("event log stopped" in record.message for record in caplog.records) == 1


@pytest.mark.parametrize("content, message", [
    (b'{"event":"start","version":99}\n', "version 99"),
    (b'{"event":"start","version":1}\n', "a start line without"),
    (b"[1, 2]\n", "no \"event\""),
])
def test_logs_that_cannot_be_replayed_are_refused_with_their_line(tmp_path, content, message):
    log = tmp_path / "odd.log"
    log.write_bytes(content)
    with pytest.raises(EventLogError, match=message) as refused:
        read_run(log)
    assert str(refused.value).startswith(f"{log}:1")


def test_a_frames_beats_come_back_at_their_own_times_and_a_broken_one_is_refused(tmp_path):
    from live.show.event_log import RecordedBeats
    from live.show.tempo import Beat

    log = tmp_path / "night.log"
    events = EventRecorder(log)
    events.start(log.with_name("show.yaml"), "scenes: []\n", {}, 30)
    beats = [Beat(0.46875 + 1e-13, True), Beat(0.9375, None)]  # two in one frame; a source that knows no bars
    events.frame(0, 0.0, 0, SILENCE)
    events.frame(1, 1 / 30, 0, SILENCE, beats)
    events.close(0.1)
    frames = [item for item in read_run(log).events() if not isinstance(item, dict)]
    assert [frame.beats for frame in frames] == [(), tuple(beats)]  # the same floats, bit for bit
    replayed = RecordedBeats(log)
    replayed.hear(frames[1])
    assert replayed.update(1 / 30, SILENCE) == beats
    import re
    log.write_text(re.sub(r'"beats":\[\[[^\]]*\]', '"beats":[["soon",true]', log.read_text()))
    with pytest.raises(EventLogError, match=r"night.log:3: a frame line that cannot be read"):
        read_run(log)
