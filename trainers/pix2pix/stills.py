"""Training pairs from a folder of stills (paintings, photographs), many augmented views of each.

A video gives hundreds of frames a shot; a folder of paintings gives one
picture each. So each training still is cut into `views` pairs: a random
square-ish window (its side a random share, from `min_scale` to all, of the
still's shorter side, log-uniform so close-ups and whole pictures come
equally often), flipped left-right half the time, resized to the pair size,
and only then made into edges, so the edges are found at the scale the window
is shown at, as live finds them on a camera frame of that size. Different
scales of one painting teach the model its manner at several sizes of brush
stroke. Validation holds out whole stills (never cut, never seen in training):
each becomes one pair of the whole picture resized to the pair size. The
manifest names the held-out files.
"""
from __future__ import annotations

import dataclasses
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from trainers.common.data import open_image, picture_files
from live.core.atomic_file import atomic_file
from trainers.pix2pix.pairs import MANIFEST, PairSettings, save_pair, side_by_side


@dataclass(frozen=True)
class StillViews:
    views: int = 16  # augmented training pairs a still
    min_scale: float = 0.35  # smallest window side, as a share of the still's shorter side
    hold_out: int | None = None  # whole stills for validation; None: the pair settings' val share of them

    def __post_init__(self) -> None:
        if self.views < 1:
            raise ValueError(f"views must be at least 1 a still, got {self.views}")
        if not 0 < self.min_scale <= 1:
            raise ValueError(f"min_scale is a share of the shorter side, above 0 and at most 1, got {self.min_scale}")
        if self.hold_out is not None and self.hold_out < 0:
            raise ValueError(f"hold_out must be 0 or more stills, got {self.hold_out}")


def random_view(still: Image.Image, size: tuple[int, int], min_scale: float, rng: random.Random) -> np.ndarray:
    """(height, width, 3) uint8: a random window of the still with the aspect of `size` (width, height),
    its shorter side min_scale..1 of the still's (log-uniform), maybe mirrored, resized to `size`."""
    width, height = still.size
    aspect = size[0] / size[1]
    # the largest window of this aspect that fits, then a share of it
    full_w, full_h = (width, width / aspect) if width / aspect <= height else (height * aspect, height)
    scale = math.exp(rng.uniform(math.log(min_scale), 0.0))
    window_w, window_h = max(1.0, full_w * scale), max(1.0, full_h * scale)
    left, top = rng.uniform(0, width - window_w), rng.uniform(0, height - window_h)
    view = still.resize(size, Image.Resampling.LANCZOS, box=(left, top, left + window_w, top + window_h))
    if rng.random() < 0.5:
        view = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return np.asarray(view)


def held_out_stills(files: list[Path], views: StillViews, settings: PairSettings) -> list[Path]:
    """The stills validation keeps whole, drawn with settings.seed; at least one is left to train on."""
    count = views.hold_out if views.hold_out is not None else round(len(files) * settings.val)
    if count >= len(files):
        raise ValueError(f"holding out {count} of {len(files)} stills leaves nothing to train on; "
                         "use more stills or a smaller --hold-out")
    return sorted(random.Random(settings.seed).sample(files, count))


def write_still_pairs(folder: str | Path, out_dir: str | Path, settings: PairSettings, views: StillViews) -> dict:
    """`views.views` augmented pairs of each training still into out_dir/train, one whole-picture pair of each
    held-out still into out_dir/val, and the manifest; returns the manifest."""
    files = picture_files(folder)
    held = held_out_stills(files, views, settings)
    out_dir = Path(out_dir)
    for part in ("train", "val"):
        (out_dir / part).mkdir(parents=True, exist_ok=True)
    rng = random.Random(settings.seed)
    train_pairs = 0
    for path in tqdm(files, desc="stills", unit="still"):
        still = open_image(path)
        if path in held:
            whole = np.asarray(still.resize(settings.size, Image.Resampling.LANCZOS))
            save_pair(side_by_side(whole, settings), out_dir / "val" / f"{path.stem}.png")
            continue
        for index in range(views.views):
            view = random_view(still, settings.size, views.min_scale, rng)
            save_pair(side_by_side(view, settings), out_dir / "train" / f"{path.stem}-{index:03d}.png")
            train_pairs += 1
    manifest = {**dataclasses.asdict(settings), "size": list(settings.size), "source": str(folder),
                "stills": len(files), **dataclasses.asdict(views), "train_pairs": train_pairs,
                "val_pairs": len(held), "held_out": [path.name for path in held],
                "preprocessing": settings.preprocessing()}
    with atomic_file(out_dir / MANIFEST) as file:
        file.write(json.dumps(manifest, indent=2).encode())
    return manifest
