"""Picture helpers every part shares: float pictures to 8-bit, one channel to three, how a picture fits a frame,
and how much one picture differs from another.

Models give float pictures in some value range; screens, files and the HUD
want (H, W, 3) uint8 RGB. `to_uint8` is the one conversion (scaled, rounded,
clipped), allocation-free when the caller keeps its buffers; `as_rgb` makes
edges or gray three equal channels at the last moment, where a screen or a
file needs them. `FitMode` is the one vocabulary for putting a picture of one
aspect into a frame of another.
"""
from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

# cover: fill the frame, cropping the overflow; contain: show it all, letterboxed; stretch: ignore aspect
FitMode = Literal["cover", "contain", "stretch"]


def to_uint8(image: np.ndarray, value_range: tuple[float, float] = (0.0, 1.0), out: np.ndarray | None = None,
             scratch: np.ndarray | None = None) -> np.ndarray:
    """(H, W, C) float in value_range -> uint8 0..255, rounded, clipped. A one-channel picture
    broadcasts into a three-channel `out`. Pass `out` and a float32 `scratch` of the image's
    shape to allocate nothing (a frame loop's buffers); either may be None."""
    low, high = value_range
    if scratch is None or scratch.shape != image.shape:
        scratch = np.empty(image.shape, dtype=np.float32)
    np.subtract(image, low, out=scratch)
    scratch *= 255.0 / (high - low)
    scratch += 0.5  # round rather than truncate on the cast below
    np.clip(scratch, 0.0, 255.0, out=scratch)
    if out is None:
        return scratch.astype(np.uint8)
    np.copyto(out, scratch, casting="unsafe")
    return out


def as_rgb(image: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB of an (H, W) uint8 picture (three equal channels); RGB as it is."""
    if image.ndim == 3:
        return image
    return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB, dst=out)


def change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 pictures of one shape, in 0..255 levels (all pixels and
    channels): the flicker figure's unit, shared by the HUD's meter and a scene tuning toward a target."""
    return float(np.mean(cv2.mean(cv2.absdiff(a, b))[:a.shape[2] if a.ndim == 3 else 1]))
