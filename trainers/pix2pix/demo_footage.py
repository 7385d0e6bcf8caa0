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


def camera_move(picture: np.ndarray, frames: int, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`frames` square (size, size, 3) views of the picture along a straight pan and zoom."""
    height, width = picture.shape[:2]
    short = min(height, width)

    def framing() -> np.ndarray:  # (centre x, centre y, side) of a square window inside the picture
        side = short * rng.uniform(0.55, 0.95)
        return np.array([rng.uniform(side / 2, width - side / 2), rng.uniform(side / 2, height - side / 2), side])

    start, end = framing(), framing()
    views = []
    for index in range(frames):
        x, y, side = start + (end - start) * index / max(1, frames - 1)
        left, top = x - side / 2, y - side / 2
        scale = size / side
        affine = np.array([[scale, 0, -left * scale], [0, scale, -top * scale]], dtype=np.float64)
        views.append(cv2.warpAffine(picture, affine, (size, size), flags=cv2.INTER_AREA))
    return views


def write_footage(path: str | Path, frames_per_shot: int = 36, size: int = 320, fps: float = 12.0,
                  seed: int = 0) -> int:
    """One shot per bundled picture into an H.264 file; returns the number of frames."""
    from skimage import data

    rng = np.random.default_rng(seed)
    count = 0
    with VideoWriter(path, size, size, fps) as writer:
        for name in PICTURES:
            for view in camera_move(getattr(data, name)()[..., :3], frames_per_shot, size, rng):
                writer.write(view)
                count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="MP4 file to write")
    parser.add_argument("--frames-per-shot", type=int, default=36)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{write_footage(args.output, args.frames_per_shot, seed=args.seed)} frames in {args.output}")


if __name__ == "__main__":
    main()
