"""The pix2pix U-Net generator (Isola et al. 2017, appendix 6.1.1); the network only, no I/O.

The encoder halves the picture `depth` times with 4x4 stride-2 convolutions
(norm, LeakyReLU 0.2); the decoder doubles it back with 4x4 stride-2
transposed convolutions (norm, dropout in the first blocks, ReLU), each block's
output concatenated with the encoder activation of the same size, and ends in
Tanh. Pictures go in and come out in [-1, 1], NCHW; height and width must be
multiples of 2**depth (256 for the paper's depth 8, where the bottleneck is 1x1).
With upsample="resize" the decoder doubles by nearest-neighbour resize and a 3x3
convolution instead: transposed convolutions with a kernel the stride does not
divide evenly paint checkerboards (Odena et al., "Deconvolution and Checkerboard
Artifacts", 2016).
Every convolution of the generator pads with copies of the edge pixels
(padding="replicate") with the resize decoder: zero padding invents a dark frame around every
feature map, which a deep U-Net trained at one crop size learns as part of the
picture (the old demo model painted a rectangle inside each output). With
replicate padding a flat input gives a flat output at any size.

The discriminator is the paper's 70x70 PatchGAN: it scores overlapping 70x70
patches of (input, picture) as real or made, one logit per patch.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from exporters.spec import ExportSpec, image_to_image_spec
from live.inference.model_card import ModelCard

NORMS = ("instance", "batch")
UPSAMPLES = ("transpose", "resize")
PADDINGS = ("replicate", "reflect", "zeros")  # torch's padding_mode names
MAX_CHANNEL_FACTOR = 8  # encoder widths grow base, 2*base, 4*base, 8*base, then stay
DROPOUT_BLOCKS = 3  # the paper's decoder opens with CD512-CD1024-CD1024: dropout in three blocks
DROPOUT = 0.5


@dataclass
class Pix2PixConfig:
    in_channels: int = 1  # 1: an edge map, 3: an RGB picture
    out_channels: int = 3
    base_channels: int = 64
    depth: int = 8  # downsamplings; height and width must be multiples of 2**depth
    norm: str = "instance"
    upsample: str = "transpose"  # "resize": nearest resize + 3x3 conv, no checkerboard artifacts
    # None: "replicate" with the resize decoder, "zeros" with the paper's transposed convolutions (whose
    # border outputs get half the taps, a border of their own that padding cannot remove)
    padding: str | None = None

    def __post_init__(self) -> None:
        if self.in_channels not in (1, 3):
            raise ValueError(f"in_channels must be 1 (edges) or 3 (RGB), got {self.in_channels}")
        if self.out_channels not in (1, 3):
            raise ValueError(f"out_channels must be 1 (gray) or 3 (RGB), got {self.out_channels}")
        if self.base_channels < 1:
            raise ValueError(f"base_channels must be at least 1, got {self.base_channels}")
        if self.depth < 2:
            raise ValueError(f"depth must be at least 2 (an encoder and a bottleneck), got {self.depth}")
        if self.norm not in NORMS:
            raise ValueError(f"unknown norm {self.norm!r}; choose from {', '.join(NORMS)}")
        if self.upsample not in UPSAMPLES:
            raise ValueError(f"unknown upsample {self.upsample!r}; choose from {', '.join(UPSAMPLES)}")
        if self.padding is None:
            self.padding = "replicate" if self.upsample == "resize" else "zeros"
        if self.padding not in PADDINGS:
            raise ValueError(f"unknown padding {self.padding!r}; choose from {', '.join(PADDINGS)}")
        if self.padding != "zeros" and self.upsample == "transpose":
            # a transposed convolution's padding crops its output: torch offers no other mode for it
            raise ValueError(f"padding {self.padding!r} needs upsample='resize' (transposed convolutions only crop)")

    @property
    def size_multiple(self) -> int:
        return 2 ** self.depth


def _normalisation(kind: str, channels: int) -> nn.Module:
    # Instance norm by default. pix2pix trains at batch size 1, where batch norm's statistics
    # are one picture's own; in eval mode it switches to running averages of those, and the
    # live picture changes (washed out, shifted colours): the classic pitfall. Instance norm
    # uses each picture's own statistics in training and inference alike.
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    return nn.BatchNorm2d(channels)


def _down(in_channels: int, out_channels: int, norm: str | None, padding: str = "zeros") -> nn.Sequential:
    """Halve height and width: conv 4x4 stride 2, norm (unless None), LeakyReLU 0.2."""
    # A following norm removes any bias (it subtracts the mean), so only unnormalised convs carry one.
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 4, stride=2, padding=1, bias=norm is None,
                                         padding_mode=padding)]
    if norm is not None:
        layers.append(_normalisation(norm, out_channels))
    layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def _doubling(in_channels: int, out_channels: int, upsample: str, bias: bool, padding: str) -> nn.Module:
    """A layer that doubles height and width: transposed conv 4x4 stride 2, or resize and conv 3x3."""
    if upsample == "transpose":
        return nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=bias)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias, padding_mode=padding))


def _up(in_channels: int, out_channels: int, norm: str, dropout: bool, upsample: str, padding: str) -> nn.Sequential:
    """Double height and width: the doubling layer, norm, dropout (if asked), ReLU."""
    layers: list[nn.Module] = [_doubling(in_channels, out_channels, upsample, bias=False, padding=padding),
                               _normalisation(norm, out_channels)]
    if dropout:
        layers.append(nn.Dropout(DROPOUT))
    layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Pix2PixGenerator(nn.Module):
    """image (N, in_channels, H, W) in [-1, 1] -> (N, out_channels, H, W) in [-1, 1];
    H and W multiples of 2**depth."""

    def __init__(self, config: Pix2PixConfig):
        super().__init__()
        self.config = config
        widths = [config.base_channels * min(2 ** i, MAX_CHANNEL_FACTOR) for i in range(config.depth)]
        # The first layer is not normalised (the paper); neither is the bottleneck: at the
        # smallest input it is 1x1, one value per channel, which instance norm would zero
        # and batch norm at batch size 1 refuses to train on.
        self.encoder = nn.ModuleList(
            _down(config.in_channels if i == 0 else widths[i - 1], widths[i],
                  None if i in (0, config.depth - 1) else config.norm, config.padding)
            for i in range(config.depth)
        )
        # Decoder block j works at encoder level depth-2-j and is followed by the concatenation
        # with that level's activation, so every block after the first takes twice the width.
        self.decoder = nn.ModuleList(
            _up(widths[-1] if j == 0 else 2 * widths[config.depth - 1 - j], widths[config.depth - 2 - j],
                config.norm, dropout=j < DROPOUT_BLOCKS, upsample=config.upsample, padding=config.padding)
            for j in range(config.depth - 1)
        )
        self.to_image = nn.Sequential(
            _doubling(2 * widths[0], config.out_channels, config.upsample, bias=True, padding=config.padding),
            nn.Tanh(),
        )
        self._initialise()

    def _initialise(self) -> None:
        # The paper's init: weights N(0, 0.02), norm scales N(1, 0.02), biases 0.
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(module.weight, 0.0, 0.02)
            elif isinstance(module, (nn.InstanceNorm2d, nn.BatchNorm2d)):
                nn.init.normal_(module.weight, 1.0, 0.02)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        skips = []
        x = image
        for block in self.encoder:
            x = block(x)
            skips.append(x)
        skips.pop()  # the bottleneck feeds the decoder directly
        for block, skip in zip(self.decoder, reversed(skips)):
            x = torch.cat([block(x), skip], dim=1)
        return self.to_image(x)

    def export_spec(self, notes: dict[str, str] | None = None) -> ExportSpec:
        """What export needs. Dropout is off in the exported (eval) graph: the live picture is
        deterministic, unlike the paper's test-time dropout noise. `notes` go on the card: "input" (what
        the input holds) and extra keys such as how the training inputs were made (the Canny settings,
        so live/ makes the same) and the held-out metrics."""
        c = self.config
        multiple = c.size_multiple

        def sample_inputs(height: int, width: int, seed: int) -> tuple[torch.Tensor, ...]:
            generator = torch.Generator().manual_seed(seed)
            return (torch.rand((1, c.in_channels, height, width), generator=generator) * 2 - 1,)

        card = ModelCard(
            kind="pix2pix", input=(notes or {}).get("input", "edges" if c.in_channels == 1 else "rgb"),
            output_layout="NCHW",
            input_range=(-1.0, 1.0), output_range=(-1.0, 1.0), size_multiple=multiple,
            extra={"base_channels": str(c.base_channels), "depth": str(c.depth), "norm": c.norm,
                   "out_channels": str(c.out_channels), "upsample": c.upsample, "padding": c.padding,
                   **{key: value for key, value in (notes or {}).items() if key != "input"}},
        )
        # Neither square, the second an odd number of multiples high.
        return image_to_image_spec(card, sample_inputs, parity_sizes=((multiple, 2 * multiple), (3 * multiple, multiple)))


class PatchDiscriminator(nn.Module):
    """(input, picture) pairs (N, in + out channels, H, W) in [-1, 1] -> (N, 1, H', W') logits, one per
    overlapping patch. `layers` stride-2 blocks then a stride-1 one: 3 gives the paper's 70x70 patches."""

    def __init__(self, in_channels: int, base_channels: int = 64, layers: int = 3, norm: str = "instance"):
        super().__init__()
        widths = [base_channels * min(2 ** i, MAX_CHANNEL_FACTOR) for i in range(layers + 1)]
        blocks: list[nn.Module] = [_down(in_channels, widths[0], None)]  # C64 is not normalised
        blocks += [_down(widths[i - 1], widths[i], norm) for i in range(1, layers)]
        # the last two convolutions keep the size (stride 1): receptive field 70 for layers=3
        blocks += [nn.Conv2d(widths[layers - 1], widths[layers], 4, stride=1, padding=1, bias=False),
                   _normalisation(norm, widths[layers]), nn.LeakyReLU(0.2),
                   nn.Conv2d(widths[layers], 1, 4, stride=1, padding=1)]
        self.layers = nn.Sequential(*blocks)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, (nn.InstanceNorm2d, nn.BatchNorm2d)):
                nn.init.normal_(module.weight, 1.0, 0.02)
                nn.init.zeros_(module.bias)

    def forward(self, pair: torch.Tensor) -> torch.Tensor:
        return self.layers(pair)
