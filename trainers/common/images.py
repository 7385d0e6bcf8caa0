"""Pictures out of a trainer: 8-bit conversion, PNG files and sample grids.

Images are (H, W, C) arrays or tensors with C = 1 (gray) or 3 (RGB), either
float in [0, 1] or uint8. PNGs are written atomically, so a viewer that
reloads a preview while training overwrites it never shows half a picture.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from live.core.imaging import to_uint8 as convert_to_uint8
from live.core.atomic_file import atomic_file


def to_uint8(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """(H, W, C) float in [0, 1] -> (H, W, C) uint8, rounded and clipped; uint8 passes through.
    Tensors come off their device first; the conversion itself is the project's one (live.core.imaging)."""
    array = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if array.dtype == np.uint8:
        return array
    return convert_to_uint8(array)


def save_png(image: torch.Tensor | np.ndarray, path: str | Path) -> Path:
    """Write an (H, W, C) image as an 8-bit PNG: gray for C=1, RGB for C=3."""
    pixels = to_uint8(image)
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3):
        raise ValueError(f"expected an (H, W, 1) or (H, W, 3) image, got shape {pixels.shape}")
    mode = "L" if pixels.shape[2] == 1 else "RGB"
    with atomic_file(path) as file:
        Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode).save(file, format="PNG")
    return Path(path)


def image_grid(images: Sequence[torch.Tensor | np.ndarray], columns: int, gap: int = 0) -> np.ndarray:
    """Same-shape (H, W, C) images laid out row by row, `columns` to a row, `gap` black pixels between
    them, as one (H', W', C) uint8 image."""
    tiles = [to_uint8(image) for image in images]
    if not tiles:
        raise ValueError("a grid needs at least one image")
    if any(tile.shape != tiles[0].shape for tile in tiles):
        raise ValueError(f"grid images must share one shape, got {sorted({tile.shape for tile in tiles})}")
    height, width, channels = tiles[0].shape
    columns = min(columns, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    grid = np.zeros((rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, channels), np.uint8)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        grid[top:top + height, left:left + width] = tile
    return grid
