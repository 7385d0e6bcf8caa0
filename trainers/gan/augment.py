"""Differentiable augmentation for GANs on small data (DiffAugment, Zhao et al. 2020).

The discriminator sees every picture, real or made, through the same random
colour change, translation and cutout, and the generator's loss goes through
them too, so the discriminator cannot memorise a few hundred paintings and the
generator is not taught the augmentations (they apply to both sides). Every
operation is built from tensor arithmetic and indexing, so gradients flow back
to the generator. The draws come from torch's global stream (on the pictures'
device), which checkpoints capture: a resumed run draws the same augmentations.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125  # at most an eighth of the side each way
CUTOUT_RATIO = 0.5  # a square of half the side


def parse_policy(text: str) -> tuple[str, ...]:
    """"color,translation,cutout" -> its names, in that canonical order; "" or "none" -> ()."""
    names = [name.strip() for name in text.split(",") if name.strip() and name.strip() != "none"]
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ValueError(f"unknown augmentation {', '.join(unknown)}; choose from {', '.join(POLICIES)} or none")
    return tuple(name for name in POLICIES if name in names)


def diff_augment(x: torch.Tensor, policy: tuple[str, ...]) -> torch.Tensor:
    """(N, C, H, W) pictures in about [-1, 1], each with its own random draw of each policy."""
    for name in policy:
        x = _OPERATIONS[name](x)
    return x


def _color(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    x = x + (torch.rand(n, 1, 1, 1, device=x.device) - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device) * 2) + mean  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device) + 0.5) + mean  # contrast


def _translation(x: torch.Tensor) -> torch.Tensor:
    n, _, h, w = x.shape
    pad_y, pad_x = max(1, int(h * TRANSLATION_RATIO + 0.5)), max(1, int(w * TRANSLATION_RATIO + 0.5))
    shift_y = torch.randint(-pad_y, pad_y + 1, (n, 1, 1), device=x.device)
    shift_x = torch.randint(-pad_x, pad_x + 1, (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device)[None, :, None] + shift_y + pad_y  # (n, h, 1) into the padded picture
    columns = torch.arange(w, device=x.device)[None, None, :] + shift_x + pad_x  # (n, 1, w)
    padded = F.pad(x, [pad_x, pad_x, pad_y, pad_y]).permute(0, 2, 3, 1)  # zeros come in at the edges
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded[batch, rows, columns].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor) -> torch.Tensor:
    n, _, h, w = x.shape
    size_y, size_x = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    top = torch.randint(0, h + (1 - size_y % 2), (n, 1, 1), device=x.device) - size_y // 2
    left = torch.randint(0, w + (1 - size_x % 2), (n, 1, 1), device=x.device) - size_x // 2
    rows = torch.arange(h, device=x.device)[None, :, None]
    columns = torch.arange(w, device=x.device)[None, None, :]
    inside = (rows >= top) & (rows < top + size_y) & (columns >= left) & (columns < left + size_x)
    return x * (~inside).to(x.dtype)[:, None]


_OPERATIONS = {"color": _color, "translation": _translation, "cutout": _cutout}
