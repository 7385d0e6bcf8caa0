"""trainers.common.quality: KID on the real ImageNet VGG16's features tells one set of photographs from itself and
from a noised copy; the estimator is unbiased (it goes below 0) and seeded; an exact copy's nearest training
picture is itself at distance 0, and the sheet shows each sample beside it."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from trainers.common.quality import PictureFeatures, kid, nearest_neighbours, nearest_sheet

SIDE = 64
NAMES = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "cat", "camera")


def photo_crops(count: int, seed: int) -> list[np.ndarray]:
    """`count` random square windows of scikit-image's photographs, SIDE x SIDE float32 RGB in [0, 1]."""
    rng = np.random.default_rng(seed)
    crops = []
    for _ in range(count):
        pixels = getattr(data, NAMES[rng.integers(len(NAMES))])()
        pixels = np.stack([pixels] * 3, axis=-1) if pixels.ndim == 2 else pixels[..., :3]
        side = int(rng.integers(96, min(pixels.shape[:2])))
        top, left = (int(rng.integers(0, extent - side + 1)) for extent in pixels.shape[:2])
        window = Image.fromarray(pixels[top:top + side, left:left + side])
        crops.append(np.asarray(window.resize((SIDE, SIDE), Image.Resampling.LANCZOS), np.float32) / 255)
    return crops


@pytest.fixture(scope="module")
def features():
    return PictureFeatures(side=SIDE)


@pytest.fixture(scope="module")
def sets(features):
    """Features of two halves of one set of photographs and of the second half with noise added."""
    first, second = photo_crops(48, seed=1), photo_crops(48, seed=2)
    rng = np.random.default_rng(3)
    noised = [np.clip(crop + rng.normal(0, 0.2, crop.shape), 0, 1).astype(np.float32) for crop in second]
    return features(first), features(second), features(noised)


def test_kid_of_two_halves_of_one_set_is_near_0_and_below_kid_against_a_noised_set(sets, features):
    first, second, noised = sets
    assert first.shape == (48, 512) and first.dtype == torch.float64
    same = kid(first, second, subsets=50, subset_size=24, features=features.name)
    apart = kid(first, noised, subsets=50, subset_size=24, features=features.name)
    assert abs(same.mean) < 2 * same.std
    assert apart.mean > 2 * apart.std and apart.mean > 5 * abs(same.mean)
    assert same.describe().startswith("KID on ImageNet VGG16 pool5 features (64 px): ")
    assert "50 subsets of 24" in same.describe()


def test_kid_is_unbiased_and_the_same_for_a_seed():
    # two samples of one distribution: an unbiased estimate averages 0 and so must often fall below it
    # (a biased one, with each point's kernel on itself counted, never does)
    estimates = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        x, y = (torch.from_numpy(rng.normal(size=(30, 16))) for _ in range(2))
        estimates.append(kid(x, y, subsets=5, subset_size=30, seed=seed).mean)
    estimates = np.array(estimates)
    assert (estimates < 0).sum() >= 8
    assert abs(estimates.mean()) < 3 * estimates.std() / np.sqrt(len(estimates))
    x, y = torch.randn(50, 8, generator=torch.Generator().manual_seed(0)), torch.randn(50, 8) + 1
    assert kid(x, y, subsets=20, subset_size=10, seed=7) == kid(x, y, subsets=20, subset_size=10, seed=7)
    assert kid(x, y, subsets=20, subset_size=10, seed=7).mean != kid(x, y, subsets=20, subset_size=10, seed=8).mean


def test_bad_feature_sets_are_refused():
    with pytest.raises(ValueError, match="one D"):
        kid(torch.zeros(5, 4), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="at least 2"):
        kid(torch.zeros(1, 4), torch.zeros(5, 4))


def test_an_exact_copy_is_nearest_to_itself_at_distance_0_and_the_sheet_shows_the_pairs(features):
    training = photo_crops(20, seed=4)
    samples = [training[7], training[13] * 0.5, photo_crops(1, seed=5)[0]]  # a copy, a darker copy, a new one
    indices, distances = nearest_neighbours(features(samples), features(torch.from_numpy(np.stack(training))
                                                                        .permute(0, 3, 1, 2)))
    assert indices[0] == 7 and distances[0] == 0
    assert indices[1] == 13 and 0 < distances[1]
    assert distances[2] > 0
    sheet = nearest_sheet(samples, training, indices, distances, side=SIDE, columns=3)
    assert sheet.shape == (SIDE + 14, 3 * (2 * SIDE + 2) + 2 * 6, 3)
    copy_pair = sheet[:SIDE, :2 * SIDE + 2].astype(int)
    assert np.abs(copy_pair[:, :SIDE] - copy_pair[:, SIDE + 2:]).max() <= 1  # sample | nearest: the same picture
    assert np.abs(copy_pair[:, :SIDE] - np.round(training[7] * 255)).max() <= 1
