"""Render a CPPN's latent walks to files: animated GIF or H.264 MP4 (stills: trainers.common.images).

Walk latents come from live.scenes.cppn_math.walk, the same maths the live
loop morphs with, so a rendered walk previews what the stage will show. The
writer is picked from the output file's suffix; frames stream into it one at a
time so a long 4K walk never sits in memory whole. MP4s go through
live.output.video's VideoWriter, the project's one H.264 writer.
"""
from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from live.output.video import VideoWriter, even_size
from live.scenes.cppn_math import Interpolation, walk
from trainers.common.images import to_uint8
from trainers.cppn.model import CPPN

WALK_SUFFIXES = (".gif", ".mp4")


def walk_frame_count(keyframe_count: int, steps_per_segment: int, loop: bool) -> int:
    """Frames in a walk: one per step of each segment, plus the last keyframe when not looping."""
    segments = keyframe_count if loop else keyframe_count - 1
    return segments * steps_per_segment + (0 if loop else 1)


def render_walk(model: CPPN, keyframes: np.ndarray, steps_per_segment: int, how: Interpolation = "slerp",
                loop: bool = False, width: int = 512, height: int = 512, scale: float | None = None,
                keep_aspect: bool = False) -> Iterator[np.ndarray]:
    """Yield the walk's frames as (H, W, 3) uint8 RGB; gray networks are repeated to three channels."""
    for latent in walk(keyframes, steps_per_segment, how, loop):
        image = model.render(width, height, torch.from_numpy(latent), scale=scale, keep_aspect=keep_aspect)
        yield to_uint8(image.expand(-1, -1, 3))


def write_walk(frames: Iterable[np.ndarray], path: str | Path, fps: float, total: int | None = None) -> int:
    """Write (H, W, 3) uint8 frames to a .gif or .mp4 chosen by suffix; returns the frames written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WALK_SUFFIXES:
        raise ValueError(f"{path}: unknown walk format {path.suffix!r}; use {' or '.join(WALK_SUFFIXES)}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = tqdm(frames, total=total, desc=f"walk -> {path.name}", unit="frame")
    return _write_gif(frames, path, fps) if suffix == ".gif" else _write_mp4(frames, path, fps)


def _write_gif(frames: Iterable[np.ndarray], path: Path, fps: float) -> int:
    # GIF has no streaming writer in Pillow: frames are collected as (H, W, 3) arrays first.
    frames = list(frames)
    return save_gif(frames, path, [1.0 / fps] * len(frames))


def centisecond_delays(durations: Sequence[float]) -> list[int]:
    """Whole-centisecond GIF delays for frames meant to last `durations` seconds, rounding each
    frame's end time rather than each delay, so the error never adds up: 30 fps becomes 3, 3, 4,
    3, 3, 4 cs (exactly 1 s per 30 frames) where 3 cs each would play 10% fast."""
    ends = np.rint(np.cumsum(np.asarray(durations, dtype=np.float64)) * 100.0).astype(int)
    return np.diff(ends, prepend=0).tolist()


def save_gif(frames: Sequence[np.ndarray], path: str | Path, durations: Sequence[float]) -> int:
    """Write (H, W, 3) uint8 frames as a looping GIF, frame i shown durations[i] seconds (as
    centisecond_delays rounds them); returns the frames written."""
    path = Path(path)
    if not frames:
        raise ValueError(f"{path}: a GIF needs at least one frame")
    if len(durations) != len(frames):
        raise ValueError(f"{path}: {len(frames)} frames but {len(durations)} durations")
    # palette images keep them at a third of their RGB size. Pillow merges identical
    # consecutive frames into one longer one, so timing holds but n_frames can be
    # lower than the count returned (only for a network that ignores its latent).
    images = [Image.fromarray(np.ascontiguousarray(frame), "RGB").quantize(colors=256) for frame in frames]
    delays_ms = [10 * cs for cs in centisecond_delays(durations)]  # Pillow stores ms // 10
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=delays_ms,
                   loop=0, disposal=1)  # loop=0: forever
    return len(images)


def _write_mp4(frames: Iterable[np.ndarray], path: Path, fps: float) -> int:
    frames = iter(frames)
    first = next(frames, None)  # the file's size is the first frame's, known only once it is rendered
    if first is None:
        raise ValueError(f"{path}: a walk needs at least one frame")
    height, width = first.shape[:2]
    even_width, even_height = even_size(width, height)
    if (even_width, even_height) != (width, height):
        tqdm.write(f"{path}: H.264 yuv420p needs even sides; writing {even_width}x{even_height} "
                   f"(cropped from {width}x{height})", file=sys.stderr)
    with VideoWriter(path, even_width, even_height, fps) as writer:
        for frame in itertools.chain([first], frames):
            writer.write(frame[:even_height, :even_width])  # at most one column and one row cropped
    return writer.frames_written
