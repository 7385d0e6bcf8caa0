"""live.output.recorder (README "The live loop never waits": the recorder drops and counts frames its
encoder cannot keep up with rather than slow the show): real H.264 files, decoded with PyAV."""
from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from live.output.recorder import Recorder
from tests.conftest import wait_for
from tests.live.output.video_files import assert_same_pictures, decoded_pictures, decoded_times, gradient


def test_file_timestamps_are_when_frames_were_shown(tmp_path):
    # A variable-rate show: irregular gaps, two frames in one millisecond, one pair stamped alike.
    shown_at = [1000.0, 1000.016, 1000.0504, 1000.0507, 1000.0507, 1000.2, 1000.233, 1000.9]
    with Recorder(tmp_path / "show.mp4", 64, 48, fps=30, queue_size=len(shown_at)) as recorder:
        for index, at in enumerate(shown_at):
            assert recorder.submit(gradient(48, 64, 20 * index), at)
    assert (recorder.submitted, recorder.written, recorder.dropped) == (len(shown_at), len(shown_at), 0)
    times = decoded_times(tmp_path / "show.mp4")
    assert len(times) == len(shown_at)
    np.testing.assert_allclose(times, np.array(shown_at) - shown_at[0], atol=1e-3)
    assert all(later > earlier for earlier, later in zip(times, times[1:]))


def test_frames_come_back_as_submitted(tmp_path):
    frames = [gradient(32, 48, 60 * index) for index in range(3)]
    with Recorder(tmp_path / "pixels.mp4", 48, 32, fps=25, queue_size=len(frames)) as recorder:
        for index, frame in enumerate(frames):
            assert recorder.submit(frame, index / 25)
            frame[:] = 0  # the caller may reuse its buffer at once: submit copied it
    assert recorder.written == len(frames)
    want = [gradient(32, 48, 60 * index) for index in range(3)]
    assert_same_pictures(want, decoded_pictures(tmp_path / "pixels.mp4"))


def test_a_slow_encoder_drops_and_counts_frames_and_submit_never_waits(tmp_path):
    """The encoder is held inside its first write (a disk or CPU that cannot keep up, made certain):
    every submit still returns, the pool's two slots fill and every later frame is dropped and
    counted; once the encoder moves again the file holds exactly the frames that were taken."""
    recorder = Recorder(tmp_path / "busy.mp4", 64, 48, fps=60, queue_size=2)
    recorder.start()
    writer = recorder._writer
    real_write = writer.write_frame
    writing, go_on = threading.Event(), threading.Event()

    def stuck_write(frame, at=None):
        writing.set()
        go_on.wait()  # held here until the test lets it go
        real_write(frame, at)

    writer.write_frame = stuck_write
    accepted = []
    try:
        accepted.append(recorder.submit(gradient(48, 64, 0), 0.0))
        assert writing.wait(30), "the encoder never started on the first frame"

        def render_thread():
            for index in range(1, 120):
                accepted.append(recorder.submit(gradient(48, 64, index), index / 60))

        submitter = threading.Thread(target=render_thread, daemon=True)
        submitter.start()
        submitter.join(60)
        assert not submitter.is_alive(), "submit waited for the stuck encoder"
        assert not go_on.is_set() and recorder.written == 0  # the encoder was stuck all along
        assert accepted == [True, True] + [False] * 118  # the two pool slots, then drops
        assert (recorder.submitted, recorder.dropped) == (120, 118)
    finally:
        go_on.set()
        recorder.close()
    assert (recorder.written, recorder.dropped, recorder.submitted) == (2, 118, 120)
    np.testing.assert_allclose(decoded_times(tmp_path / "busy.mp4"), [0.0, 1 / 60], atol=1e-3)


def test_an_encoder_error_stops_the_recording_not_the_show(tmp_path, monkeypatch, caplog):
    recorder = Recorder(tmp_path / "broken.mp4", 32, 32, fps=30, queue_size=4)
    recorder.start()

    def disk_full(frame, at=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recorder._writer, "write_frame", disk_full)
    with caplog.at_level(logging.ERROR, logger="latentstage.record"):
        assert recorder.submit(gradient(32, 32, 0), 0.0)  # accepted; the encoder fails on it
        assert wait_for(lambda: recorder.error is not None, timeout=10)
        assert not any(recorder.submit(gradient(32, 32, index), index / 30) for index in range(1, 6))
        recorder.close()
    assert isinstance(recorder.error, OSError)
    assert recorder.written == 0 and recorder.dropped == recorder.submitted == 6
    assert "recording to" in caplog.text and "No space left" in caplog.text


def test_submit_checks_its_frames_and_its_state(tmp_path):
    recorder = Recorder(tmp_path / "checked.mp4", 32, 16, fps=30)
    with pytest.raises(RuntimeError, match="start"):
        recorder.submit(gradient(16, 32, 0), 0.0)
    recorder.start()
    with pytest.raises(ValueError, match=r"\(16, 32, 3\) uint8"):
        recorder.submit(gradient(16, 30, 0), 0.0)
    with pytest.raises(ValueError, match="uint8"):
        recorder.submit(gradient(16, 32, 0).astype(np.float32), 0.0)
    recorder.close()
    recorder.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="close"):
        recorder.submit(gradient(16, 32, 0), 0.0)


@pytest.mark.parametrize("width, height", [(641, 480), (640, 361)])
def test_odd_sizes_are_refused_with_a_clear_message(tmp_path, width, height):
    with pytest.raises(ValueError, match=f"even width and height, got {width}x{height}"):
        Recorder(tmp_path / "odd.mp4", width, height, fps=30)
    assert not (tmp_path / "odd.mp4").exists()
