"""Training pairs for pix2pix from a video or an image folder: edges (or gray) beside the picture.

Each pair is one PNG in the layout pix2pix datasets use, A | B side by side:
with direction AtoB, A (left) is what the network gets and B (right) what it
should make. The edges are those of the live Canny filter (`auto_canny`:
grayscale, Gaussian blur, thresholds at (1 -/+ sigma) x median, inverted to
black lines on white, as SnowGAN made them), so a model meets live what it
trained on. Frames of one shot are near-duplicates, so the validation split
takes whole blocks of frames, and drops a few training frames on either side
of each, instead of scattering frames at random (which would leak copies of
the validation set into training). A `pairs.json` manifest says how the pairs
were made; the trainer reads it and writes it onto the model card.
"""
from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from live.scenes.filters import auto_canny, to_gray
from trainers.common.data import open_image, picture_files, video_frames
from live.core.atomic_file import atomic_file

INPUTS = ("edges", "gray")
DIRECTIONS = ("AtoB", "BtoA")
MANIFEST = "pairs.json"
HISTOGRAM_BINS = 8  # per colour channel, for telling shots apart
# Share of two frames' colour histograms that differs (0 to 1) at which a new shot starts: within the
# demo footage's camera moves it stays under 0.08, across its cuts it is over 0.7. A histogram, unlike
# the pixels, hardly changes when the camera pans or zooms.
SHOT_CHANGE = 0.4


@dataclass(frozen=True)
class PairSettings:
    input: str = "edges"  # what the network gets: "edges" (SnowGAN) or "gray" (colorization)
    direction: str = "AtoB"  # AtoB: the input is on the left
    size: tuple[int, int] = (286, 286)  # (width, height) of each half: pix2pix loads 286 and crops 256
    sigma: float = 0.33  # auto-Canny threshold spread around the median
    blur: int = 3  # Gaussian kernel before Canny, pixels
    val: float = 0.1  # share of frames for validation
    block: int = 24  # frames a validation block holds at most
    gap: int = 3  # training frames left out on each side of a validation block in the same shot
    seed: int = 0  # picks the validation blocks

    def __post_init__(self) -> None:
        if self.input not in INPUTS:
            raise ValueError(f"unknown input {self.input!r}; choose from {', '.join(INPUTS)}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {self.direction!r}; choose from {', '.join(DIRECTIONS)}")
        if not 0 <= self.val < 1:
            raise ValueError(f"val is a share of the frames, from 0 to below 1, got {self.val}")
        if min(self.size) < 1:
            raise ValueError(f"size must be at least one pixel, got {self.size}")

    def preprocessing(self) -> dict[str, str]:
        """What the model card says about the input, so live/ prepares frames the same way."""
        if self.input == "gray":
            return {"input": "gray"}
        return {"input": "edges", "canny_sigma": str(self.sigma), "canny_blur": str(self.blur), "canny_invert": "true"}


def network_input(picture: np.ndarray, settings: PairSettings) -> np.ndarray:
    """(H, W) uint8: the edges (black on white) or the luma of an (H, W, 3) uint8 RGB picture."""
    if settings.input == "gray":
        return to_gray(picture)
    return auto_canny(picture, settings.sigma, settings.blur, invert=True)


def side_by_side(picture: np.ndarray, settings: PairSettings) -> np.ndarray:
    """The (H, 2W, 3) uint8 pair: input | picture for AtoB, picture | input for BtoA."""
    made = cv2.cvtColor(network_input(picture, settings), cv2.COLOR_GRAY2RGB)
    halves = (made, picture) if settings.direction == "AtoB" else (picture, made)
    return np.concatenate(halves, axis=1)


def pictures_from(source: str | Path, size: tuple[int, int], fps: float | None = None) -> tuple[int | None, Iterator[np.ndarray]]:
    """(count if known, the (H, W, 3) uint8 pictures fitted to `size`) of a video file or an image folder."""
    source = Path(source)
    if source.is_dir():
        files = picture_files(source)
        return len(files), (np.asarray(ImageOps.fit(open_image(path), size, Image.Resampling.LANCZOS))
                            for path in files)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such video or folder")
    return None, (picture for _, picture in video_frames(source, size, fps))


def colour_histogram(picture: np.ndarray) -> np.ndarray:
    """The (H, W, 3) uint8 picture's colours in HISTOGRAM_BINS**3 bins, as shares summing to 1."""
    bins = cv2.calcHist([picture], [0, 1, 2], None, [HISTOGRAM_BINS] * 3, [0, 256] * 3).ravel()
    return bins / max(bins.sum(), 1.0)


def find_shots(histograms: list[np.ndarray]) -> list[range]:
    """Runs of frame indices whose neighbours' colour histograms differ by less than SHOT_CHANGE: the
    shots of a video (or, in a folder of unrelated photos, mostly one picture each)."""
    starts = [0] + [index for index in range(1, len(histograms))
                    if 0.5 * np.abs(histograms[index] - histograms[index - 1]).sum() > SHOT_CHANGE]
    return [range(start, end) for start, end in zip(starts, [*starts[1:], len(histograms)])]


@dataclass(frozen=True)
class Split:
    train: list[int]
    val: list[int]
    dropped: list[int]  # training frames next to a validation block: left out of both


def split_by_blocks(shots: list[range], settings: PairSettings) -> Split:
    """Validation takes whole blocks (at most settings.block frames of one shot), drawn at random until
    it holds settings.val of the frames; `gap` frames either side of a block in its shot are dropped."""
    blocks = [(shot, range(start, min(start + settings.block, shot.stop)))
              for shot in shots for start in range(shot.start, shot.stop, settings.block)]
    total = sum(len(shot) for shot in shots)
    wanted = round(total * settings.val)
    order = list(range(len(blocks)))
    random.Random(settings.seed).shuffle(order)
    val: set[int] = set()
    dropped: set[int] = set()
    for index in order:
        if len(val) >= wanted:
            break
        shot, block = blocks[index]
        val.update(block)
        dropped.update(range(max(shot.start, block.start - settings.gap), block.start))
        dropped.update(range(block.stop, min(shot.stop, block.stop + settings.gap)))
    dropped -= val
    train = [index for index in range(total) if index not in val and index not in dropped]
    if not train:
        raise ValueError(f"{total} frame(s) leave nothing to train on after the validation split; "
                         "use more frames or a smaller --val")
    return Split(train, sorted(val), sorted(dropped))


def write_pairs(source: str | Path, out_dir: str | Path, settings: PairSettings, fps: float | None = None) -> dict:
    """Pairs of every picture of `source` into out_dir/train and out_dir/val, and the manifest; returns it."""
    out_dir = Path(out_dir)
    count, pictures = pictures_from(source, settings.size, fps)
    staging = out_dir / ".all"
    staging.mkdir(parents=True, exist_ok=True)
    histograms = []
    for index, picture in enumerate(tqdm(pictures, total=count, desc="pairs", unit="frame")):
        histograms.append(colour_histogram(picture))
        save_pair(side_by_side(picture, settings), staging / _name(index))
    if not histograms:
        raise ValueError(f"{source}: no frames to make pairs of")
    shots = find_shots(histograms)
    split = split_by_blocks(shots, settings)
    for part, indices in (("train", split.train), ("val", split.val)):
        (out_dir / part).mkdir(exist_ok=True)
        for index in indices:
            (staging / _name(index)).replace(out_dir / part / _name(index))
    for index in split.dropped:
        (staging / _name(index)).unlink()
    staging.rmdir()
    manifest = {**dataclasses.asdict(settings), "size": list(settings.size), "source": str(source),
                "frames": len(histograms), "shots": len(shots), "train_pairs": len(split.train), "val_pairs": len(split.val),
                "dropped": len(split.dropped), "preprocessing": settings.preprocessing()}
    with atomic_file(out_dir / MANIFEST) as file:
        file.write(json.dumps(manifest, indent=2).encode())
    return manifest


def read_manifest(pairs_dir: str | Path) -> dict | None:
    """The manifest `write_pairs` left in a pairs folder, or None for pairs made elsewhere."""
    path = Path(pairs_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a readable manifest ({error})") from None


def write_frames(source: str | Path, out_dir: str | Path, size: tuple[int, int],
                 fps: float | None = None) -> int:
    """Every picture of a video (or folder) fitted to `size`, as numbered PNGs; returns how many."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    count, pictures = pictures_from(source, size, fps)
    written = 0
    for written, picture in enumerate(tqdm(pictures, total=count, desc="frames", unit="frame"), start=1):
        save_pair(picture, out_dir / _name(written - 1))
    if not written:
        raise ValueError(f"{source}: no frames")
    return written


def _name(index: int) -> str:
    return f"{index:06d}.png"


def save_pair(pixels: np.ndarray, path: Path) -> None:
    """(H, W, 3) uint8 pixels as a PNG, written whole or not at all."""
    with atomic_file(path) as file:
        Image.fromarray(pixels).save(file, format="PNG")
