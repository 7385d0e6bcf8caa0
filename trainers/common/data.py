"""Datasets from files: single pictures, image folders and the frames of a video.

Pictures are read with Pillow and videos decoded with PyAV (no ffmpeg binary).
A dataset item is a (C, H, W) float32 tensor in [0, 1], C = 1 (gray) or 3
(RGB), the layout torch's networks and default_collate expect; trainers that
want [-1, 1] rescale in their own step. To batch, every item is brought to one
size by cropping to its aspect and resizing (Pillow's ImageOps.fit), so
nothing is stretched. Bad input is a one-line error naming the file: a missing
or empty folder, an unreadable picture, a file that is not a video.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import Dataset

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")


def open_image(path: str | Path, channels: int = 3) -> Image.Image:
    """The picture in `path`, fully decoded, as gray ("L", channels=1) or RGB (channels=3)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image")
    try:
        with Image.open(path) as picture:
            return picture.convert(_mode(channels))  # convert decodes: a truncated file fails here
    except OSError as error:
        raise ValueError(f"{path}: not a readable image ({error})") from None


def load_picture(path: str | Path, longest_side: int, channels: int = 3) -> np.ndarray:
    """The picture as (H, W, channels) float32 in [0, 1], shrunk or grown so its longest side is
    `longest_side` pixels, aspect kept."""
    picture = open_image(path, channels)
    ratio = longest_side / max(picture.size)
    width, height = (max(1, round(side * ratio)) for side in picture.size)
    pixels = np.asarray(picture.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32) / 255.0
    return pixels.reshape(height, width, channels)


def picture_files(folder: str | Path, what: str = "pictures", recursive: bool = False) -> list[Path]:
    """The picture files of one folder (with `recursive`, of its sub-folders too) in sorted path order; a
    one-line error for a missing folder or one with none. Hidden files are left out: the atomic writers'
    temporaries start with a dot."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    found = folder.rglob("*") if recursive else folder.iterdir()
    files = sorted(path for path in found
                   if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file())
    if not files:
        raise ValueError(f"{folder}: no {what} ({', '.join(IMAGE_SUFFIXES)})")
    return files


class ImageFolder(Dataset):
    """The pictures of one folder (with `recursive`, of its sub-folders too), in sorted path order, each
    fitted to `size`."""

    def __init__(self, folder: str | Path, size: tuple[int, int], channels: int = 3, recursive: bool = False):
        self.files = picture_files(folder, recursive=recursive)
        self.size = size  # (width, height) in pixels
        self.channels = channels

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> torch.Tensor:
        picture = ImageOps.fit(open_image(self.files[index], self.channels), self.size, Image.Resampling.LANCZOS)
        return _as_tensor(np.asarray(picture).reshape(self.size[1], self.size[0], self.channels))


class Frames(Dataset):
    """Frames held in memory, from read_video_frames: (N, H, W, C) uint8."""

    def __init__(self, frames: np.ndarray):
        if frames.ndim != 4 or len(frames) == 0:
            raise ValueError(f"expected (N, H, W, C) frames with N > 0, got shape {frames.shape}")
        self.frames = frames

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> torch.Tensor:
        return _as_tensor(self.frames[index])


def read_video_frames(path: str | Path, size: tuple[int, int], fps: float | None = None,
                      channels: int = 3) -> np.ndarray:
    """The video's frames as (N, H, W, channels) uint8, each fitted to `size` (width, height); with
    `fps`, at most that many per second of video (the first frame at or after each 1/fps mark).

    The frames are held in memory (a minute at 256 x 256 and 10 fps is 118 MB): for longer footage
    write them to a folder once (`latentstage data frames`) and train from an ImageFolder."""
    frames = [picture for _, picture in video_frames(path, size, fps, channels)]
    if not frames:
        raise ValueError(f"{path}: the video has no frames")
    return np.stack(frames)


def video_frames(path: str | Path, size: tuple[int, int] | None = None, fps: float | None = None,
                 channels: int = 3) -> Iterator[tuple[float | None, np.ndarray]]:
    """(time in seconds, (H, W, channels) uint8 picture) for each frame of the video, decoded one at a
    time; fitted to `size` (width, height) when given, at most `fps` a second when given."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such video")
    if fps is not None and fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    mode = _mode(channels)
    next_sample = 0  # index of the next 1/fps mark to take a frame for
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError(f"{path}: has no video stream")
            container.streams.video[0].thread_type = "AUTO"  # decode on several threads
            for frame in container.decode(video=0):
                if fps is not None:
                    if frame.time is None:
                        raise ValueError(f"{path}: frames carry no timestamps; read every frame (no fps)")
                    # 1e-6 s absorbs the rounding of pts * time_base, so a frame exactly on a mark counts
                    mark = math.floor(frame.time * fps + 1e-6)
                    if mark < next_sample:
                        continue
                    next_sample = mark + 1
                picture = frame.to_image().convert(mode)
                if size is not None:
                    picture = ImageOps.fit(picture, size, Image.Resampling.LANCZOS)
                yield frame.time, np.asarray(picture).reshape(picture.size[1], picture.size[0], channels)
    except av.error.FFmpegError as error:
        raise ValueError(f"{path}: not a readable video ({error})") from None


def _mode(channels: int) -> str:
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (gray) or 3 (RGB), got {channels}")
    return "L" if channels == 1 else "RGB"


def _as_tensor(pixels: np.ndarray) -> torch.Tensor:
    # (H, W, C) uint8 -> (C, H, W) float32 in [0, 1]; the dtype change copies, so Pillow's read-only
    # buffer is never shared with torch
    return torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32) / 255.0)
