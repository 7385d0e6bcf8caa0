"""The quality figures' cost and their reference values on a prepared paintings folder (`latentstage data paintings`).

For each feature side it times PictureFeatures on the folder's crops (seconds a
picture on this CPU, torch on `--threads` threads, with the process's peak
resident memory), then gives the figures a GAN's samples will be read
against:

- KID between two halves of the paintings (split by painting, so the crops of
  one painting stay on one side): what a generator that painted new pictures
  of the same kind would score, the floor;
- KID between the paintings and the same crops blurred (a 4x downsample and
  back, at the feature side) and noised (Gaussian, 0.1): how far pictures
  that lost their brush strokes score;
- the nearest other painting's distance for each painting's crops (crops of
  the same painting left out): a sample closer than the low end of this to a
  training picture is suspect of copying it.

    .venv/bin/python -m bench.quality_bench /work/data/paintings --markdown out/bench_quality.md
"""
from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter

from bench.measure import publish
from trainers.common.quality import PictureFeatures, kid, nearest_neighbours

SIDES = (64, 128)


def crops_by_painting(folder: Path) -> tuple[list[Path], np.ndarray]:
    """Every crop of the manifest and the index of the painting it came from."""
    manifest = json.loads((folder / "manifest.json").read_text())
    files, owners = [], []
    for index, entry in enumerate(manifest["paintings"]):
        for crop in entry["crops"]:
            files.append(folder / crop)
            owners.append(index)
    return files, np.array(owners)


def degraded(path: Path, side: int, rng: np.random.Generator) -> np.ndarray:
    """The crop at the feature side, blurred (4x down and back up) with Gaussian noise of 0.1 on top,
    (side, side, 3) float32 in [0, 1]: detail below 4 pixels of what the features see is gone."""
    picture = Image.open(path).convert("RGB").resize((side, side), Image.Resampling.LANCZOS)
    small = picture.resize((side // 4, side // 4), Image.Resampling.BOX)
    blurred = np.asarray(small.resize(picture.size, Image.Resampling.BILINEAR), np.float32) / 255
    return np.clip(blurred + rng.normal(0, 0.1, blurred.shape), 0, 1).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="a folder written by `latentstage data paintings`")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    files, owners = crops_by_painting(args.folder)
    paintings = owners.max() + 1
    first = owners % 2 == 0  # every other painting: no painting on both sides
    rows = [f"{len(files)} crops of {paintings} paintings in {args.folder}, torch on {args.threads} thread(s)", "",
            "| feature side | s a picture | peak RSS MB | KID half / half | KID paintings / blurred+noised "
            "| nearest other painting: min, 5%, median |", "| --- | --- | --- | --- | --- | --- |"]
    for side in SIDES:
        features = PictureFeatures(side=side)
        started = time.perf_counter()
        real = features(files)
        seconds = (time.perf_counter() - started) / len(files)
        rng = np.random.default_rng(0)
        worse = features(degraded(path, side, rng) for path in files)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = int(min(first.sum(), (~first).sum()))
        halves = kid(real[torch.from_numpy(first)], real[torch.from_numpy(~first)], subsets=100,
                     subset_size=size // 2, features=features.name)
        apart = kid(real, worse, subsets=100, subset_size=len(files) // 2, features=features.name)
        nearest = []
        for painting in range(paintings):
            mine = torch.from_numpy(owners == painting)
            _, distances = nearest_neighbours(real[mine], real[~mine])
            nearest.append(distances.min().item())
        low, five, median = np.min(nearest), np.percentile(nearest, 5), np.median(nearest)
        rows.append(f"| {side} px | {seconds:.3f} | {peak:.0f} | {halves.mean:.4f} +- {halves.std:.4f} | "
                    f"{apart.mean:.4f} +- {apart.std:.4f} | {low:.3f}, {five:.3f}, {median:.3f} |")
    rows += ["", f"KID: {halves.describe().split(':')[0]} (unbiased MMD^2, cubic kernel), "
             f"mean +- std over 100 subsets; distances are Euclidean in the same feature space."]
    publish("\n".join(rows) + "\n", args.markdown)


if __name__ == "__main__":
    main()
