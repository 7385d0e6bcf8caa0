"""The pictures super-resolution learns from: a folder of paintings, a fixed held-out list, and the
degradation that makes a low-resolution input from each high-resolution patch.

Every picture file under the folder (sub-folders too) is one painting, decoded
once and kept in memory as (H, W, 3) uint8: patches are cut in the training
step from torch's global random stream, so a resumed run cuts the same ones.
The held-out list is fixed by the files' sorted paths: every `holdout_every`-th
painting (at least one), never trained on; checkpoints keep its names.

Degradation, drawn per batch in training: a mild Gaussian blur (sigma up to
`max_blur` high-resolution pixels, 0 half the time), then a 4x downscale by area
averaging or antialiased bicubic, at random; the result is rounded to 8-bit
levels as a stored picture would be. Held-out pictures are measured on the one
fixed degradation, area averaging with no blur (`downscale`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from trainers.common.data import open_image, picture_files


def painting_files(folder: str | Path) -> list[Path]:
    """The picture files under `folder`, sub-folders included, in sorted path order."""
    return picture_files(folder, "pictures", recursive=True)


def split_held_out(files: list[Path], every: int) -> tuple[list[Path], list[Path]]:
    """(training files, held-out files): every `every`-th file of the sorted list is held out, at least one,
    and at least one is left to train on."""
    if len(files) < 2:
        raise ValueError(f"super-resolution needs at least 2 pictures (one is held out), found {len(files)}")
    held = [path for index, path in enumerate(files) if index % every == every - 1] or [files[-1]]
    kept = set(held)
    return [path for path in files if path not in kept], held


def load_pictures(files: list[Path], min_side: int) -> list[np.ndarray]:
    """Each file as (H, W, 3) uint8 RGB; a picture smaller than `min_side` either way is refused in one line."""
    pictures = []
    for path in files:
        picture = np.asarray(open_image(path))
        if min(picture.shape[:2]) < min_side:
            raise ValueError(f"{path}: {picture.shape[1]}x{picture.shape[0]} pixels, smaller than the "
                             f"{min_side}-pixel patches training cuts (use --patch smaller)")
        pictures.append(picture)
    return pictures


def random_patches(pictures: list[np.ndarray], indices: list[int], size: int) -> torch.Tensor:
    """A size x size patch of each picture named by `indices`, at a random place, randomly mirrored and
    turned by a multiple of 90 degrees (torch's global stream): (N, 3, size, size) float in [0, 1]."""
    patches = []
    for index in indices:
        picture = pictures[index]
        height, width = picture.shape[:2]
        top = int(torch.randint(0, height - size + 1, ()))
        left = int(torch.randint(0, width - size + 1, ()))
        patch = torch.from_numpy(np.ascontiguousarray(picture[top:top + size, left:left + size]))
        patch = patch.permute(2, 0, 1).float() / 255.0
        if bool(torch.rand(()) < 0.5):
            patch = patch.flip(-1)
        patches.append(torch.rot90(patch, int(torch.randint(0, 4, ())), dims=(1, 2)))
    return torch.stack(patches)


def degrade(high: torch.Tensor, scale: int, max_blur: float) -> torch.Tensor:
    """(N, 3, H, W) in [0, 1] -> (N, 3, H/scale, W/scale): blurred (or not), downscaled by area or antialiased
    bicubic, rounded to 8-bit levels; the choices drawn from torch's global stream."""
    sigma = float(torch.rand(())) * max_blur if bool(torch.rand(()) < 0.5) else 0.0
    if sigma > 0.05:
        high = gaussian_blur(high, sigma)
    size = (high.shape[-2] // scale, high.shape[-1] // scale)
    if bool(torch.rand(()) < 0.5):
        low = F.interpolate(high, size=size, mode="area")
    else:
        low = F.interpolate(high, size=size, mode="bicubic", align_corners=False, antialias=True)
    return torch.round(low.clamp(0.0, 1.0) * 255.0) / 255.0


def downscale(high: np.ndarray, scale: int) -> np.ndarray:
    """(H, W, 3) uint8 -> (H/scale, W/scale, 3) uint8 by area averaging (H and W multiples of scale):
    the fixed degradation of held-out measures."""
    height, width = high.shape[0] // scale, high.shape[1] // scale
    blocks = high[:height * scale, :width * scale].reshape(height, scale, width, scale, 3).astype(np.float32)
    return np.round(blocks.mean(axis=(1, 3))).astype(np.uint8)


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """(N, C, H, W) blurred by a Gaussian of `sigma` pixels (reflected borders), size kept."""
    radius = max(1, int(np.ceil(3 * sigma)))
    offsets = torch.arange(-radius, radius + 1, dtype=image.dtype, device=image.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = image.shape[1]
    padded = F.pad(image, (radius, radius, radius, radius), mode="reflect")
    across = F.conv2d(padded, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(across, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)
