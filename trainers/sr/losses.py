"""The losses of super-resolution, as pure functions of tensors.

Pixel: mean absolute error, which keeps colours and PSNR honest. Perceptual:
the relative L1 distance between VGG-16 features (relu2_2: edges and fine
texture) of the upscaled patch and the original, divided by the original's
mean feature size, so it reads about 1 for a picture unlike the target under
any loss network's activation scale.
"""
from __future__ import annotations

import torch

PERCEPTUAL_LAYER = "relu2_2"


def pixel_loss(made: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (made - target).abs().mean()


def perceptual_loss(made_features: torch.Tensor, target_features: torch.Tensor) -> torch.Tensor:
    return (made_features - target_features).abs().mean() / target_features.abs().mean().clamp_min(1e-12)
