"""A camera's view of a room for presence tests: a photograph for the room, a figure walking through it, sensor
noise on every frame, and the whole picture's brightness stepping as a camera's auto-exposure does."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

SIZE = (320, 180)  # (width, height): a small camera


def room(size: tuple[int, int] = SIZE) -> np.ndarray:
    """(H, W, 3) uint8 RGB: scikit-image's coffee photograph as the empty room."""
    from skimage import data

    return cv2.resize(data.coffee(), size, interpolation=cv2.INTER_AREA)


def with_figure(picture: np.ndarray, x: float) -> np.ndarray:
    """A dark figure (head and body, a sixth of the picture's height wide) standing with its middle at
    x (0..1 of the width)."""
    out = picture.copy()
    height, width = out.shape[:2]
    middle, body = int(x * width), height // 6
    cv2.ellipse(out, (middle, height // 4), (body // 3, body // 2), 0, 0, 360, (30, 25, 35), -1)
    cv2.rectangle(out, (middle - body // 2, height // 4 + body // 2), (middle + body // 2, height - 1), (40, 30, 50), -1)
    return out


def camera_frame(picture: np.ndarray, rng: np.random.Generator, noise: float = 6.0,
                 exposure: float = 1.0) -> np.ndarray:
    """The picture as a camera gives it: times the exposure gain, plus sensor noise (grey levels, std)."""
    noisy = picture.astype(np.float32) * exposure + rng.normal(0.0, noise, picture.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def visit_then_empty(walk: float, still: float, fps: float, seed: int = 0, noise: float = 6.0,
                     exposure_step_at: float | None = None, size: tuple[int, int] = SIZE,
                     empty_first: float = 0.5) -> Iterator[np.ndarray]:
    """Frames of the empty room for `empty_first` seconds (the camera starts on it), `walk` seconds of a
    figure crossing it, `still` seconds of the empty room (its exposure stepping up by a third at
    `exposure_step_at` seconds into it), then `walk` seconds of the figure crossing back."""
    rng = np.random.default_rng(seed)
    empty = room(size)
    for _ in range(round(empty_first * fps)):
        yield camera_frame(empty, rng, noise)
    for index in range(round(walk * fps)):
        yield camera_frame(with_figure(empty, 0.1 + 0.8 * index / (walk * fps)), rng, noise)
    for index in range(round(still * fps)):
        stepped = exposure_step_at is not None and index / fps >= exposure_step_at
        yield camera_frame(empty, rng, noise, 1.33 if stepped else 1.0)
    for index in range(round(walk * fps)):
        yield camera_frame(with_figure(empty, 0.9 - 0.8 * index / (walk * fps)), rng, noise)


def write_room_clip(path: Path, walk: float, still: float, fps: float = 15.0, size: tuple[int, int] = SIZE,
                    **options) -> Path:
    """visit_then_empty as a real H.264 file of `size` (width, height)."""
    from live.output.video import VideoWriter

    with VideoWriter(path, *size, fps) as writer:
        for frame in visit_then_empty(walk, still, fps, size=size, **options):
            writer.write(frame)
    return path
