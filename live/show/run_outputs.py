"""What a live run writes beside the screen, each on its own schedule: the status file, screenshots, the recording."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from live.output.recorder import Recorder
from live.output.video import even_size

STATUS_EVERY = 0.25  # seconds between rewrites of the status file


class StatusFile:
    """The HUD's text in a file, rewritten every STATUS_EVERY seconds, for a watcher without the screen."""

    def __init__(self, path: Path):
        self.path = path
        self._next = 0.0  # show time of the next rewrite

    def update(self, now: float, text: Callable[[], str]) -> None:
        if now < self._next:
            return
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(text() + "\n", encoding="utf-8")
        os.replace(partial, self.path)  # replaced whole, so a watcher never reads half of it
        self._next = now + STATUS_EVERY


class Screenshots:
    """A PNG of the screen into `folder` every `every` seconds of show time."""

    def __init__(self, folder: Path, every: float):
        self.folder = folder
        self.every = every
        self._next = 0.0  # show time of the next screenshot

    def take(self, now: float, pixels: Callable[[], np.ndarray], number: int) -> Path | None:
        """The screen as frame-<number>.png if one is due at `now`; its path, or None."""
        if now < self._next:
            return None
        from PIL import Image

        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"frame-{number:06d}.png"
        partial = path.with_name(path.name + ".partial")
        # the fastest zlib level: the default took 0.3 s a picture of a styled scene on a busy CPU, on the loop
        Image.fromarray(np.ascontiguousarray(pixels())).save(partial, format="PNG", compress_level=1)
        os.replace(partial, path)  # whole, so a watcher never reads half a picture
        self._next = now + self.every
        return path


class Recording:
    """Every presented frame into a recorder, while it can take them; `problem` says why it cannot."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self.problem = ""

    def add(self, pixels: np.ndarray, at: float) -> None:
        recorder = self.recorder
        height, width = pixels.shape[:2]
        if recorder.error is not None:  # a full disk, say: the file keeps what was written before
            self.problem = f"recording stopped: {recorder.error}"
            return
        if even_size(width, height) != (recorder.width, recorder.height):
            self.problem = "recording paused: the window changed size"  # the file keeps its first size
            return
        recorder.submit(pixels[:recorder.height, :recorder.width], at)
