"""The compact 4x super-resolution network; no I/O here.

Everything heavy happens at the low resolution: a 3x3 convolution to `width`
channels, `blocks` residual blocks (conv, ReLU, conv, added back), one 3x3
convolution to 3 * scale^2 channels and a pixel shuffle (ONNX DepthToSpace)
that lays those channels out as scale x scale pixels each. The result is added
to the bicubic upscale of the input, so the network learns only what bicubic
misses (edges, texture) and starts out as bicubic: its last convolution begins
at zero. Pictures are RGB in [0, 1], NCHW, any height and width; in eval mode
(and so in the exported file) the output is clamped to [0, 1].

Cost per low-resolution pixel at width 32 and 2 blocks is about 52k
multiply-adds, so 512 x 512 -> 2048 x 2048 is ~14 G, about a second through
ONNX Runtime on two CPU cores (bench/sr_bench.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from exporters.spec import ExportSpec, image_to_image_spec
from live.inference.model_card import ModelCard


@dataclass
class SRConfig:
    scale: int = 4  # output pixels per input pixel, each way
    width: int = 32  # channels of the low-resolution features
    blocks: int = 2  # residual blocks

    def __post_init__(self) -> None:
        if self.scale < 2:
            raise ValueError(f"scale must be at least 2, got {self.scale}")
        if self.width < 1:
            raise ValueError(f"width must be at least 1, got {self.width}")
        if self.blocks < 0:
            raise ValueError(f"blocks must be 0 or more, got {self.blocks}")


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRNetwork(nn.Module):
    """(N, 3, h, w) in [0, 1] -> (N, 3, scale*h, scale*w): bicubic plus a learnt residual."""

    def __init__(self, config: SRConfig | None = None):
        super().__init__()
        self.config = config = config or SRConfig()
        self.head = nn.Sequential(nn.Conv2d(3, config.width, 3, padding=1), nn.ReLU())
        self.body = nn.Sequential(*(_Residual(config.width) for _ in range(config.blocks)))
        self.tail = nn.Conv2d(config.width, 3 * config.scale ** 2, 3, padding=1)
        self.shuffle = nn.PixelShuffle(config.scale)
        nn.init.zeros_(self.tail.weight)  # starts as plain bicubic: learning only adds
        nn.init.zeros_(self.tail.bias)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        features = self.body(self.head(image))
        upscaled = bicubic(image, self.config.scale) + self.shuffle(self.tail(features))
        return upscaled if self.training else upscaled.clamp(0.0, 1.0)

    def export_spec(self) -> ExportSpec:
        c = self.config

        def sample_inputs(height: int, width: int, seed: int) -> tuple[torch.Tensor, ...]:
            generator = torch.Generator().manual_seed(seed)
            return (torch.rand((1, 3, height, width), generator=generator),)

        card = ModelCard(kind="sr", input="rgb", output_layout="NCHW", input_range=(0.0, 1.0),
                         output_range=(0.0, 1.0), scale=float(c.scale),
                         extra={"width": str(c.width), "blocks": str(c.blocks), "base": "bicubic"})
        return image_to_image_spec(card, sample_inputs, parity_sizes=((24, 32), (19, 27)))


def bicubic(image: torch.Tensor, scale: int) -> torch.Tensor:
    """(N, C, h, w) -> (N, C, scale*h, scale*w), bicubic (a = -0.75, as OpenCV's INTER_CUBIC), unclamped."""
    return F.interpolate(image, scale_factor=scale, mode="bicubic", align_corners=False)
