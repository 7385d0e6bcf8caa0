"""The live recorder behind `--record`: the show written to an H.264 file as it is shown.

The render thread copies each shown (H, W, 3) uint8 RGB frame into one of a
fixed pool of buffers and returns at once; an encoder thread writes them
through the VideoWriter, stamped with when they were shown (a
variable-frame-rate file). When the pool is full the frame is dropped and
counted, so recording never stalls the show, and an encoder error stops the
recording, not the show.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Callable

import av
import numpy as np

from live.output.video import VideoWriter, check_even_size, rgb_frame

logger = logging.getLogger("latentstage.record")


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

    def figures(self) -> dict:
        """Its counters and what stopped it, as plain JSON-able values (for --stats-json)."""
        return {"path": str(self.path), "submitted": self.submitted, "written": self.written,
                "dropped": self.dropped, "error": None if self.error is None else str(self.error)}

    def start(self) -> None:
        """Open the file (errors here are the caller's: a bad path should stop `--record` before
        the show starts), allocate the pool and start the encoder thread."""
        if self._thread is not None:
            raise RuntimeError("Recorder.start() called twice")
        self._writer = VideoWriter(self.path, self.width, self.height, self.fps, timestamped=True, crash_safe=True)
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
        if self.error is not None:  # frames the encoder took but the disk never got are lost too
            playable = frames_in_file(self.path)
            self._lost_by_encoder += max(0, self.written - playable)
            self.written = min(self.written, playable)
        logger.info("recorded %d of %d frames (%d dropped) to %s in %.1f s",
                    self.written, self.submitted, self.dropped, self.path, seconds)

    def _stop(self, error: Exception) -> None:
        if not self._failed.is_set():
            self.error = error
            logger.error("recording to %s stopped: %s; the show goes on", self.path, error)
        self._failed.set()


def frames_in_file(path: Path) -> int:
    """Video frames a player shows of a recording cut short. The packets are counted without decoding up
    to the last keyframe (a second before the end at most), and the frames from there decoded, as the
    last packet may be cut off."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            packets, last_keyframe, before_it = 0, None, 0
            for packet in container.demux(stream):
                if packet.size and packet.is_keyframe:
                    last_keyframe, before_it = packet.pts, packets
                packets += bool(packet.size)
            if last_keyframe is None:
                return 0
            container.seek(last_keyframe, stream=stream)
            tail = 0
            try:
                for _ in container.decode(stream):
                    tail += 1
            except av.error.InvalidDataError:  # the cut-off end of the last fragment
                pass
            return before_it + tail
    except (av.error.FFmpegError, OSError, IndexError):  # nothing readable, or no video at all
        return 0
