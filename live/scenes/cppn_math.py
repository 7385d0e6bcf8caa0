"""CPPN maths shared by the trainer, the exporter and the live loop.

A CPPN (compositional pattern-producing network, after hardmaru's
cppn-tensorflow) maps each pixel's coordinates (x, y, r) and a latent z to a
colour. This module holds the pure parts: the coordinate grid, latent
keyframes and the interpolations that morph between them. All arrays are
float32; times are in seconds.
"""
from __future__ import annotations

import functools
from typing import Literal

import numpy as np

Interpolation = Literal["slerp", "linear"]


@functools.lru_cache(maxsize=8)
def coordinates(width: int, height: int, keep_aspect: bool = False) -> np.ndarray:
    """The unit coordinate grid, (H, W, 3) float32 holding x, y and r = sqrt(x² + y²).

    As in cppn-tensorflow both axes span [-1, 1] (the network multiplies by
    its scale, so the pattern spans [-scale, scale]). With keep_aspect the
    shorter axis spans [-1, 1] and the longer one is stretched so circles stay
    round on a 16:9 screen. Cached per size and read-only: callers share it.
    """
    if width < 1 or height < 1:
        raise ValueError(f"coordinates need a positive size, got {width}x{height}")
    x_extent = y_extent = 1.0
    if keep_aspect:
        short = min(width, height)
        x_extent, y_extent = width / short, height / short
    x = np.linspace(-x_extent, x_extent, width, dtype=np.float32) if width > 1 else np.zeros(1, np.float32)
    y = np.linspace(-y_extent, y_extent, height, dtype=np.float32) if height > 1 else np.zeros(1, np.float32)
    grid = np.empty((height, width, 3), dtype=np.float32)
    grid[..., 0] = x[None, :]
    grid[..., 1] = y[:, None]
    grid[..., 2] = np.sqrt(grid[..., 0] ** 2 + grid[..., 1] ** 2)
    grid.flags.writeable = False
    return grid


def keyframes(seed: int, count: int, z_dim: int) -> np.ndarray:
    """(count, z_dim) float32 latents drawn uniformly from [-1, 1], as cppn-tensorflow does."""
    if count < 1 or z_dim < 1:
        raise ValueError(f"need at least one keyframe of at least one dimension, got {count}x{z_dim}")
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(count, z_dim)).astype(np.float32)


def lerp(z_a: np.ndarray, z_b: np.ndarray, alpha: float) -> np.ndarray:
    return ((1.0 - alpha) * z_a + alpha * z_b).astype(np.float32)


def slerp(z_a: np.ndarray, z_b: np.ndarray, alpha: float) -> np.ndarray:
    """Spherical interpolation: moves along the great circle, keeping the latent's norm
    from sagging mid-way as a straight line does. Falls back to lerp for (anti)parallel
    or zero vectors, where the great circle is undefined."""
    a = np.asarray(z_a, dtype=np.float64).ravel()
    b = np.asarray(z_b, dtype=np.float64).ravel()
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    if norms == 0.0:
        return lerp(z_a, z_b, alpha)
    cos_omega = np.clip(np.dot(a, b) / norms, -1.0, 1.0)
    omega = np.arccos(cos_omega)
    if np.sin(omega) < 1e-6:
        return lerp(z_a, z_b, alpha)
    mixed = (np.sin((1.0 - alpha) * omega) * a + np.sin(alpha * omega) * b) / np.sin(omega)
    return mixed.reshape(np.shape(z_a)).astype(np.float32)


def interpolate(z_a: np.ndarray, z_b: np.ndarray, alpha: float, how: Interpolation) -> np.ndarray:
    if how == "slerp":
        return slerp(z_a, z_b, alpha)
    if how == "linear":
        return lerp(z_a, z_b, alpha)
    raise ValueError(f"unknown interpolation {how!r}: use 'slerp' or 'linear'")


def latent_at(frames: np.ndarray, t: float, period: float, how: Interpolation = "slerp") -> np.ndarray:
    """The latent at time t (seconds) of a looping morph that spends `period` seconds
    travelling from each keyframe to the next, and from the last back to the first."""
    if period <= 0:
        raise ValueError(f"period must be positive seconds, got {period}")
    return latent_at_position(frames, t / period, how)


def latent_at_position(frames: np.ndarray, position: float, how: Interpolation = "slerp") -> np.ndarray:
    """The latent `position` keyframes along a loop through the keyframes (any real number:
    2.5 is half way from the third to the fourth; negative positions run backwards)."""
    position = position % len(frames)
    index = int(position)
    alpha = position - index
    return interpolate(frames[index], frames[(index + 1) % len(frames)], alpha, how)


def walk(frames: np.ndarray, steps_per_segment: int, how: Interpolation = "slerp", loop: bool = False) -> np.ndarray:
    """Latents of a walk through the keyframes: (n, z_dim) with n = segments * steps_per_segment,
    plus the final keyframe when the walk does not loop back to the first."""
    if steps_per_segment < 1:
        raise ValueError(f"steps_per_segment must be at least 1, got {steps_per_segment}")
    segments = len(frames) if loop else len(frames) - 1
    latents = [
        interpolate(frames[i], frames[(i + 1) % len(frames)], step / steps_per_segment, how)
        for i in range(segments)
        for step in range(steps_per_segment)
    ]
    if not loop:
        latents.append(frames[-1].astype(np.float32))
    return np.stack(latents)
