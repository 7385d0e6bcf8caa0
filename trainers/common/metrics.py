"""Picture similarity for held-out reports: mean absolute error, SSIM and PSNR.

SSIM is Wang et al. 2004 with the usual settings (an 11x11 Gaussian window of
sigma 1.5, K1 = 0.01, K2 = 0.03, population statistics), per channel and
averaged: the same numbers as scikit-image's structural_similarity with
gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.
"""
from __future__ import annotations

import cv2
import numpy as np

WINDOW_SIGMA = 1.5
WINDOW_RADIUS = 5  # 11 pixels across, as scikit-image truncates at 3.5 sigma
K1, K2 = 0.01, 0.03


def mean_absolute_error(made: np.ndarray, target: np.ndarray) -> float:
    """Mean |made - target| of two same-shape float pictures in [0, 1]."""
    return float(np.abs(made.astype(np.float64) - target.astype(np.float64)).mean())


def ssim(made: np.ndarray, target: np.ndarray) -> float:
    """Mean structural similarity of two same-shape (H, W) or (H, W, C) float pictures in [0, 1]; 1 is equal."""
    if made.shape != target.shape:
        raise ValueError(f"pictures differ in shape: {made.shape} and {target.shape}")
    made, target = (np.atleast_3d(picture).astype(np.float64) for picture in (made, target))
    c1, c2 = K1 ** 2, K2 ** 2
    scores = []
    for channel in range(made.shape[2]):
        x, y = made[..., channel], target[..., channel]
        mean_x, mean_y = _local_mean(x), _local_mean(y)
        var_x = _local_mean(x * x) - mean_x ** 2
        var_y = _local_mean(y * y) - mean_y ** 2
        cov = _local_mean(x * y) - mean_x * mean_y
        score = ((2 * mean_x * mean_y + c1) * (2 * cov + c2)) / ((mean_x ** 2 + mean_y ** 2 + c1) * (var_x + var_y + c2))
        pad = WINDOW_RADIUS  # the border, where the window leaves the picture, is left out as scikit-image does
        scores.append(score[pad:-pad, pad:-pad].mean())
    return float(np.mean(scores))


def _local_mean(values: np.ndarray) -> np.ndarray:
    size = 2 * WINDOW_RADIUS + 1
    return cv2.GaussianBlur(values, (size, size), WINDOW_SIGMA, borderType=cv2.BORDER_REFLECT)


def psnr(made: np.ndarray, target: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two same-shape float pictures in [0, 1]; higher is closer
    (+inf for equal pictures). 1 dB more is about 21% less mean squared error."""
    if made.shape != target.shape:
        raise ValueError(f"pictures differ in shape: {made.shape} and {target.shape}")
    mse = float(np.mean((made.astype(np.float64) - target.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))
