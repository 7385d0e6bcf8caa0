"""Pictures in synthetic frames of known widths: plain, gilded (profiled, ornamented, noisy) and mats."""
from __future__ import annotations

import numpy as np
from skimage import data


def photo(name: str) -> np.ndarray:
    """A scikit-image sample picture as (H, W, 3) float in [0, 1]."""
    pixels = getattr(data, name)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return pixels[..., :3].astype(np.float32) / 255.0


def plain(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A flat dark brown band with a little sensor noise."""
    return np.clip(np.array([0.22, 0.14, 0.08]) + rng.normal(0, 0.01, (height, width, 3)), 0, 1)


def gilded(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Gold with a moulding's profile across the band (the rows grow light, dark, light), an ornament
    repeating every 9 pixels along it, and strong grain noise."""
    across = 0.75 + 0.2 * np.sin(np.linspace(0, 3 * np.pi, height))[:, None]
    along = 1 + 0.12 * np.sin(np.arange(width) * 2 * np.pi / 9)[None, :]
    gold = np.array([0.85, 0.66, 0.3])
    return np.clip((across * along)[..., None] * gold + rng.normal(0, 0.06, (height, width, 3)), 0, 1)


def mat(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A cream mat."""
    return np.clip(np.array([0.92, 0.89, 0.8]) + rng.normal(0, 0.015, (height, width, 3)), 0, 1)


def framed(picture: np.ndarray, widths: tuple[int, int, int, int], band, seed: int = 0) -> np.ndarray:
    """The picture with a frame of `widths` (left, top, right, bottom) pixels made by `band`: the top and
    bottom bands run along the width, the left and right ones along the height, as a real frame's do."""
    rng = np.random.default_rng(seed)
    left, top, right, bottom = widths
    height, width = picture.shape[:2]
    out_h, out_w = height + top + bottom, width + left + right
    out = np.zeros((out_h, out_w, 3), np.float32)
    out[:top] = band(top, out_w, rng)
    out[out_h - bottom:] = band(bottom, out_w, rng)[::-1]
    out[:, :left] = band(left, out_h, rng).transpose(1, 0, 2)
    out[:, out_w - right:] = band(right, out_h, rng).transpose(1, 0, 2)[:, ::-1]
    out[top:top + height, left:left + width] = picture
    return out


def as_uint8(pixels: np.ndarray) -> np.ndarray:
    return np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8)
