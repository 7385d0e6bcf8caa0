"""How close generated pictures come to real ones, and whether they copy them: KID and nearest neighbours on
the ImageNet VGG16's features.

The API (kept small and stable, so that any trainer can plot it):

- `PictureFeatures(side=128, batch_size=16, device="cpu")`: loads the real
  ImageNet VGG16 once (trainers.common.loss_networks, Caffe preprocessing
  there); calling it on pictures gives a (N, 512) float64 CPU tensor: each
  picture resized to side x side, its last convolution block read out
  (relu5_3), max-pooled as pool5 does, averaged over space and divided by
  FEATURE_SCALE. Pictures go through in batches under torch.no_grad (on the
  CPU unless `device` says), so memory stays bounded however many there are;
  they may be a (N, 3, H, W) tensor in [0, 1] (a generator's batch) or any
  iterable of file paths, PIL images, (H, W, 3) arrays (uint8, or float in
  [0, 1]) or (3, H, W) tensors in [0, 1]. `.name` says what they are, e.g.
  "ImageNet VGG16 pool5 features (128 px)".
- `kid(real, fake, subsets=100, subset_size=1000, seed=0, features=NAME) -> KID`:
  the kernel inception distance's estimator on these features: the unbiased
  MMD^2 with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, over
  `subsets` random subsets of min(subset_size, len(real), len(fake)) of each
  (drawn without replacement, seeded); the mean and standard deviation over
  subsets. Being unbiased it can go below 0 when two sets come from one
  distribution. `KID.describe()` names what it measured from `features`
  (pass PictureFeatures' `.name`): "KID on ImageNet VGG16 pool5 features
  (128 px): ...", never FID or Inception, which it is not.
- `nearest_neighbours(samples, training) -> (indices, distances)`: for each
  sample's features, the nearest training picture's index and the Euclidean
  distance in that feature space (an exact copy is at 0).
- `nearest_sheet(samples, training, indices, distances) -> (H, W, 3) uint8`:
  each sample beside its nearest training picture with the distance written
  under it, so a person sees whether samples copy training pictures.

Figures are comparable only between runs that share the feature network, the
side and FEATURE_SCALE (the name says the first two; the scale is fixed here).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from trainers.common.data import open_image
from trainers.common.images import image_grid, to_uint8
from trainers.common.loss_networks import LossNetwork, loss_network

FEATURE_LAYER = "relu5_3"  # the last convolution block's output; pool5 is the 2x2 max-pool after it
FEATURE_SCALE = 16.0  # Caffe-scale activations / 16: x.x / d about 1 on photographs, like Inception features

Picture = str | Path | Image.Image | np.ndarray | torch.Tensor


class PictureFeatures:
    """Pictures -> (N, 512) float64 pooled ImageNet VGG16 features (see the module docstring)."""

    def __init__(self, side: int = 128, batch_size: int = 16, network: LossNetwork | None = None,
                 device: str | torch.device = "cpu"):
        if side < 32:
            raise ValueError(f"side must be at least 32 pixels (pool5 halves it five times), got {side}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.device = torch.device(device)
        self.network = (network or loss_network("vgg16", deepest=FEATURE_LAYER)).to(self.device)
        self.side, self.batch_size = side, batch_size
        self.name = f"ImageNet VGG16 pool5 features ({side} px)"

    def __call__(self, pictures: torch.Tensor | Iterable[Picture]) -> torch.Tensor:
        found = [self._batch(batch) for batch in _batches(pictures, self.batch_size, self.side)]
        if not found:
            raise ValueError("no pictures to take features of")
        return torch.cat(found)

    @torch.no_grad()
    def _batch(self, batch: torch.Tensor) -> torch.Tensor:
        # (B, 3, side, side) in [0, 1] -> (B, 512)
        activations = self.network(batch.to(self.device), (FEATURE_LAYER,))[FEATURE_LAYER]
        return F.max_pool2d(activations, 2).mean(dim=(2, 3)).double().cpu() / FEATURE_SCALE


@dataclass(frozen=True)
class KID:
    mean: float
    std: float  # over subsets
    subsets: int
    subset_size: int
    features: str  # what the features were, e.g. "ImageNet VGG16 pool5 features (128 px)"

    def describe(self) -> str:
        return (f"KID on {self.features}: {self.mean:.4f} +- {self.std:.4f} "
                f"({self.subsets} subsets of {self.subset_size})")


def kid(real: torch.Tensor, fake: torch.Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 0,
        features: str = "ImageNet VGG16 pool5 features") -> KID:
    """The unbiased MMD^2 between two (N, D) feature sets with the cubic polynomial kernel, in subsets."""
    real, fake = torch.as_tensor(real, dtype=torch.float64), torch.as_tensor(fake, dtype=torch.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"expected two (N, D) feature sets of one D, got {tuple(real.shape)} and {tuple(fake.shape)}")
    size = min(subset_size, len(real), len(fake))
    if size < 2 or subsets < 1:
        raise ValueError(f"KID needs at least 2 pictures a set and 1 subset, got {len(real)}, {len(fake)}, {subsets}")
    rng = np.random.default_rng(seed)
    estimates = np.array([_mmd2(real[rng.choice(len(real), size, replace=False)],
                                fake[rng.choice(len(fake), size, replace=False)]) for _ in range(subsets)])
    return KID(float(estimates.mean()), float(estimates.std()), subsets, size, features)


def _mmd2(x: torch.Tensor, y: torch.Tensor) -> float:
    # unbiased: the kernel's diagonal (each point with itself) is left out of the within-set means
    m, dimensions = len(x), x.shape[1]
    kxx = (x @ x.T / dimensions + 1) ** 3
    kyy = (y @ y.T / dimensions + 1) ** 3
    kxy = (x @ y.T / dimensions + 1) ** 3
    within = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * kxy.mean())


def nearest_neighbours(samples: torch.Tensor, training: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each of (N, D) sample features, the index of the nearest of (M, D) training features and the
    Euclidean distance to it: two (N,) tensors."""
    samples, training = torch.as_tensor(samples, dtype=torch.float64), torch.as_tensor(training, dtype=torch.float64)
    # differences, not the |a|^2 + |b|^2 - 2ab shortcut, so a copy is at exactly 0
    distances = torch.cdist(samples, training, compute_mode="donot_use_mm_for_euclid_dist")
    nearest = distances.min(dim=1)
    return nearest.indices, nearest.values


def nearest_sheet(samples: torch.Tensor | Sequence[Picture], training: Sequence[Picture], indices: torch.Tensor,
                  distances: torch.Tensor, side: int = 128, columns: int = 4) -> np.ndarray:
    """(H, W, 3) uint8: `columns` pairs to a row, each a sample | its nearest training picture, side x side
    each, the distance under the pair."""
    samples = list(_pictures(samples, side))
    if len(samples) != len(indices):
        raise ValueError(f"{len(samples)} samples but {len(indices)} neighbours")
    pairs = []
    for sample, index, distance in zip(samples, indices.tolist(), distances.tolist()):
        nearest = next(_pictures([training[index]], side))
        pair = Image.new("RGB", (2 * side + 2, side + 14), "white")
        pair.paste(Image.fromarray(to_uint8(sample.permute(1, 2, 0))), (0, 0))
        pair.paste(Image.fromarray(to_uint8(nearest.permute(1, 2, 0))), (side + 2, 0))
        ImageDraw.Draw(pair).text((2, side + 1), f"nearest #{index}: {distance:.3f}", fill=(0, 0, 0))
        pairs.append(np.asarray(pair))
    return image_grid(pairs, columns, gap=6)


def _pictures(pictures: torch.Tensor | Iterable[Picture], side: int) -> Iterator[torch.Tensor]:
    """Each picture as a (3, side, side) float32 tensor in [0, 1]."""
    for picture in pictures:
        if isinstance(picture, (str, Path)):
            picture = open_image(picture)
        if isinstance(picture, Image.Image):
            picture = np.asarray(picture.convert("RGB"))
        if isinstance(picture, np.ndarray):
            scale = 255.0 if picture.dtype == np.uint8 else 1.0
            picture = torch.from_numpy(np.ascontiguousarray(picture, dtype=np.float32) / scale).permute(2, 0, 1)
        picture = picture.detach().to("cpu", torch.float32)
        if picture.ndim != 3 or picture.shape[0] != 3:
            raise ValueError(f"expected an RGB picture, got a tensor of shape {tuple(picture.shape)}")
        if picture.shape[1:] != (side, side):
            picture = F.interpolate(picture[None], size=(side, side), mode="bilinear", antialias=True,
                                    align_corners=False)[0]
        yield picture.clamp(0, 1)


def _batches(pictures: torch.Tensor | Iterable[Picture], batch_size: int, side: int) -> Iterator[torch.Tensor]:
    batch: list[torch.Tensor] = []
    for picture in _pictures(pictures, side):
        batch.append(picture)
        if len(batch) == batch_size:
            yield torch.stack(batch)
            batch = []
    if batch:
        yield torch.stack(batch)

