"""A pipeline scene: frames from a source, through a chain of filters, optionally through an image model.

This is the Cubist Mirror's scene: a camera, auto-Canny edges, a pix2pix
model; or a camera straight into a style network. Live, it takes the source's
newest frame and only recomputes when a new one has come; in rehearsal it asks
the source for the frame that belongs to time t. When the source is unhealthy
or silent it raises SceneUnavailable, and the stage decides what to show.
"""
from __future__ import annotations

import cv2
import numpy as np

from live.scenes.contract import STILL, Drive
from live.inference.engine import Engine
from live.scenes.filters import FilterChain
from live.core.frames import Frame
from live.inference.model_io import ImageModelIO


class SceneUnavailable(RuntimeError):
    """A scene that has nothing good to show right now; the message says why, for the HUD."""


class PipelineScene:
    def __init__(self, source, chain: FilterChain, engine: Engine | None, rehearsal: bool):
        self.source = source
        self.chain = chain
        self.engine = engine
        self.rehearsal = rehearsal
        self.captured_at: float | None = None  # source clock time of the frame last rendered
        self._io = ImageModelIO(engine.card) if engine is not None else None
        self._last_seq = -1
        self._last_drive: tuple | None = None  # (canny sigma, style strength) of the last render
        self._output: np.ndarray | None = None  # (H, W, 3) uint8 RGB, reused
        self._plain: np.ndarray | None = None  # (H, W, 3) uint8: the unstyled picture at output size

    @property
    def last_output(self) -> np.ndarray | None:
        """The last picture rendered, held on screen for a while when the source fails."""
        return self._output

    @property
    def providers(self) -> list[str]:
        return self.engine.providers if self.engine is not None else []

    def start(self) -> None:
        if not self.rehearsal:
            self.source.start()

    def stop(self) -> None:
        if not self.rehearsal:
            self.source.stop()

    def warm_up(self, width: int, height: int) -> None:
        if self.engine is not None:
            blank = np.zeros((height, width, 3), dtype=np.uint8)
            self.engine.warm_up({self.engine.input_names[0]: self._io.to_input(self.chain.apply(blank))})

    def render(self, t: float, width: int, height: int, drive: Drive = STILL) -> np.ndarray:
        """(height, width, 3) uint8 RGB for time t (seconds); the array is reused."""
        frame = self.source.frame_at(t) if self.rehearsal else self._live_frame()
        unchanged = frame.seq == self._last_seq and (drive.canny_sigma, drive.style_strength) == self._last_drive
        if unchanged and self._output is not None and self._output.shape[:2] == (height, width):
            return self._output  # nothing new from the source or the performer: the last picture stands
        filtered = self.chain.apply(frame.pixels, drive.canny_sigma)
        if self._io is None:
            self._output = _resized(filtered, width, height, self._output)
        else:
            name = self.engine.input_names[0]
            result = self.engine.run({name: self._io.to_input(filtered)})[self.engine.output_names[0]]
            self._output = self._io.to_frame(result, width, height)
            if self.engine.card.kind == "style" and drive.style_strength < 1.0:
                self._mix_in_source(filtered, drive.style_strength)
        self._last_seq, self._last_drive = frame.seq, (drive.canny_sigma, drive.style_strength)
        self.captured_at = frame.captured_at
        return self._output

    def _mix_in_source(self, filtered: np.ndarray, strength: float) -> None:
        """Style strength below 1: the unstyled picture shows through (in place, in the output)."""
        height, width = self._output.shape[:2]
        self._plain = _resized(filtered, width, height, self._plain)
        cv2.addWeighted(self._output, strength, self._plain, 1.0 - strength, 0.0, dst=self._output)

    def _live_frame(self) -> Frame:
        # Whether a silent source has stalled is the source's call: a camera has its
        # stall timeout, while a still picture may rightly not change for minutes.
        status = self.source.status()
        frame = self.source.mailbox.newest()
        if not status.healthy:
            raise SceneUnavailable(status.message)
        if frame is None:
            raise SceneUnavailable("waiting for the first frame")
        return frame


def _resized(image: np.ndarray, width: int, height: int, out: np.ndarray | None) -> np.ndarray:
    if image.shape[:2] == (height, width):
        return image
    if out is None or out.shape != (height, width, 3):
        out = np.empty((height, width, 3), dtype=np.uint8)
    return cv2.resize(image, (width, height), dst=out, interpolation=cv2.INTER_LINEAR)
