"""The fast feed-forward style network (Johnson et al. 2016, with Ulyanov's instance norm); no I/O here.

A 9x9 convolution, two 3x3 stride-2 convolutions down to a quarter of the size,
residual blocks, two upsamplings back, and a 9x9 convolution to RGB; every
convolution is reflection-padded (no dark borders) and all but the last are
followed by affine instance norm and ReLU. Pictures go in and come out as RGB
in [0, 1], NCHW, at any height and width: the network pads the picture to a
multiple of 4 (its two halvings) by reflection and crops the result back, inside
the graph, so an exported file takes camera frames of any size. The classic code
works in [0, 255]; [0, 1] keeps the exporter's absolute parity tolerances,
which are set for images of about unit range, meaningful.

The slim variant is for CPU realtime: its first convolution is a 5x5 with
stride 2, the residual blocks work at a quarter size with 2*base channels (not
4*base), the second doubling is a bilinear resize with no convolution, norm or
ReLU behind it, and the last convolution is a 5x5 to RGB. Only that one
convolution (and the pad and resize) touches every pixel at full size, which
is what a CPU's memory bandwidth pays for (bench/style_bench.py measures it).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from exporters.spec import ExportSpec, image_to_image_spec
from live.inference.model_card import ModelCard

SIZE_MULTIPLE = 4  # two stride-2 downsamplings


@dataclass
class StyleConfig:
    base_channels: int = 32  # widths base, 2*base, 4*base from the input side inwards (slim: base, 2*base)
    residual_blocks: int = 5
    slim: bool = False  # the CPU-realtime layout (see the module's docstring)

    def __post_init__(self) -> None:
        if self.base_channels < 1:
            raise ValueError(f"base_channels must be at least 1, got {self.base_channels}")
        if self.residual_blocks < 0:
            raise ValueError(f"residual_blocks must be 0 or more, got {self.residual_blocks}")


def _conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """Reflection-padded conv that keeps the size (stride 1) or halves it (stride 2)."""
    return nn.Sequential(nn.ReflectionPad2d(kernel // 2), nn.Conv2d(in_channels, out_channels, kernel, stride))


def _conv_norm_relu(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(_conv(in_channels, out_channels, kernel, stride),
                         nn.InstanceNorm2d(out_channels, affine=True), nn.ReLU())


class _Residual(nn.Module):
    """x + (conv, norm, ReLU, conv, norm)(x): the size and width stay."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            _conv_norm_relu(channels, channels, 3),
            _conv(channels, channels, 3), nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class _Upsample(nn.Module):
    """Double the size by nearest-neighbour resize, then conv, norm, ReLU.

    Not a transposed conv: its overlapping stride-2 kernels add up unevenly and
    print a checkerboard on the picture (Odena et al., Distill 2016)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = _conv_norm_relu(in_channels, out_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.interpolate(x, scale_factor=2.0, mode="nearest"))


class StyleNetwork(nn.Module):
    """image (N, 3, H, W) RGB in [0, 1] -> (N, 3, H, W) RGB in [0, 1]; any H and W of at least 4."""

    def __init__(self, config: StyleConfig):
        super().__init__()
        self.config = config
        b = config.base_channels
        if config.slim:
            inner = 2 * b
            self.down = nn.Sequential(_conv_norm_relu(3, b, 5, stride=2), _conv_norm_relu(b, inner, 3, stride=2))
            self.residuals = nn.Sequential(*(_Residual(inner) for _ in range(config.residual_blocks)))
            # the last doubling is a plain bilinear resize: no b-channel conv, norm and ReLU at full size
            self.up = nn.Sequential(_Upsample(inner, b), nn.Upsample(scale_factor=2.0, mode="bilinear"))
            self.to_rgb = _conv(b, 3, 5)
        else:
            self.down = nn.Sequential(
                _conv_norm_relu(3, b, 9),
                _conv_norm_relu(b, 2 * b, 3, stride=2),
                _conv_norm_relu(2 * b, 4 * b, 3, stride=2),
            )
            self.residuals = nn.Sequential(*(_Residual(4 * b) for _ in range(config.residual_blocks)))
            self.up = nn.Sequential(_Upsample(4 * b, 2 * b), _Upsample(2 * b, b))
            self.to_rgb = _conv(b, 3, 9)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        height, width = image.shape[-2], image.shape[-1]
        # Pad bottom and right to the next multiple of SIZE_MULTIPLE; traced, these sizes stay graph
        # values (Shape, Mod, Pad), so the exported file takes any size, not the one it was traced at.
        padded = nn.functional.pad(image, (0, (-width) % SIZE_MULTIPLE, 0, (-height) % SIZE_MULTIPLE), mode="reflect")
        features = self.up(self.residuals(self.down(padded)))
        # The paper's scaled tanh bounds the output, so the card's range holds for any weights.
        styled = (torch.tanh(self.to_rgb(features)) + 1) / 2
        return styled[..., :height, :width]

    def export_spec(self) -> ExportSpec:
        c = self.config

        def sample_inputs(height: int, width: int, seed: int) -> tuple[torch.Tensor, ...]:
            generator = torch.Generator().manual_seed(seed)
            return (torch.rand((1, 3, height, width), generator=generator),)

        card = ModelCard(
            kind="style", input="rgb", output_layout="NCHW", input_range=(0.0, 1.0), output_range=(0.0, 1.0),
            size_multiple=1,  # the graph pads to its own multiple and crops back
            extra={"base_channels": str(c.base_channels), "residual_blocks": str(c.residual_blocks),
                   "slim": str(c.slim).lower(), "internal_multiple": str(SIZE_MULTIPLE)},
        )
        # Neither square; the first a multiple of 4 but not of 8 (an odd size at the bottleneck),
        # the second a multiple of neither (padded inside the graph, cropped back).
        return image_to_image_spec(card, sample_inputs, parity_sizes=((36, 52), (37, 53)))
