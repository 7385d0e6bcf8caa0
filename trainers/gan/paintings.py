"""GAN training data from a folder of paintings: frames cut, near-duplicates dropped, square crops written.

`prepare_paintings(SRC, DIR)` reads every file under SRC (sub-folders too) in
two passes, so memory stays bounded however many paintings there are:

1. each file is opened; a tiny, corrupt or non-image file is refused in one
   line (counted, the run goes on). The frame, mat or museum border is found
   (trainers.gan.frame_finder) and the kept picture's perceptual hash taken;
2. near-duplicates are dropped (a resized or re-encoded copy, a second photo
   of one painting): two pictures are one when their difference hashes (9x8
   gray, 64 bits) differ in at most `duplicate_bits` bits and their 16x16
   colour thumbnails differ by at most `duplicate_distance` on average; the
   larger file is kept and the manifest says which was dropped for which.
   Then each kept painting is cut out and written as square crops.

Crops, not aspect buckets: the generator makes squares, and a crop of a
painting's full shorter side keeps its brush strokes at their scale (nothing
is stretched). A painting no squarer than `1 + square_slack` gives one centred
crop; a longer one gives ceil(long / short) crops evenly spread from end to
end along its long side (overlapping, together covering all of it), at most
`max_crops`, so a scroll adds a few crops, not a flood. The crop side is
`size`; a painting whose shorter side is below it is grown to it. Each
painting's aspect ratio after the cut is kept in the manifest, so generated
pictures can be given the aspects of the paintings' own (as MachineRay did).

DIR gets crops/*.png (the training pictures: train on DIR/crops),
manifest.json (settings, each kept painting's source, frame cut, kept size,
aspect and crops; the duplicates dropped and why; the files refused and why)
and contact-sheet.png (each painting with its cut drawn in red beside the
kept picture; dropped duplicates marked) for a person to check the cuts.
"""
from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError
from tqdm import tqdm

from live.core.atomic_file import atomic_file
from trainers.common.images import image_grid, save_png
from trainers.gan.frame_finder import FrameCut, FrameSettings, find_frame

MANIFEST, CONTACT_SHEET, CROPS = "manifest.json", "contact-sheet.png", "crops"
FINDER_SIDE = 1024  # frames are searched on a copy no longer than this (pixels), the cut scaled back
SHEET_TILE, SHEET_COLUMNS = 180, 5  # contact sheet: each painting and its kept picture fit TILE x TILE


@dataclass(frozen=True)
class PaintingSettings:
    size: int = 256  # crop side in pixels
    max_crops: int = 4  # most crops from one painting
    square_slack: float = 0.1  # paintings at most this much longer than wide give one crop
    min_side: int = 64  # pictures with a shorter side below this are refused as tiny
    duplicate_bits: int = 8  # difference hashes this close (of 64 bits)...
    duplicate_distance: float = 0.06  # ...and 16x16 thumbnails this close (mean |difference|, RGB 0..1): one picture

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"size must be at least 8 pixels, got {self.size}")
        if self.max_crops < 1:
            raise ValueError(f"max_crops must be at least 1, got {self.max_crops}")
        if self.min_side < 1:
            raise ValueError(f"min_side must be at least 1 pixel, got {self.min_side}")


@dataclass
class Painting:
    """One picture that passed the first pass: where it is, its cut and its fingerprints."""

    source: Path
    name: str  # the source's path under SRC, for the manifest
    size: tuple[int, int]  # (width, height) of the file
    cut: FrameCut
    hash_bits: np.ndarray  # (64,) bool: difference hash of the kept picture
    thumbnail: np.ndarray  # (16, 16, 3) float32 in [0, 1] of the kept picture

    @property
    def kept_size(self) -> tuple[int, int]:
        left, top, right, bottom = self.cut.box
        return right - left, bottom - top


def _to_stderr(line: str) -> None:
    tqdm.write(line, file=sys.stderr)  # above the progress bar, not through it


def prepare_paintings(source: str | Path, out: str | Path, settings: PaintingSettings = PaintingSettings(),
                      frames: FrameSettings = FrameSettings(), say: Callable[[str], None] = _to_stderr) -> dict:
    """Write DIR (see the module docstring) from the files under `source`; returns the manifest.
    `say` gets one line for each refused file and each dropped duplicate. A missing or empty folder, or one with no usable
    picture, raises FileNotFoundError or ValueError in one line; so does a DIR that is not empty."""
    source, out = Path(source), Path(out)
    files = source_files(source, out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out}: the output folder is not empty; give a new one")
    paintings, refused = [], []
    for path in tqdm(files, desc="paintings", unit="file"):
        painting = read_painting(path, source, settings, frames)
        if isinstance(painting, str):
            refused.append({"file": str(path.relative_to(source)), "reason": painting})
            say(f"refused {path}: {painting}")
        else:
            paintings.append(painting)
    if not paintings:
        raise ValueError(f"{source}: none of its {len(files)} files is a usable picture")
    kept, duplicates = drop_duplicates(paintings, settings)
    for item in duplicates:
        say(f"dropped {source / item['source']}: a near-duplicate of {item['duplicate_of']} (hashes "
            f"{item['hash_bits']} of 64 bits apart, thumbnails {item['thumbnail_distance']:.3f})")
    (out / CROPS).mkdir(parents=True)
    entries, sheet_tiles = [], []
    names = set()
    for painting in tqdm(kept, desc="crops", unit="painting"):
        with Image.open(painting.source) as file:
            picture = file.convert("RGB")
        crops = write_crops(picture.crop(painting.cut.box), out / CROPS, _unique_stem(painting, names), settings)
        width, height = painting.kept_size
        entries.append({"source": painting.name, "size": list(painting.size),
                        "frame": dataclasses.asdict(painting.cut) | {"found": painting.cut.describe()},
                        "kept_size": [width, height], "aspect": round(width / height, 4),
                        "crops": [f"{CROPS}/{name}" for name in crops]})
        sheet_tiles.append(contact_tile(picture, painting.cut, painting.name))
    dropped = {entry["source"]: entry for entry in duplicates}
    for painting in paintings:
        if painting.name in dropped:
            with Image.open(painting.source) as file:
                sheet_tiles.append(contact_tile(file.convert("RGB"), painting.cut, painting.name,
                                                note=f"duplicate of {dropped[painting.name]['duplicate_of']}"))
    save_png(image_grid(sheet_tiles, SHEET_COLUMNS, gap=4), out / CONTACT_SHEET)
    manifest = {"source": str(source), "settings": dataclasses.asdict(settings), "frame_settings":
                dataclasses.asdict(frames), "paintings": entries, "duplicates": duplicates, "refused": refused,
                "crops": sum(len(entry["crops"]) for entry in entries)}
    with atomic_file(out / MANIFEST) as file:
        file.write(json.dumps(manifest, indent=1, ensure_ascii=False).encode())
    return manifest


def source_files(source: Path, out: Path) -> list[Path]:
    """Every file under `source` (sub-folders too, hidden ones and DIR left out), sorted by path; a
    missing or empty folder is a one-line error."""
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: no such folder")
    out = out.resolve()
    files = sorted(path for path in source.rglob("*") if path.is_file()
                   and not any(part.startswith(".") for part in path.relative_to(source).parts)
                   and out not in path.resolve().parents)
    if not files:
        raise ValueError(f"{source}: the folder has no files")
    return files


def read_painting(path: Path, source: Path, settings: PaintingSettings, frames: FrameSettings) -> Painting | str:
    """The painting in `path` with its frame found and fingerprints taken, or why it is refused."""
    try:
        with Image.open(path) as file:
            picture = file.convert("RGB")  # decodes it all: a truncated file fails here
    except UnidentifiedImageError:
        return "not a picture"
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        return f"unreadable picture ({error})"
    if min(picture.size) < settings.min_side:
        return f"tiny ({picture.width}x{picture.height}; pictures need at least {settings.min_side} px a side)"
    cut = frame_of(picture, frames)
    kept = picture.crop(cut.box)
    return Painting(path, str(path.relative_to(source)), picture.size, cut, difference_hash(kept),
                    np.asarray(kept.resize((16, 16), Image.Resampling.BOX), np.float32) / 255.0)


def frame_of(picture: Image.Image, settings: FrameSettings) -> FrameCut:
    """The frame of a picture, searched on a copy no longer than FINDER_SIDE and scaled back to its pixels."""
    scale = min(1.0, FINDER_SIDE / max(picture.size))
    small = picture if scale == 1 else picture.resize(
        (max(1, round(picture.width * scale)), max(1, round(picture.height * scale))), Image.Resampling.BOX)
    cut = find_frame(np.asarray(small), settings)
    if scale == 1:
        return cut
    width, height = picture.size
    return FrameCut(*(math.ceil(side / scale) for side in (cut.left, cut.top, cut.right, cut.bottom)),
                    width=width, height=height)


def difference_hash(picture: Image.Image) -> np.ndarray:
    """(64,) bool: whether each pixel of the 9x8 gray picture is brighter than its left neighbour."""
    gray = np.asarray(picture.convert("L").resize((9, 8), Image.Resampling.BOX), np.float32)
    return (gray[:, 1:] > gray[:, :-1]).reshape(-1)


def drop_duplicates(paintings: list[Painting], settings: PaintingSettings) -> tuple[list[Painting], list[dict]]:
    """The paintings with near-duplicates dropped (the one with more pixels stays, ties go to the first
    by name), in their order; and a record of each dropped one: for which, and both distances."""
    order = sorted(range(len(paintings)), key=lambda i: -paintings[i].size[0] * paintings[i].size[1])
    kept: list[int] = []
    duplicates: dict[int, dict] = {}
    for index in order:
        painting = paintings[index]
        for other in kept:
            bits = int(np.count_nonzero(painting.hash_bits != paintings[other].hash_bits))
            distance = float(np.abs(painting.thumbnail - paintings[other].thumbnail).mean())
            if bits <= settings.duplicate_bits and distance <= settings.duplicate_distance:
                duplicates[index] = {"source": painting.name, "duplicate_of": paintings[other].name,
                                     "hash_bits": bits, "thumbnail_distance": round(distance, 4)}
                break
        else:
            kept.append(index)
    return ([painting for index, painting in enumerate(paintings) if index not in duplicates],
            [duplicates[index] for index in sorted(duplicates)])


def crop_windows(width: int, height: int, settings: PaintingSettings) -> list[tuple[int, int, int, int]]:
    """The square windows (left, top, right, bottom) of a width x height picture: its full shorter side,
    one centred or several spread along the long side (see the module docstring)."""
    side, long = min(width, height), max(width, height)
    count = 1 if long <= side * (1 + settings.square_slack) else min(settings.max_crops, math.ceil(long / side))
    if count == 1:
        starts = [(long - side) // 2]
    else:
        starts = [round(index * (long - side) / (count - 1)) for index in range(count)]
    if width >= height:
        return [(start, 0, start + side, side) for start in starts]
    return [(0, start, side, start + side) for start in starts]


def write_crops(picture: Image.Image, folder: Path, stem: str, settings: PaintingSettings) -> list[str]:
    """The picture's square crops as STEM-N.png in `folder`, each `size` pixels a side; their names."""
    names = []
    for index, window in enumerate(crop_windows(*picture.size, settings)):
        crop = picture.resize((settings.size, settings.size), Image.Resampling.LANCZOS, box=window)
        name = f"{stem}-{index}.png"
        save_png(np.asarray(crop), folder / name)
        names.append(name)
    return names


def contact_tile(picture: Image.Image, cut: FrameCut, label: str, note: str = "") -> np.ndarray:
    """(TILE + 14, 2 TILE + 8, 3) uint8: the picture with its cut drawn in red, the kept picture beside it,
    a label under both (the file, the cut or `note`)."""
    tile = Image.new("RGB", (2 * SHEET_TILE + 8, SHEET_TILE + 14), "white")
    scale = SHEET_TILE / max(picture.size)
    whole = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
                           Image.Resampling.BOX)
    if not cut.is_whole:
        left, top, right, bottom = cut.box
        ImageDraw.Draw(whole).rectangle([left * scale, top * scale, right * scale - 1, bottom * scale - 1],
                                        outline=(255, 0, 0), width=2)
    tile.paste(whole, (0, 0))
    if note:
        ImageDraw.Draw(tile).line([(SHEET_TILE + 8, 0), (2 * SHEET_TILE + 8, SHEET_TILE)], fill=(255, 0, 0), width=3)
    else:
        kept = picture.crop(cut.box)
        kept.thumbnail((SHEET_TILE, SHEET_TILE), Image.Resampling.BOX)
        tile.paste(kept, (SHEET_TILE + 8, 0))
    ImageDraw.Draw(tile).text((0, SHEET_TILE + 2), f"{label}: {note or cut.describe()}", fill=(0, 0, 0))
    return np.asarray(tile)


def _unique_stem(painting: Painting, taken: set[str]) -> str:
    # files of one name in two sub-folders get distinct crop names
    stem, number = painting.source.stem, 1
    while stem in taken:
        number += 1
        stem = f"{painting.source.stem}_{number}"
    taken.add(stem)
    return stem
