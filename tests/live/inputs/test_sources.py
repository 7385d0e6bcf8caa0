"""Sources on real files (README "Shows": camera, video, images, gif, pattern behind one interface;
the camera reconnects with backoff and reports stalls and frozen pictures; in rehearsal every
source but the camera gives the frame that belongs to t): videos written here with cv2, a GIF and
pictures written with Pillow.

Each test video is 64x48 MJPEG; frame i is flat BGR (0, 8 (i mod 32), 200), so its number
reads back from the green channel and red tells RGB from BGR. The timeline sources run on a
clock the test moves (`FakeClock`): what they publish is checked step by step, never counted
over a stretch of real time. The camera's reads are paced by real waits, so its tests wait for
conditions with generous timeouts, and time stands still or jumps only through its clock.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from pydantic import TypeAdapter, ValidationError

from live.core.frames import Frame
from live.inputs import sources
from live.inputs.sources import (
    CameraConfig, CameraSource, GifConfig, GifSource, ImageFolderConfig, ImageFolderSource, SourceConfig,
    SourceStatus, TestPatternConfig, TestPatternSource, VideoFileConfig, VideoFileSource, open_source,
)
from tests.conftest import wait_for

FPS = 20.0
WAIT = 30.0  # seconds to wait for something that must happen; only a failing test waits that long


class FakeClock:
    """Seconds that stand still until the test moves them (a source's `clock`)."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def write_video(path: Path, frames: int, identical: bool = False) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (64, 48))
    assert writer.isOpened()
    for number in range(frames):
        writer.write(np.full((48, 64, 3), (0, 0 if identical else 8 * (number % 32), 200), np.uint8))  # BGR
    writer.release()
    return path


def frame_number(pixels: np.ndarray) -> int:
    assert pixels.shape == (48, 64, 3) and pixels.dtype == np.uint8
    assert abs(pixels[..., 0].mean() - 200) < 6  # red: converted to RGB
    return round(pixels[..., 1].mean() / 8)


@pytest.fixture
def video(tmp_path) -> Path:
    return write_video(tmp_path / "count.avi", 20)  # 1 s at 20 fps


# ---------------------------------------------------------------- video file


def test_video_frame_at_is_deterministic_and_loops(video):
    source = VideoFileSource(VideoFileConfig(path=video))
    assert frame_number(source.frame_at(0.0).pixels) == 0
    for t, expected in [(0.26, 5), (0.951, 19), (0.26, 5), (1.26, 5), (0.0, 0), (3.5, 10)]:
        frame = source.frame_at(t)
        assert frame_number(frame.pixels) == expected, t
        assert frame.captured_at == t
    assert source.frame_at(1.26).seq == 20 + 5  # seq counts on across loops
    another = VideoFileSource(VideoFileConfig(path=video))
    assert np.array_equal(source.frame_at(0.7).pixels, another.frame_at(0.7).pixels)


def test_video_without_loop_holds_its_last_frame(video):
    source = VideoFileSource(VideoFileConfig(path=video, loop=False))
    assert frame_number(source.frame_at(5.0).pixels) == 19
    assert source.frame_at(5.0).seq == 19


def test_video_source_plays_its_timeline_on_the_clock_skips_when_behind_and_loops(video):
    """The thread publishes the frame that belongs to the clock's time, once per frame: nothing while
    the clock stands still, the current frame (not the missed ones) after a jump, and it loops."""
    clock = FakeClock()
    source = VideoFileSource(VideoFileConfig(path=video), clock=clock)
    published: list[tuple[int, int]] = []  # (frame number shown, frames published so far)

    def step_to(t: float, number: int) -> None:
        clock.now = 100.0 + t
        assert wait_for(lambda: (f := source.mailbox.newest()) is not None and frame_number(f.pixels) == number
                        and f.captured_at == clock.now, WAIT), (t, number, source.status())
        published.append((number, source.status().frames))

    source.start()  # t = 0 is the clock's time when the thread starts: 100.0, until the first step
    try:
        step_to(0.0, 0)
        for number in range(1, 7):  # in real time: each frame in turn, once
            step_to(number / FPS + 0.01, number)
        step_to(18 / FPS + 0.01, 18)  # the clock jumped ahead: straight to frame 18, 7..17 skipped
        step_to(19 / FPS + 0.01, 19)
        step_to(1.0 + 2 / FPS + 0.01, 2)  # past the end: round again
        status = source.status()
    finally:
        source.stop()
    assert published == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (18, 8), (19, 9), (2, 10)]
    assert status.healthy and status.message == "ok" and status.failures == 0
    assert status.granted == (64, 48, FPS) and status.last_frame_age == 0.0


def test_a_video_gone_bad_is_retried_quietly_and_plays_again_once_it_is_back(video, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(sources, "TIMELINE_BACKOFF", (0.001, 0.002))  # seconds: many retries in a moment
    caplog.set_level(logging.INFO, logger="latentstage.worker")
    logged = lambda: [r for r in caplog.records if r.name == "latentstage.worker"]  # noqa: E731
    source = VideoFileSource(VideoFileConfig(path=video), clock=lambda: 0.0)  # time stands still: frame 0
    video.unlink()
    source.start()
    try:
        assert wait_for(lambda: source.status().failures >= 50, WAIT)
        status = source.status()
        assert not status.healthy and status.message.startswith("playback failed") and status.reconnects == 0
        assert len(logged()) == 1 and logged()[0].exc_info is None  # one line, no traceback, for 50 failures

        write_video(tmp_path / "back.avi", 20).replace(video)  # whole at once: never read half written
        assert wait_for(lambda: len(logged()) == 2, WAIT), source.status()  # just after the health turns good
        status = source.status()
        assert status.healthy and status.reconnects == 1 and status.frames >= 1 and status.message == "ok"
        assert frame_number(source.mailbox.newest().pixels) == 0
        assert logged()[1].getMessage() == f"video count.avi: recovered after {status.failures} failure(s)"
    finally:
        source.stop()


def test_a_file_put_back_after_a_long_outage_plays_again_within_two_seconds(tmp_path):
    """The retries of a file gone bad stay frequent however long it was away: trying a file costs nothing."""
    clip = write_video(tmp_path / "clip.avi", 20)
    source = VideoFileSource(VideoFileConfig(path=clip))
    held = clip.rename(tmp_path / "away.avi")
    source.start()  # plays nothing: the file is away
    try:
        assert wait_for(lambda: source.status().failures >= 6, WAIT)  # the backoff is at its longest by now
        held.rename(clip)
        back = time.monotonic()
        assert wait_for(lambda: source.status().healthy, WAIT), source.status()
        assert time.monotonic() - back < 2.0
    finally:
        source.stop()


def test_a_video_deleted_while_it_plays_goes_on_and_says_once_the_next_start_will_refuse_it(video, caplog):
    caplog.set_level(logging.INFO, logger="latentstage.sources")
    source = VideoFileSource(VideoFileConfig(path=video))
    source.start()
    try:
        assert wait_for(lambda: source.status().frames >= 2, WAIT)
        video.unlink()
        assert wait_for(lambda: source.status().message == "file deleted", WAIT), source.status()
        playing = source.status().frames
        assert wait_for(lambda: source.status().frames >= playing + 5, WAIT)  # it plays on, from memory
        assert source.status().healthy and source.status().message == "file deleted"
    finally:
        source.stop()
    said = [r.getMessage() for r in caplog.records if r.name == "latentstage.sources"]
    assert len(said) == 1 and "the next start will refuse it" in said[0], said


def test_an_emptied_image_folder_is_one_fault_said_once_and_plays_again_when_pictures_return(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="latentstage.worker")
    folder = tmp_path / "pictures"
    folder.mkdir()
    for name, colour in (("a", (255, 0, 0)), ("b", (0, 255, 0)), ("c", (0, 0, 255)), ("d", (9, 9, 9))):
        Image.new("RGB", (20, 10), colour).save(folder / f"{name}.png")
    source = ImageFolderSource(ImageFolderConfig(folder=folder, seconds_per_image=0.02))
    source.start()
    try:
        assert wait_for(lambda: source.status().frames >= 2, WAIT)
        for picture in folder.iterdir():
            picture.unlink()
        assert wait_for(lambda: source.status().failures >= 4, WAIT)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "no images" in warnings[0], warnings
        Image.new("RGB", (20, 10), (0, 255, 0)).save(folder / "e.png")
        assert wait_for(lambda: source.status().healthy, WAIT), source.status()
        assert [path.name for path in source.paths] == ["e.png"]
    finally:
        source.stop()


def test_missing_files_fail_at_construction_naming_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "clip.mp4"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        VideoFileSource(VideoFileConfig(path=missing))
    with pytest.raises(FileNotFoundError, match="anim.gif"):
        GifSource(GifConfig(path=tmp_path / "anim.gif"))
    with pytest.raises(FileNotFoundError, match="pictures"):
        ImageFolderSource(ImageFolderConfig(folder=tmp_path / "pictures"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        ImageFolderSource(ImageFolderConfig(folder=tmp_path / "empty"))


# ---------------------------------------------------------------- camera


def test_camera_on_a_file_delivers_then_reconnects_after_the_end(tmp_path):
    clip = write_video(tmp_path / "short.avi", 30)  # 1.5 s, then "unplugged"
    camera = CameraSource(CameraConfig(device=str(clip), width=320, height=240, stall_timeout=5.0,
                                       backoff_start=1.0, backoff_max=1.0))
    assert camera.status().healthy is False  # not started
    seen: list[SourceStatus] = []

    def status_when(condition) -> SourceStatus:
        """The first status (polled) for which condition holds."""
        assert wait_for(lambda: condition(seen.append(camera.status()) or seen[-1]), WAIT), seen[-1:]
        return seen[-1]

    camera.start()
    try:
        delivering = status_when(lambda s: s.frames >= 3 or s.failures > 0)
        assert delivering.healthy and delivering.failures == 0, delivering
        assert delivering.granted == (64, 48, FPS)  # asked 320x240 at 30, the file gives its own
        first = camera.mailbox.newest()
        assert first is not None and frame_number(first.pixels) < 30
        lost = status_when(lambda s: not s.healthy)  # the end of the file: no frame
        assert lost.failures == 1 and "no frame" in lost.message and lost.reconnects == 0, lost
        back = status_when(lambda s: s.reconnects >= 1 and s.frames > lost.frames + 2)  # reopened after 1 s
        assert back.healthy and back.failures == 1, back
    finally:
        camera.stop()
    assert camera.status().message == "stopped"


def test_camera_reports_a_frozen_picture(tmp_path):
    """A driver that keeps returning the same picture: healthy while it has been unchanged for less
    than frozen_after on the camera's clock, a failure once it has been unchanged for longer."""
    clip = write_video(tmp_path / "still.avi", 40, identical=True)  # 2 s of one picture
    clock = FakeClock()
    camera = CameraSource(CameraConfig(device=str(clip), stall_timeout=5.0, frozen_after=0.4, backoff_start=60.0,
                                       backoff_max=60.0), clock=clock)
    camera.start()
    try:
        assert wait_for(lambda: camera.status().frames >= 1, WAIT), camera.status()
        clock.now += 0.3  # unchanged for 0.3 s: still a picture
        frames = camera.status().frames
        assert wait_for(lambda: camera.status().frames > frames, WAIT), camera.status()
        still = camera.status()
        assert still.healthy and still.failures == 0, still
        clock.now += 0.2  # unchanged for 0.5 s: frozen
        assert wait_for(lambda: camera.status().failures == 1, WAIT), camera.status()
        frozen = camera.status()
        assert not frozen.healthy and frozen.message == "frozen: the picture has not changed for 0.5 s", frozen
        assert frozen.frames >= still.frames >= 2 and frozen.reconnects == 0
    finally:
        camera.stop()


def test_camera_counts_a_late_frame_as_a_stall(tmp_path):
    clip = write_video(tmp_path / "long.avi", 400)  # 20 s: the file does not end during the test
    offset = [0.0]  # seconds added to the real clock: a jump makes the last frame old at once
    camera = CameraSource(CameraConfig(device=str(clip), stall_timeout=5.0, backoff_start=60.0, backoff_max=60.0),
                          clock=lambda: time.perf_counter() + offset[0])
    camera.start()
    try:
        assert wait_for(lambda: camera.status().healthy, WAIT), camera.status()
        offset[0] = 60.0
        status = camera.status()
        assert not status.healthy and "stall" in status.message, status  # the status sees it at once
        assert wait_for(lambda: camera.status().failures == 1, WAIT), camera.status()  # and the thread too
        assert camera.status().message.startswith("stalled: a read took 60"), camera.status()
    finally:
        camera.stop()


def test_missing_camera_keeps_retrying_with_backoff_quietly_and_stops_promptly(tmp_path, caplog):
    camera = CameraSource(CameraConfig(device=str(tmp_path / "no-camera.avi"), backoff_start=0.05, backoff_max=0.2))
    started = time.perf_counter()
    camera.start()
    assert wait_for(lambda: camera.status().failures >= 5, WAIT)
    assert time.perf_counter() - started >= 0.05 + 0.1 + 0.2 + 0.2  # retried, but not in a busy loop (a lower bound)
    status = camera.status()
    camera.stop()
    assert not status.healthy and "could not open" in status.message and "no-camera.avi" in status.message
    assert status.frames == 0 and status.granted is None and status.last_frame_age is None
    assert camera.status().message == "stopped"
    assert camera.worker.name not in {thread.name for thread in threading.enumerate()}  # stop() cut its wait short
    logged = [r.getMessage() for r in caplog.records if r.name == "latentstage.worker"]
    assert len(logged) == 1 and "could not open" in logged[0]  # the first failure; the retries are only counted


def test_camera_cannot_be_rehearsed():
    with pytest.raises(RuntimeError, match="kind: video"):
        CameraSource(CameraConfig(device=0)).frame_at(1.0)


# ---------------------------------------------------------------- test pattern, GIF, images


def test_pattern_is_a_deterministic_function_of_time():
    pattern = TestPatternSource(TestPatternConfig(width=160, height=90, fps=25))
    assert np.array_equal(pattern.frame_at(1.0).pixels, pattern.frame_at(1.0).pixels)
    assert pattern.frame_at(1.0).seq == 25 and pattern.frame_at(1.0 + 1 / 25).seq == 26
    first, second = pattern.frame_at(1.0).pixels, pattern.frame_at(1.04).pixels
    assert first.shape == (90, 160, 3) and first.dtype == np.uint8
    text_rows = slice(0, 30)  # the stamped frame number and time sit in the black band at the top
    assert not np.array_equal(first[text_rows], second[text_rows])
    assert first[text_rows].max() == 255 and np.median(first[text_rows]) == 0


def test_pattern_source_publishes_at_its_rate():
    """Paced by its clock at 40 fps: one frame per 1/40 s of clock time, the timeline's own picture,
    and nothing more while the clock stands still."""
    clock = FakeClock()
    pattern = TestPatternSource(TestPatternConfig(width=64, height=48, fps=40), clock=clock)
    pattern.start()  # t = 0 is the clock's time when the thread starts: 100.0, until the clock moves
    try:
        for number in range(6):
            if number > 0:
                clock.now = 100.0 + number / 40 + 0.005
            assert wait_for(lambda: pattern.status().frames == number + 1, WAIT), pattern.status()
            shown = pattern.mailbox.newest()
            assert np.array_equal(shown.pixels, pattern.frame_at(number / 40).pixels), number  # stamped frame n
        clock.now += 0.015  # still within frame 5: no new frame, and the last one ages on the clock
        status = pattern.status()
        clock.now = 100.0 + 6 / 40 + 0.005  # frame 6 is the next (and only) one to come
        assert wait_for(lambda: pattern.status().frames >= 7, WAIT), pattern.status()
        marker = pattern.mailbox.take_new()
        after = pattern.status()
    finally:
        pattern.stop()
    assert status.healthy and status.granted == (64, 48, 40.0) and status.frames == 6
    assert status.last_frame_age == pytest.approx(0.015)
    assert marker is not None and np.array_equal(marker.pixels, pattern.frame_at(6 / 40).pixels)
    assert after.frames == 7  # one frame for the step, none while the clock stood still


def write_gif(path: Path, durations_ms: list[int]) -> Path:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (32, 24), colour) for colour in colours[: len(durations_ms)]]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations_ms, loop=0)
    return path


def dominant_channel(frame: Frame) -> int:
    return int(np.argmax(frame.pixels.reshape(-1, 3).mean(axis=0)))


def test_gif_honours_per_frame_durations_and_loops(tmp_path):
    gif = GifSource(GifConfig(path=write_gif(tmp_path / "anim.gif", [100, 300, 200])))
    channels = {t: dominant_channel(gif.frame_at(t)) for t in (0.05, 0.15, 0.39, 0.41, 0.59, 0.61, 0.75)}
    assert channels == {0.05: 0, 0.15: 1, 0.39: 1, 0.41: 2, 0.59: 2, 0.61: 0, 0.75: 1}
    assert gif.frame_at(0.61).seq == 3 and gif.frame_at(0.61).pixels.shape == (24, 32, 3)


def test_image_folder_shows_pictures_in_name_order(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    Image.new("RGB", (40, 30), (0, 255, 0)).save(folder / "b.png")
    Image.new("RGB", (20, 10), (255, 0, 0)).save(folder / "a.jpg")
    Image.new("RGB", (40, 30), (0, 0, 255)).save(folder / "c.webp")
    (folder / "notes.txt").write_text("not a picture")
    images = ImageFolderSource(ImageFolderConfig(folder=folder, seconds_per_image=2.0))
    assert [p.name for p in images.paths] == ["a.jpg", "b.png", "c.webp"]
    assert [dominant_channel(images.frame_at(t)) for t in (0.0, 1.9, 2.0, 4.5, 6.1)] == [0, 0, 1, 2, 0]
    assert images.frame_at(6.1).seq == 3 and images.frame_at(0.0).pixels.shape == (10, 20, 3)


# ---------------------------------------------------------------- configs and the factory


def test_source_config_is_chosen_by_kind():
    adapter = TypeAdapter(SourceConfig)
    video = adapter.validate_python({"kind": "video", "path": "clip.mp4"})
    assert isinstance(video, VideoFileConfig) and video.path == Path("clip.mp4") and video.loop
    camera = adapter.validate_python({"kind": "camera", "device": 1, "fps": 60})
    assert isinstance(camera, CameraConfig) and camera.device == 1
    assert isinstance(adapter.validate_python({"kind": "pattern"}), TestPatternConfig)
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        adapter.validate_python({"kind": "webcam"})
    with pytest.raises(ValidationError, match="loops"):
        adapter.validate_python({"kind": "video", "path": "clip.mp4", "loops": True})
    with pytest.raises(ValidationError, match="backoff_max"):
        adapter.validate_python({"kind": "camera", "backoff_start": 5, "backoff_max": 1})


def test_open_source_dispatches_on_the_config(video, tmp_path):
    ticks = iter(range(1000))
    clock = lambda: float(next(ticks))  # noqa: E731
    assert isinstance(open_source(VideoFileConfig(path=video)), VideoFileSource)
    assert isinstance(open_source(CameraConfig(device=0)), CameraSource)
    pattern = open_source(TestPatternConfig(), clock=clock)
    assert isinstance(pattern, TestPatternSource) and pattern.clock is clock
    assert isinstance(pattern.status(), SourceStatus)
    gif = open_source(GifConfig(path=write_gif(tmp_path / "g.gif", [100, 100])))
    assert isinstance(gif, GifSource)
    with pytest.raises(TypeError, match="no source for"):
        open_source(object())
