"""Video files out: an H.264 writer (PyAV) fed with RGB frames, and a live Recorder in front of it.

Frames are (H, W, 3) uint8 RGB with even width and height (yuv420p needs
them). The VideoWriter is synchronous, for rehearsal: frame i is stamped at
exactly i / fps seconds, or, when opened `timestamped`, at the time in seconds
each write names (a variable-frame-rate file on a 1/90000 s time base). The
Recorder is for `--record` during a live show: the render thread copies each
shown frame into one of a fixed pool of buffers and returns at once; an encoder
thread writes them, stamped with when they were shown. When the pool is full
the frame is dropped and counted, so recording never stalls the show, and an
encoder error stops the recording, not the show.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import numpy as np

logger = logging.getLogger("latentstage.record")

# Ticks per second of a timestamped file: the MPEG clock, fine enough that frames
# shown a fraction of a millisecond apart still get distinct timestamps.
TIMESTAMP_TICKS_PER_SECOND = 90_000


def check_even_size(width: int, height: int) -> None:
    if width % 2 or height % 2:
        raise ValueError(f"H.264 (yuv420p) needs an even width and height, got {width}x{height}")


def rgb_frame(width: int, height: int) -> tuple[av.VideoFrame, np.ndarray]:
    """A reusable RGB frame and an (H, W, 3) uint8 view of its pixels to fill in place.

    The view skips the padding FFmpeg may put at the end of each row (line_size)."""
    frame = av.VideoFrame(width, height, "rgb24")
    plane = frame.planes[0]
    rows = np.frombuffer(plane, np.uint8).reshape(height, plane.line_size)
    return frame, rows[:, :width * 3].reshape(height, width, 3)


class VideoWriter:
    def __init__(self, path: str | Path, width: int, height: int, fps: float, crf: int = 18,
                 *, timestamped: bool = False):
        check_even_size(width, height)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.frames_written = 0
        self.timestamped = timestamped
        self._last_pts = -1
        self._container = av.open(str(self.path), mode="w")
        # `rate` stays the nominal frame rate either way: x264's rate control budgets by it.
        self._stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(crf), "preset": "veryfast"}
        if timestamped:
            self._stream.codec_context.time_base = Fraction(1, TIMESTAMP_TICKS_PER_SECOND)

    def write(self, rgb: np.ndarray, at: float | None = None) -> None:
        """Encode one (H, W, 3) uint8 RGB frame; `at` (seconds from the file's start) is
        required for a timestamped writer and refused otherwise."""
        self.write_frame(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24"), at)

    def write_frame(self, frame: av.VideoFrame, at: float | None = None) -> None:
        """Encode an RGB frame (see rgb_frame); the frame may be refilled once this returns,
        because encoding converts it to a new yuv420p frame first."""
        frame.pts = self._next_pts(at)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1

    def _next_pts(self, at: float | None) -> int:
        if (at is None) == self.timestamped:
            raise ValueError("a timestamped VideoWriter needs `at` for each frame; an exact-rate one takes none")
        if at is None:
            pts = self.frames_written  # in 1/fps ticks
        else:
            # Strictly increasing, as the muxer demands: a frame stamped at or before its
            # predecessor (same tick, or a clock step back) goes one tick (11 us) after it.
            pts = max(round(at * TIMESTAMP_TICKS_PER_SECOND), self._last_pts + 1)
        self._last_pts = pts
        return pts

    def close(self) -> None:
        for packet in self._stream.encode():  # flush the encoder's delayed frames
            self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class Recorder:
    """Records the live show without ever holding up the render thread.

    submit() runs on the render thread and only copies; start() and close() run on
    the thread that owns the show. Counters: `submitted` frames offered, `written`
    frames in the file, `dropped` the rest (pool full, or lost to an encoder error),
    so written + dropped == submitted once close() has returned."""

    def __init__(self, path: str | Path, width: int, height: int, fps: float, queue_size: int = 8,
                 clock: Callable[[], float] = time.perf_counter):
        check_even_size(width, height)
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self.queue_size = queue_size
        self.clock = clock
        self.submitted = 0
        self.written = 0
        self.error: Exception | None = None  # what stopped the encoder, if anything did
        self._dropped_by_submit = 0  # render thread's count
        self._lost_by_encoder = 0  # encoder thread's count; separate, so neither races the other
        self._failed = threading.Event()
        self._frames: list[av.VideoFrame] = []  # the pool: one reusable RGB frame per slot
        self._pixels: list[np.ndarray] = []  # (H, W, 3) uint8 views into those frames
        self._shown_at: list[float] = []
        # Pool slot indices: free ones wait in `_free`, filled ones in `_filled` (FIFO, so slots
        # are reused round-robin). None in `_filled` tells the encoder to finish.
        self._free: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._filled: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._writer: VideoWriter | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def dropped(self) -> int:
        return self._dropped_by_submit + self._lost_by_encoder

    def start(self) -> None:
        """Open the file (errors here are the caller's: a bad path should stop `--record` before
        the show starts), allocate the pool and start the encoder thread."""
        if self._thread is not None:
            raise RuntimeError("Recorder.start() called twice")
        self._writer = VideoWriter(self.path, self.width, self.height, self.fps, timestamped=True)
        pool = [rgb_frame(self.width, self.height) for _ in range(self.queue_size)]
        self._frames = [frame for frame, _ in pool]
        self._pixels = [pixels for _, pixels in pool]
        self._shown_at = [0.0] * self.queue_size
        for index in range(self.queue_size):
            self._free.put(index)
        self._thread = threading.Thread(target=self._encode_until_closed, name="latentstage-recorder", daemon=True)
        self._thread.start()

    def submit(self, rgb: np.ndarray, shown_at: float) -> bool:
        """Copy one shown (H, W, 3) uint8 RGB frame for the encoder; `shown_at` in seconds on
        the show's clock. Returns at once: False when the frame was dropped."""
        if self._thread is None or self._closed:
            raise RuntimeError("Recorder.submit() needs start() first and no close()")
        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != np.uint8:
            raise ValueError(f"recording is {self.width}x{self.height}: frames must be ({self.height}, "
                             f"{self.width}, 3) uint8, got {rgb.shape} {rgb.dtype}")
        self.submitted += 1
        if self._failed.is_set():
            self._dropped_by_submit += 1
            return False
        try:
            index = self._free.get_nowait()
        except queue.Empty:  # the encoder is behind: this frame is not recorded
            self._dropped_by_submit += 1
            return False
        np.copyto(self._pixels[index], rgb)
        self._shown_at[index] = shown_at
        self._filled.put(index)
        return True

    def close(self) -> None:
        """Write what is queued, flush the encoder, close the file and join the thread.
        Call it after the last submit(), from the thread that called start()."""
        if self._closed or self._thread is None:
            self._closed = True
            return
        self._closed = True
        self._filled.put(None)
        self._thread.join()

    def __enter__(self) -> Recorder:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _encode_until_closed(self) -> None:
        assert self._writer is not None
        started = self.clock()
        first_shown_at: float | None = None
        while (index := self._filled.get()) is not None:
            if self._failed.is_set():
                self._lost_by_encoder += 1
            else:
                if first_shown_at is None:
                    first_shown_at = self._shown_at[index]
                self._write(index, self._shown_at[index] - first_shown_at)
            self._free.put(index)
        self._finish(self.clock() - started)

    def _write(self, index: int, at: float) -> None:
        assert self._writer is not None
        try:
            self._writer.write_frame(self._frames[index], at)
            self.written += 1
        except Exception as error:  # PyAV raises many kinds (disk full, codec errors); all stop recording
            self._lost_by_encoder += 1
            self._stop(error)

    def _finish(self, seconds: float) -> None:
        assert self._writer is not None
        try:
            self._writer.close()
        except Exception as error:  # a failed flush loses the tail of the file, not the show
            self._stop(error)
        logger.info("recorded %d of %d frames (%d dropped) to %s in %.1f s",
                    self.written, self.submitted, self.dropped, self.path, seconds)

    def _stop(self, error: Exception) -> None:
        if not self._failed.is_set():
            self.error = error
            logger.error("recording to %s stopped: %s; the show goes on", self.path, error)
        self._failed.set()
