"""Still pictures in and out of files, as (H, W, 3) uint8 RGB, with one-line errors for bad files.

OpenCV reads and writes them (it is the runtime's image library already); it
speaks BGR, so the channels are swapped at the edge and nowhere else.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

WRITABLE = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def read_picture(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB; ValueError for a missing file or one that is not a picture."""
    if not path.is_file():
        raise ValueError(f"{path}: no such picture")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{path}: not a picture OpenCV can read")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def write_picture(path: Path, picture: np.ndarray) -> Path:
    """Write (H, W, 3) uint8 RGB in the format the suffix names (JPEG at quality 95); ValueError for a
    suffix it cannot write or a folder that is not there."""
    if path.suffix.lower() not in WRITABLE:
        raise ValueError(f"{path}: cannot write {path.suffix or 'a file without a suffix'}; use one of "
                         f"{', '.join(WRITABLE)}")
    if not path.parent.is_dir():
        raise ValueError(f"{path}: the folder {path.parent} does not exist")
    if not cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95]):
        raise ValueError(f"{path}: OpenCV could not write it")
    return path
