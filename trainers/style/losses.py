"""The losses and metrics of style transfer, as pure functions of tensors (no I/O, no state).

Gram matrices of VGG features carry style (which features fire together,
wherever they are); the features themselves at relu2_2 carry content. Both
are relative errors: each layer's squared error divided by the mean square
of its target, so a loss reads the same whatever the scale of the loss
network's activations (Caffe-input VGGs run about 50x torchvision's, a random
one differently again, and the layers of one network differ by 10^4 in Gram
size), every style layer counts alike, and 0.5 means "half the target's
energy is wrong" under any network. Total
variation penalises pixel-to-pixel noise. Temporal stability is taught without
video: a small random affine warp stands for motion, and a network that is
stable gives the warped output for the warped input. `flicker` measures what a
visitor standing still would see: the mean change between consecutive outputs
of a clip whose input barely changes.
"""
from __future__ import annotations

import math

import torch
from torch import nn

STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
CONTENT_LAYER = "relu2_2"


def gram(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C) feature co-activations, divided by C*H*W so sizes compare."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def relative_error(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE(value, target) / mean(target^2): 0 for a match, 1 for an all-zero value."""
    return nn.functional.mse_loss(value, target) / target.square().mean().clamp_min(1e-12)


def style_loss(features: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean over the style layers of the relative error of the features' Gram matrices against the
    targets' (1 or N, C, C)."""
    return sum(relative_error(gram(features[name]), targets[name].expand(len(features[name]), -1, -1))
               for name in targets) / len(targets)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The relative error of the features against the content's."""
    return relative_error(features, target)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels, across and down: (N, C, H, W) -> scalar."""
    across = (image[..., :, 1:] - image[..., :, :-1]).abs().mean()
    down = (image[..., 1:, :] - image[..., :-1, :]).abs().mean()
    return across + down


def random_affine(count: int, max_degrees: float, max_shift: float, max_zoom: float,
                  generator: torch.Generator | None = None, device: torch.device | None = None) -> torch.Tensor:
    """(count, 2, 3) affine matrices for affine_grid: a rotation of up to max_degrees, a shift of up to
    max_shift (fraction of the half-size) and a zoom of up to 1 +- max_zoom, each drawn uniformly."""
    draws = torch.rand(count, 4, generator=generator) * 2 - 1  # (count, 4) in [-1, 1)
    angle = draws[:, 0] * math.radians(max_degrees)
    zoom = 1 + draws[:, 1] * max_zoom
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    matrices = torch.stack([torch.stack([cos, -sin, draws[:, 2] * max_shift], 1),
                            torch.stack([sin, cos, draws[:, 3] * max_shift], 1)], 1)
    return matrices.to(device) if device is not None else matrices


def warp(image: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """Each picture (N, C, H, W) moved by its affine matrix (N, 2, 3); edges repeat the border."""
    grid = nn.functional.affine_grid(matrices, list(image.shape), align_corners=False)
    return nn.functional.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)


def temporal_loss(styled_moved: torch.Tensor, styled: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """MSE between the style of the moved picture and the moved style of the picture: zero for a network
    whose output follows its input's motion instead of re-inventing its strokes."""
    return nn.functional.mse_loss(styled_moved, warp(styled, matrices))


def still_clip(picture: torch.Tensor, frames: int, noise: float, seed: int) -> torch.Tensor:
    """(frames, 3, H, W): the picture (3, H, W) in [0, 1] as a camera sees a visitor standing still:
    sensor noise of standard deviation `noise` and a sub-pixel sway (0.3 px at most) in every frame."""
    generator = torch.Generator().manual_seed(seed)
    height, width = picture.shape[-2:]
    sway = 0.3 * 2 / min(height, width)  # 0.3 px in affine_grid's [-1, 1] units
    matrices = random_affine(frames, 0.0, sway, 0.0, generator)
    moved = warp(picture.unsqueeze(0).expand(frames, -1, -1, -1), matrices)
    return (moved + noise * torch.randn(moved.shape, generator=generator)).clamp(0, 1)


@torch.no_grad()
def flicker(network: nn.Module, clip: torch.Tensor) -> float:
    """Mean |output(t) - output(t-1)| over a clip (frames, 3, H, W), in [0, 1] units (x255 for levels)."""
    outputs = torch.cat([network(frame.unsqueeze(0)) for frame in clip])
    return float((outputs[1:] - outputs[:-1]).abs().mean())
