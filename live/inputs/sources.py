"""Frame sources: camera, video file, image folder, GIF and test pattern behind one small interface.

Every source runs on a `SupervisedWorker` from `start()` to `stop()`, puts
(H, W, 3) uint8 RGB frames into a latest-wins `mailbox`, and reports its
health through `status()`. The camera is released and reopened with
exponential backoff, forever, whenever it fails to open, stops delivering,
stalls or freezes on one picture. The file and pattern sources are timelines:
`frame_at(t)` gives the frame that shows t seconds in, the same every time,
which is what rehearsal runs on; their workers publish the same timeline in
real time, skipping frames rather than drifting when they fall behind, and
replay a file gone bad with backoff. Time comes from the `clock` passed in.
Published pixels are shared between threads: treat them as read-only.
"""
from __future__ import annotations

import bisect
import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Callable, Literal, Protocol, Union

import av
import cv2
import numpy as np
from PIL import Image, ImageSequence
from pydantic import Field, model_validator

from live.core.clock import Clock
from live.core.config import Settings
from live.core.frames import Frame, Mailbox
from live.core.worker import SupervisedWorker, WorkFailure

log = logging.getLogger("latentstage.sources")
# OpenCV writes its own warnings to stderr on every failed open ("can't open camera by index"),
# once per retry; the supervised worker already says it once, in our words.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
IDLE_CHECK = 0.25  # seconds: the longest a timeline thread sleeps before looking at the clock again
# seconds: first and longest wait before replaying a file gone bad; trying a file is cheap, and a file put
# back should play again within a couple of seconds
TIMELINE_BACKOFF = (0.5, 1.0)
FILE_CHECK = 1.0  # seconds between looks at whether a playing file is still there


@dataclass(frozen=True)
class SourceStatus:
    healthy: bool
    message: str  # what is wrong, or "ok"
    frames: int  # frames published since construction
    failures: int  # open/read failures, stalls and freezes
    reconnects: int  # times it delivered frames again after a failure
    granted: tuple[int, int, float] | None  # (width, height, fps) actually delivered; None before the first open
    last_frame_age: float | None  # seconds since the last frame was published; None before the first


class Source(Protocol):
    mailbox: Mailbox[Frame]

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def status(self) -> SourceStatus: ...

    def frame_at(self, t: float) -> Frame: ...


# ---------------------------------------------------------------- configs


class CameraConfig(Settings):
    kind: Literal["camera"] = "camera"
    device: int | str = 0  # an index (/dev/video0 is 0), a device path, a stream URL or a video file
    width: int = Field(1280, ge=16)  # pixels requested; the driver may grant another size
    height: int = Field(720, ge=16)
    fps: float = Field(30.0, gt=0, le=240)  # requested
    stall_timeout: float = Field(2.0, gt=0)  # seconds without a frame that count as a failure
    # Seconds of bit-identical frames that count as a failure although the driver reports success.
    # Sensor noise changes a live picture every frame, even of an empty room; None turns it off.
    frozen_after: float | None = Field(10.0, gt=0)
    backoff_start: float = Field(0.5, gt=0)  # seconds before the first reconnect attempt
    # seconds; the wait doubles up to this. Short, so a replugged camera shows again within about a
    # second however long it was away (bench/recovery_bench.py); a failed open costs next to nothing.
    backoff_max: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _backoff_order(self) -> CameraConfig:
        if self.backoff_max < self.backoff_start:
            raise ValueError(f"backoff_max ({self.backoff_max}) is below backoff_start ({self.backoff_start})")
        return self


class VideoFileConfig(Settings):
    kind: Literal["video"] = "video"
    path: Path  # relative paths are resolved by the show loader, not here
    loop: bool = True  # False: hold the last frame at the end


class ImageFolderConfig(Settings):
    kind: Literal["images"] = "images"
    folder: Path
    seconds_per_image: float = Field(5.0, gt=0)


class GifConfig(Settings):
    kind: Literal["gif"] = "gif"
    path: Path


class TestPatternConfig(Settings):
    __test__ = False  # not a pytest test class, whatever its name says
    kind: Literal["pattern"] = "pattern"
    width: int = Field(640, ge=16)
    height: int = Field(360, ge=16)
    fps: float = Field(30.0, gt=0, le=240)


SourceConfig = Annotated[
    Union[CameraConfig, VideoFileConfig, ImageFolderConfig, GifConfig, TestPatternConfig],
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------- what every source shares


class _FrameSource:
    """A source's mailbox, frame count and status around the worker that runs its `_work`."""

    def __init__(self, name: str, clock: Clock, backoff_start: float, backoff_max: float):
        self.name = name
        self.clock = clock
        self.mailbox: Mailbox[Frame] = Mailbox()
        self.worker = SupervisedWorker(name, self._work, clock, backoff_start, backoff_max)
        self._lock = threading.Lock()  # guards the figures below, written by the worker, read by status()
        self._frames = 0
        self._granted: tuple[int, int, float] | None = None
        self._last_frame_at: float | None = None  # clock seconds
        self._note = "ok"  # its status message while healthy: "ok", or what the operator should know

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()

    def status(self) -> SourceStatus:
        health = self.worker.health()
        with self._lock:
            age = None if self._last_frame_at is None else self.clock() - self._last_frame_at
            return SourceStatus(health.healthy, health.message, self._frames, health.failures, health.restarts,
                                self._granted, age)

    def _work(self, worker: SupervisedWorker) -> None:
        """Publish frames until worker.stopping (return) or a failure (raise)."""
        raise NotImplementedError

    def _publish(self, pixels: np.ndarray, captured_at: float) -> None:
        with self._lock:
            frame = Frame(pixels, captured_at, self._frames)
            self._frames += 1
            self._last_frame_at = captured_at
        self.worker.mark_healthy(self._note)
        self.mailbox.put(frame)


# ---------------------------------------------------------------- camera


class CameraSource(_FrameSource):
    """A cv2.VideoCapture read on its own thread, reopened with backoff whenever it fails.

    Given a video file as its device it stands in for a camera: reads are paced
    at the file's frame rate (a camera's read blocks until the next frame, a
    file's does not), and the end of the file is a lost camera."""

    def __init__(self, config: CameraConfig, clock: Clock = time.perf_counter):
        super().__init__(f"camera {config.device!r}", clock, config.backoff_start, config.backoff_max)
        self.config = config
        self._progress_at: float | None = None  # clock seconds of the last open or frame, for stall detection

    def frame_at(self, t: float) -> Frame:
        # the same words at every t: the stage logs a scene's failure once, not once per frame
        raise RuntimeError(f"{self.name} is live and cannot be rehearsed; "
                           "rehearse with a video file source (`kind: video`) instead")

    def status(self) -> SourceStatus:
        """Reported as unhealthy once no frame came for stall_timeout, even while a read call hangs."""
        status = super().status()
        with self._lock:
            progress_at = self._progress_at
        if status.healthy and progress_at is not None:
            waited = self.clock() - progress_at
            if waited > self.config.stall_timeout:
                return replace(status, healthy=False, message=f"stalled: no frame for {waited:.1f} s")
        return status

    def _work(self, worker: SupervisedWorker) -> None:
        capture = self._open()
        try:
            self._read_until_stopped(capture, worker)
        finally:
            capture.release()

    def _open(self) -> cv2.VideoCapture:
        config = self.config
        timeout_ms = int(config.stall_timeout * 1000)
        # Backends that honour these (FFmpeg streams, some V4L2 builds) return instead of hanging.
        capture = cv2.VideoCapture(config.device, cv2.CAP_ANY,
                                   [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms,
                                    cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms])
        if not capture.isOpened():
            capture.release()
            raise WorkFailure(f"could not open {config.device!r}")
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, config.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, config.height)
        capture.set(cv2.CAP_PROP_FPS, config.fps)
        granted = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                   float(capture.get(cv2.CAP_PROP_FPS)))
        requested = (config.width, config.height, config.fps)
        if granted != requested:
            log.info("%s: asked for %dx%d at %g fps, granted %dx%d at %g fps", self.name, *requested, *granted)
        with self._lock:
            self._granted = granted
            self._progress_at = self.clock()
        self.worker.mark_unhealthy("opened, waiting for the first frame")
        return capture

    def _read_until_stopped(self, capture: cv2.VideoCapture, worker: SupervisedWorker) -> None:
        """Publish frames until the worker stops (return) or the capture fails (raise WorkFailure)."""
        config = self.config
        period = self._file_period()
        freeze = _FreezeDetector(config.frozen_after)
        last_frame_at = self.clock()
        next_read_at = last_frame_at
        while not worker.stopping:
            ok, bgr = capture.read()  # (H, W, 3) uint8 BGR
            now = self.clock()
            if not ok or bgr is None:
                raise WorkFailure("no frame (device lost, or end of stream)")
            if now - last_frame_at > config.stall_timeout:  # a frame this late may be an old buffered one
                raise WorkFailure(f"stalled: a read took {now - last_frame_at:.1f} s")
            frozen_for = freeze.frozen_for(bgr, now)
            if frozen_for is not None:
                raise WorkFailure(f"frozen: the picture has not changed for {frozen_for:.1f} s")
            last_frame_at = now
            with self._lock:
                self._progress_at = now
            self._publish(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), now)  # a fresh array per frame: it crosses threads
            if period is not None:
                next_read_at = max(next_read_at + period, now - period)  # never bank more than one frame
                worker.wait(next_read_at - self.clock())

    def _file_period(self) -> float | None:
        """Seconds between reads for a file standing in for a camera; None for a real device."""
        device = self.config.device
        if not (isinstance(device, str) and Path(device).is_file()):
            return None
        fps = self._granted[2] if self._granted and self._granted[2] > 0 else self.config.fps
        return 1.0 / fps


class _FreezeDetector:
    """Notices a driver that keeps returning the same buffer.

    Compares a strided sample of about 64x48 pixels with the last one, bit for bit:
    cheap, and a live sensor's noise always changes some of them."""

    SAMPLE = (48, 64)  # rows, columns

    def __init__(self, frozen_after: float | None):
        self.frozen_after = frozen_after  # seconds, None: never
        self._sample: np.ndarray | None = None
        self._changed_at = 0.0

    def frozen_for(self, image: np.ndarray, now: float) -> float | None:
        """Seconds the picture has been unchanged, once that exceeds frozen_after; else None."""
        if self.frozen_after is None:
            return None
        step_y = max(1, image.shape[0] // self.SAMPLE[0])
        step_x = max(1, image.shape[1] // self.SAMPLE[1])
        sample = image[::step_y, ::step_x]
        if self._sample is not None and np.array_equal(sample, self._sample):
            unchanged = now - self._changed_at
            return unchanged if unchanged > self.frozen_after else None
        self._sample = sample.copy()  # the frame itself moves on to other threads
        self._changed_at = now
        return None


# ---------------------------------------------------------------- timelines


class _TimelineSource(_FrameSource):
    """A source whose picture is a function of t: frame_at for rehearsal, a thread playing it in real time.

    Subclasses say which slot (frame number, counting on across loops) shows at
    t and when it ends, and how to read a slot's pixels."""

    def __init__(self, name: str, clock: Clock):
        super().__init__(name, clock, *TIMELINE_BACKOFF)
        self._zero: float | None = None  # clock seconds at t = 0: the first attempt's start, kept across retries
        self._rehearsal_reader: Callable[[int], np.ndarray] | None = None
        self._rehearsal_lock = threading.Lock()

    def frame_at(self, t: float) -> Frame:
        """The frame that shows t seconds in; captured_at is t and seq the slot number."""
        slot, _ = self._slot_at(t)
        with self._rehearsal_lock:
            if self._rehearsal_reader is None:
                self._rehearsal_reader = self._make_reader()
            pixels = self._rehearsal_reader(slot)
        return Frame(pixels, t, slot)

    def _slot_at(self, t: float) -> tuple[int, float | None]:
        """(slot showing at t, seconds at which it ends or None if it never does)."""
        raise NotImplementedError

    def _make_reader(self) -> Callable[[int], np.ndarray]:
        """A function slot -> (H, W, 3) uint8 RGB for one thread's use."""
        raise NotImplementedError

    def _nominal_fps(self) -> float:
        raise NotImplementedError

    def _played_file(self) -> Path | None:
        """The one file it plays from memory once opened, watched while it plays; None for others."""
        return None

    def stop(self) -> None:
        super().stop()
        self._zero = None  # the next start plays from the beginning

    def _look_at_the_file(self) -> None:
        """A file deleted while it plays goes on from memory: say once that the next start will refuse it."""
        path = self._played_file()
        if path is None:
            return
        note = "ok" if path.is_file() else "file deleted"
        if note != self._note:
            if note == "ok":
                log.info("%s: %s is back", self.name, path)
            else:
                log.warning("%s: %s was deleted; it plays on from memory, but the next start will refuse it",
                            self.name, path)
            self._note = note

    def _work(self, worker: SupervisedWorker) -> None:
        if self._zero is None:
            self._zero = self.clock()
        try:
            read = self._make_reader()
            shown: int | None = None
            next_look = self.clock()
            while not worker.stopping:
                if self.clock() >= next_look:
                    self._look_at_the_file()
                    next_look = self.clock() + FILE_CHECK
                slot, ends_at = self._slot_at(self.clock() - self._zero)
                if slot != shown:  # when behind, this jumps straight to the current slot
                    pixels = read(slot)
                    with self._lock:
                        self._granted = (pixels.shape[1], pixels.shape[0], self._nominal_fps())
                    self._publish(pixels, self.clock())
                    shown = slot
                wait = IDLE_CHECK if ends_at is None else ends_at - (self.clock() - self._zero)
                worker.wait(min(wait, IDLE_CHECK))
        except (OSError, ValueError, EOFError) as error:  # a file deleted, truncated or undecodable (PyAV's too)
            raise WorkFailure(f"playback failed: {error}") from error


def _require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")


def _slot_in_loop(ends: list[float], t: float, loop: bool) -> tuple[int, float | None]:
    """Slot and its end time for items ending at `ends` (seconds, ascending), repeated if loop."""
    count = len(ends)
    total = ends[-1]
    lap, within = divmod(max(0.0, t), total) if loop else (0, max(0.0, t))
    index = min(bisect.bisect_right(ends, within), count - 1)
    if not loop and index == count - 1:
        return index, None
    return int(lap) * count + index, lap * total + ends[index]


@dataclass(frozen=True)
class _VideoIndex:
    pts: list[int]  # presentation timestamps in stream time_base units, ascending
    ends: list[float]  # seconds from the first frame at which each frame's showing ends
    width: int
    height: int
    fps: float


def _index_video(path: Path) -> _VideoIndex:
    """Every frame's timestamp from the packets alone (no decoding), so frame_at can find any t."""
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path}: no video stream")
        stream = container.streams.video[0]
        pts = sorted(packet.pts for packet in container.demux(stream) if packet.pts is not None)
        if not pts:
            raise ValueError(f"{path}: no timestamped video frames")
        time_base = float(stream.time_base)
        rate = float(stream.average_rate) if stream.average_rate else 0.0
        period = 1.0 / rate if rate > 0 else (np.median(np.diff(pts)) * time_base if len(pts) > 1 else 0.04)
        starts = [(p - pts[0]) * time_base for p in pts]
        ends = starts[1:] + [starts[-1] + period]
        return _VideoIndex(pts, ends, stream.codec_context.width, stream.codec_context.height,
                           rate or 1.0 / period)


class _VideoDecoder:
    """Decodes the frame for an index, moving forward when it can and seeking when it must.

    Only the last frame is kept: a long rehearsal clip never fills memory, and the
    usual pattern (t moving forward) costs one decode per new frame. PyAV closes
    the file when the decoder is dropped."""

    SEEK_AHEAD = 60  # frames: jumping further forward seeks to a keyframe instead of decoding through

    def __init__(self, path: Path, index: _VideoIndex):
        self.index = index
        self._container = av.open(str(path))
        self._stream = self._container.streams.video[0]
        self._frames = self._container.decode(self._stream)
        self._position = -1  # index of the last frame decoded, -1 before any
        self._pixels: np.ndarray | None = None

    def pixels(self, number: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB of frame `number` (0-based, presentation order)."""
        if number == self._position and self._pixels is not None:
            return self._pixels
        if number < self._position or number > self._position + self.SEEK_AHEAD:
            self._seek(number)
        target = self.index.pts[number]
        for frame in self._frames:
            if frame.pts is not None and frame.pts >= target:
                self._position = number
                self._pixels = frame.to_ndarray(format="rgb24")
                return self._pixels
        raise EOFError(f"frame {number} (pts {target}) was in the index but did not decode")

    def _seek(self, number: int) -> None:
        self._container.seek(self.index.pts[number], stream=self._stream, backward=True, any_frame=False)
        self._frames = self._container.decode(self._stream)
        self._position = -1


class VideoFileSource(_TimelineSource):
    """A video file (decoded with PyAV for exact per-frame timestamps and seeking), looped by default."""

    def __init__(self, config: VideoFileConfig, clock: Clock = time.perf_counter):
        _require_file(config.path, "video file")
        super().__init__(f"video {config.path.name}", clock)
        self.config = config
        self._index: _VideoIndex | None = None
        self._index_lock = threading.Lock()

    @property
    def index(self) -> _VideoIndex:
        with self._index_lock:
            if self._index is None:
                self._index = _index_video(self.config.path)
            return self._index

    def _slot_at(self, t: float) -> tuple[int, float | None]:
        return _slot_in_loop(self.index.ends, t, self.config.loop)

    def _make_reader(self) -> Callable[[int], np.ndarray]:
        decoder = _VideoDecoder(self.config.path, self.index)
        count = len(self.index.pts)
        return lambda slot: decoder.pixels(slot % count)

    def _nominal_fps(self) -> float:
        return self.index.fps

    def _played_file(self) -> Path:
        return self.config.path


class ImageFolderSource(_TimelineSource):
    """The pictures in a folder in file-name order, each for seconds_per_image, looped."""

    def __init__(self, config: ImageFolderConfig, clock: Clock = time.perf_counter):
        self.config = config
        self.paths = self._listing()
        super().__init__(f"images {config.folder.name}", clock)
        self._cached: tuple[int, np.ndarray] | None = None  # (image number, pixels): one picture at a time
        self._cache_lock = threading.Lock()

    def _slot_at(self, t: float) -> tuple[int, float | None]:
        slot = int(max(0.0, t) // self.config.seconds_per_image)
        return slot, (slot + 1) * self.config.seconds_per_image

    def _listing(self) -> list[Path]:
        folder = self.config.folder
        if not folder.is_dir():
            raise FileNotFoundError(f"image folder not found: {folder}")
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise ValueError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
        return paths

    def _make_reader(self) -> Callable[[int], np.ndarray]:
        # listed again on every (re)start: pictures removed or added while it ran are seen, and an emptied
        # folder is one fault, said once, rather than one per picture that has gone
        paths = self._listing()
        if paths != self.paths:
            with self._cache_lock:
                self.paths, self._cached = paths, None
        return self._image

    def _image(self, slot: int) -> np.ndarray:
        number = slot % len(self.paths)
        with self._cache_lock:
            if self._cached is None or self._cached[0] != number:
                try:
                    with Image.open(self.paths[number]) as image:
                        self._cached = (number, np.asarray(image.convert("RGB")))
                except FileNotFoundError:
                    self._listing()  # an emptied folder is said as such, not as the first picture that went
                    raise
            return self._cached[1]

    def _nominal_fps(self) -> float:
        return 1.0 / self.config.seconds_per_image


class GifSource(_TimelineSource):
    """An animated GIF with its own per-frame durations, looped; decoded once (GIF frames build on each other)."""

    SHORTEST = 0.02  # seconds; shorter (or missing) durations show for DEFAULT, as browsers do
    DEFAULT = 0.1

    def __init__(self, config: GifConfig, clock: Clock = time.perf_counter):
        _require_file(config.path, "GIF")
        super().__init__(f"gif {config.path.name}", clock)
        self.config = config
        self._decoded: tuple[list[np.ndarray], list[float]] | None = None  # frames, end times in seconds
        self._decode_lock = threading.Lock()

    def _frames_and_ends(self) -> tuple[list[np.ndarray], list[float]]:
        with self._decode_lock:
            if self._decoded is None:
                self._decoded = _decode_gif(self.config.path, self.SHORTEST, self.DEFAULT)
            return self._decoded

    def _slot_at(self, t: float) -> tuple[int, float | None]:
        return _slot_in_loop(self._frames_and_ends()[1], t, loop=True)

    def _make_reader(self) -> Callable[[int], np.ndarray]:
        frames = self._frames_and_ends()[0]
        return lambda slot: frames[slot % len(frames)]

    def _nominal_fps(self) -> float:
        frames, ends = self._frames_and_ends()
        return len(frames) / ends[-1]

    def _played_file(self) -> Path:
        return self.config.path


def _decode_gif(path: Path, shortest: float, default: float) -> tuple[list[np.ndarray], list[float]]:
    frames, ends, elapsed = [], [], 0.0
    with Image.open(path) as gif:
        for frame in ImageSequence.Iterator(gif):
            frames.append(np.asarray(frame.convert("RGB")))  # Pillow composites each frame onto the last
            seconds = frame.info.get("duration", 0) / 1000.0
            elapsed += seconds if seconds >= shortest else default
            ends.append(elapsed)
    return frames, ends


class TestPatternSource(_TimelineSource):
    """Colour bars, a sweeping bar and a circling dot, stamped with frame number and time.

    A screenshot shows which frame was on screen and when it was made, so
    latency and frame order can be read off it. Frame n shows at n / fps seconds."""

    __test__ = False  # not a pytest test class, whatever its name says
    BARS = ((192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192), (192, 0, 0), (0, 0, 192))
    SWEEP_SECONDS = 2.0  # the white bar crosses the picture in this time

    def __init__(self, config: TestPatternConfig, clock: Clock = time.perf_counter):
        super().__init__(f"pattern {config.width}x{config.height}", clock)
        self.config = config
        self._background: np.ndarray | None = None  # (H, W, 3) uint8 bars, drawn once

    def _slot_at(self, t: float) -> tuple[int, float | None]:
        slot = int(np.floor(max(0.0, t) * self.config.fps + 1e-6))  # t = n / fps lands on frame n
        return slot, (slot + 1) / self.config.fps

    def _make_reader(self) -> Callable[[int], np.ndarray]:
        return self._draw

    def _nominal_fps(self) -> float:
        return self.config.fps

    def _draw(self, number: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB of frame `number`, a fresh array."""
        width, height, fps = self.config.width, self.config.height, self.config.fps
        scale = height / 240.0  # text and shapes grow with the picture
        line_height = int(40 * scale)
        band = 2 * line_height  # rows of black at the top for the text, so it reads over anything
        if self._background is None:
            self._background = _colour_bars(width, height, self.BARS)
            self._background[:band] = 0
        image = self._background.copy()
        t = number / fps
        bar_x = int((t / self.SWEEP_SECONDS % 1.0) * width)
        image[band:, bar_x:bar_x + max(2, width // 64)] = 255
        angle = 2.0 * np.pi * t / self.SWEEP_SECONDS
        below = height - band
        centre = (int(width / 2 + 0.35 * width * np.cos(angle)), int(band + below / 2 + 0.35 * below * np.sin(angle)))
        cv2.circle(image, centre, max(3, below // 10), (255, 64, 0), thickness=-1, lineType=cv2.LINE_AA)
        for row, text in enumerate((f"frame {number:06d}", f"t {t:.3f} s")):
            cv2.putText(image, text, (int(8 * scale), int((row + 1) * line_height - 10 * scale)),
                        cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), max(1, int(2 * scale)), cv2.LINE_AA)
        return image


def _colour_bars(width: int, height: int, colours: tuple[tuple[int, int, int], ...]) -> np.ndarray:
    image = np.empty((height, width, 3), dtype=np.uint8)
    edges = np.linspace(0, width, len(colours) + 1).astype(int)
    for colour, left, right in zip(colours, edges[:-1], edges[1:]):
        image[:, left:right] = colour
    return image


# ---------------------------------------------------------------- factory

_SOURCES = {
    CameraConfig: CameraSource,
    VideoFileConfig: VideoFileSource,
    ImageFolderConfig: ImageFolderSource,
    GifConfig: GifSource,
    TestPatternConfig: TestPatternSource,
}
SOURCE_CONFIGS = tuple(_SOURCES)  # the config classes a scene's block may hold a source as


def open_source(config: CameraConfig | VideoFileConfig | ImageFolderConfig | GifConfig | TestPatternConfig,
                clock: Clock = time.perf_counter) -> Source:
    """The source a config describes, not yet started."""
    source_class = _SOURCES.get(type(config))
    if source_class is None:
        raise TypeError(f"no source for {type(config).__name__}; expected one of "
                        f"{', '.join(cls.__name__ for cls in _SOURCES)}")
    return source_class(config, clock)


def check_first_frame(config: SourceConfig) -> None:
    """Raise ValueError saying why a source that plays a file cannot deliver its first frame (a video
    that does not decode, a folder with no pictures, a GIF that is not one), so a show is refused at
    home, not at the venue. A camera is not opened: it may only be plugged in at the venue, and
    opening it here would hold it from a show already using it."""
    if isinstance(config, CameraConfig):
        return
    try:
        open_source(config).frame_at(0.0)
    except av.error.FFmpegError as error:  # its text leads with FFmpeg's error number
        raise ValueError(f"{error.filename or 'the file'}: not a video PyAV can decode ({error.strerror})") from None
    except (OSError, ValueError, EOFError) as error:  # PIL's and ours
        raise ValueError(" ".join(str(error).split())) from None
