"""Footage for the demo pix2pix model, from pictures that ship with scikit-image (no download).

Each picture becomes one shot: a slow camera move (pan and zoom, a "Ken Burns"
move) from one seeded framing to another, so the pairs have the near-duplicate
neighbours of real video that the shot-aware split has to keep apart.

    python -m trainers.pix2pix.demo_footage -o out/footage.mp4

Needs scikit-image (the test extra).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from live.output.video import VideoWriter

PICTURES = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field", "retina")


def camera_move(picture: np.ndarray, frames: int, width: int, rng: np.random.Generator,
                height: int | None = None) -> list[np.ndarray]:
    """`frames` (height, width, 3) views of the picture along a straight pan and zoom (square by default)."""
    height = height or width
    rows, columns = picture.shape[:2]
    largest = min(rows, columns * height / width)  # the tallest window of the view's aspect that fits

    def framing() -> np.ndarray:  # (centre x, centre y, window height) inside the picture
        tall = largest * rng.uniform(0.55, 0.95)
        wide = tall * width / height
        return np.array([rng.uniform(wide / 2, columns - wide / 2), rng.uniform(tall / 2, rows - tall / 2), tall])

    start, end = framing(), framing()
    views = []
    for index in range(frames):
        x, y, tall = start + (end - start) * index / max(1, frames - 1)
        scale = height / tall
        left, top = x - width / scale / 2, y - tall / 2
        affine = np.array([[scale, 0, -left * scale], [0, scale, -top * scale]], dtype=np.float64)
        views.append(cv2.warpAffine(picture, affine, (width, height), flags=cv2.INTER_AREA))
    return views


def write_footage(path: str | Path, frames_per_shot: int = 36, size: tuple[int, int] = (320, 320), fps: float = 12.0,
                  seed: int = 0, pictures: tuple[str, ...] = PICTURES, crf: int = 18) -> int:
    """One shot per picture (scikit-image's names) into an H.264 file; returns the number of frames."""
    from skimage import data

    rng = np.random.default_rng(seed)
    count = 0
    with VideoWriter(path, *size, fps, crf=crf) as writer:
        for name in pictures:
            for view in camera_move(getattr(data, name)()[..., :3], frames_per_shot, size[0], rng, size[1]):
                writer.write(view)
                count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="MP4 file to write")
    parser.add_argument("--frames-per-shot", type=int, default=36)
    parser.add_argument("--size", default="320x320", help="WIDTHxHEIGHT (default 320x320)")
    parser.add_argument("--fps", type=float, default=12.0)
    parser.add_argument("--pictures", default=",".join(PICTURES), help="scikit-image pictures, comma-separated")
    parser.add_argument("--crf", type=int, default=18, help="H.264 quality: lower is better and larger")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.lower().split("x"))
    count = write_footage(args.output, args.frames_per_shot, (width, height), args.fps, args.seed,
                          tuple(args.pictures.split(",")), args.crf)
    print(f"{count} frames in {args.output}")


if __name__ == "__main__":
    main()
