"""A live recording survives what stops a show unannounced: SIGKILL and a full disk.

`--record` writes a fragmented MP4 (a playable fragment every second), so a
file cut off anywhere plays up to its last whole fragment; a write that fails
stops the recording, not the show, and the HUD and the summary say so.
"""
import json
import re
import resource
import signal
import subprocess

import av

from tests.conftest import installed_command, wait_for
from tests.live.show.test_live_run import pattern_show


def decodable_seconds(path) -> float:
    """Seconds of video a player shows before the file ends or breaks off."""
    last = 0.0
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                last = float(frame.time)
    except av.error.InvalidDataError:  # the cut-off tail of the last fragment
        pass
    return last


def decodable_frames(path) -> int:
    """Frames a player shows before the file ends or breaks off."""
    count = 0
    try:
        with av.open(str(path)) as container:
            for _ in container.decode(video=0):
                count += 1
    except av.error.InvalidDataError:
        pass
    return count


def test_sigkill_leaves_a_recording_that_plays_up_to_its_last_seconds(tmp_path):
    recording, status = tmp_path / "show.mp4", tmp_path / "status.txt"
    run = subprocess.Popen([installed_command(), "run", str(pattern_show(tmp_path)), "--headless", "--seconds", "600",
                            "--record", str(recording), "--status-file", str(status)],
                           cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # wait until three seconds of the show are in the file, however slowly this machine encodes
        assert wait_for(lambda: recording.exists() and decodable_seconds(recording) >= 3.0, timeout=120)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL
    assert decodable_seconds(recording) >= 3.0


def limit_file_size() -> None:
    """In the child: files may grow to 200 kB, and the write past that fails (EFBIG) instead of
    killing the process (SIGXFSZ): a disk that fills up during the show."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_a_full_disk_stops_the_recording_not_the_show_and_says_so(tmp_path):
    recording, status, stats = tmp_path / "show.mp4", tmp_path / "status.txt", tmp_path / "stats.json"
    run = subprocess.Popen([installed_command(), "run", str(pattern_show(tmp_path)), "--headless", "--seconds", "600",
                            "--record", str(recording), "--status-file", str(status), "--stats-json", str(stats)],
                           cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           preexec_fn=limit_file_size)
    try:
        assert wait_for(lambda: status.exists() and "recording stopped" in status.read_text(), timeout=120)
        assert "scene pattern" in status.read_text()  # the show goes on
        run.send_signal(signal.SIGTERM)
        out, errors = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 0, errors
    assert "the recording stopped early" in out
    assert 0 < decodable_seconds(recording)  # what was written before the disk filled still plays
    said = int(re.search(r"recorded (\d+) frames", out).group(1))
    assert said == decodable_frames(recording), out  # the summary counts what plays, not what was encoded
    figures = json.loads(stats.read_text())["recording"]
    assert figures["written"] == said and figures["dropped"] == figures["submitted"] - said, figures
    assert "File too large" in figures["error"] or "space" in figures["error"], figures
