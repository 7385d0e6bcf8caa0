"""The pictures `model adopt` probes with, and the contact sheet it shows of the best conventions.

Samples come from a folder the user names, or else from what the package
itself ships: frames of the bundled clip (shows/media/snow-walk.mp4) and one
generated picture with saturated hues, gradients and hard edges, so a swapped
channel pair or a burnt-out range shows. Nothing is downloaded. The sheet is a
grid: the samples as fed on the top row, then one row per convention, best
first, each labelled with its rank, score and convention. Drawn with Pillow.
"""
from __future__ import annotations

import importlib.resources
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw

from live.inference.adopt import AdoptError, Candidate, Probe

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
MAX_SAMPLES = 6
BUNDLED_CLIP = "media/snow-walk.mp4"
CLIP_FRAMES = (30, 120)  # frame numbers taken from the bundled clip
THUMB = 160  # pixels, the longer side of a contact sheet cell
LABEL = 16  # pixels of label above each row
BACKGROUND = (18, 18, 22)
TEXT = (235, 235, 235)


def load_samples(folder: Path | None) -> list[np.ndarray]:
    """(H, W, 3) uint8 RGB pictures: up to MAX_SAMPLES from `folder` (sorted by name), else the built-in ones."""
    if folder is None:
        return [*_clip_frames(), generated_picture()]
    if not folder.is_dir():
        raise AdoptError(f"--samples {folder}: no such folder")
    pictures = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in PICTURE_SUFFIXES)[:MAX_SAMPLES]:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise AdoptError(f"--samples {path}: not a picture OpenCV can read")
        pictures.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    if not pictures:
        raise AdoptError(f"--samples {folder}: no pictures ({', '.join(PICTURE_SUFFIXES)}) in it")
    return pictures


def generated_picture(width: int = 320, height: int = 240) -> np.ndarray:
    """(height, width, 3) uint8 RGB: a warm-to-cool sky over a green field, a red sun, a blue house."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    picture = np.zeros((height, width, 3), np.float32)
    sky = y < height * 0.6
    picture[sky] = np.stack([0.95 - 0.6 * y / height, 0.75 - 0.2 * y / height,
                             0.35 + 0.6 * y / height], axis=-1)[sky]
    picture[~sky] = np.stack([0.15 + 0.2 * x / width, 0.55 + 0.05 * np.sin(x / 6.0),
                              0.12 + 0.0 * x], axis=-1)[~sky]
    picture[(x - width * 0.75) ** 2 + (y - height * 0.25) ** 2 < (height * 0.12) ** 2] = (0.95, 0.2, 0.1)
    house = (x > width * 0.15) & (x < width * 0.4) & (y > height * 0.4) & (y < height * 0.75)
    picture[house] = (0.15, 0.25, 0.8)
    picture[house & ((x.astype(int) // 8 + y.astype(int) // 8) % 2 == 0)] = (0.9, 0.9, 0.85)  # windows
    return (picture * 255 + 0.5).astype(np.uint8)


def _clip_frames() -> list[np.ndarray]:
    path = Path(str(importlib.resources.files("shows") / BUNDLED_CLIP))
    frames = []
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number in CLIP_FRAMES:
                frames.append(frame.to_ndarray(format="rgb24"))
            if number >= max(CLIP_FRAMES):
                break
    return frames


def contact_sheet(result: Probe, path: Path, rows: int = 6) -> Path:
    """A PNG at `path`: the samples as fed, then the `rows` best distinct pictures, one row each, labelled
    with the conventions that give it (conventions giving the same picture share a row)."""
    cells = [_thumb(s) for s in result.samples]
    cell_w = max(c.shape[1] for c in cells)
    cell_h = max(c.shape[0] for c in cells)
    as_fed = ("samples as fed (edges as Canny draws them: light on dark; a dark-lines convention inverts them)"
              if result.kind == "pix2pix" else "samples as fed")
    labelled_rows = [(as_fed, cells)]
    for rank, (candidate, same) in enumerate(_distinct(result.candidates)[:rows], start=1):
        also = f" (= {len(same)} more)" if same else ""
        labelled_rows.append((f"#{rank} score {candidate.score:.3f}: {candidate.convention.describe()}{also}",
                              [_thumb(o) for o in candidate.outputs]))
    width = max(len(cells) * (cell_w + 4) + 4, 420)
    height = len(labelled_rows) * (cell_h + LABEL + 4) + 4
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for row, (label, thumbs) in enumerate(labelled_rows):
        top = 4 + row * (cell_h + LABEL + 4)
        draw.text((6, top + 2), label, fill=TEXT)
        for column, thumb in enumerate(thumbs):
            sheet.paste(Image.fromarray(thumb), (4 + column * (cell_w + 4), top + LABEL))
    sheet.save(path)
    return path


def _distinct(candidates: list[Candidate]) -> list[tuple[Candidate, list[Candidate]]]:
    """Candidates in rank order, each with the later ones whose pictures are the same (within 2 levels)."""
    groups: list[tuple[Candidate, list[Candidate]]] = []
    for candidate in candidates:
        for first, same in groups:
            if all(a.shape == b.shape and np.abs(a.astype(np.int16) - b).mean() < 2.0
                   for a, b in zip(first.outputs, candidate.outputs)):
                same.append(candidate)
                break
        else:
            groups.append((candidate, []))
    return groups


def _thumb(picture: np.ndarray) -> np.ndarray:
    height, width = picture.shape[:2]
    scale = THUMB / max(width, height)
    return cv2.resize(picture, (max(1, round(width * scale)), max(1, round(height * scale))),
                      interpolation=cv2.INTER_AREA)
