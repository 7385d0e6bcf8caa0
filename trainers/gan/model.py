"""A StyleGAN2-family generator and residual discriminator (Karras et al. 2020), sized by parameters; no I/O here.

Generator: a mapping network (pixel-normalised z through equalised-lr linear
layers, lr multiplier 0.01) gives w; a learned 4x4 constant is refined by
modulated 3x3 convolutions with weight demodulation, two per resolution, each
followed by per-pixel noise of a learned strength, a bias and leaky ReLU; each
resolution adds its ToRGB (a modulated 1x1, no demodulation) to the upsampled
running picture (the "skip" layout). The modulation is applied to the
activations (scale in, convolve with the shared weight, scale out by the
demodulation coefficients): the same maths as a per-sample weight, with no
batch-sized grouped convolution, so the traced ONNX graph keeps N free.
Upsampling is bilinear (ONNX Resize), where the paper uses a transposed
convolution and a FIR filter. The generator keeps the mean w (w_avg, tracked
while training) for truncation. Training draws the noise at random; outside
training each latent makes its own noise through fixed random projections
(Generator.latent_noise), so one z and psi always give one picture, and psi 0
the mean picture with the fixed noise.

Discriminator: FromRGB at full resolution, residual blocks (two 3x3 convolutions,
the second after a 2x average pool; a 1x1 skip; their sum over sqrt 2) down to
4x4, the minibatch standard deviation as an extra channel, a 3x3 convolution,
a linear layer and one logit.

Widths: channels(r) = min(channel_max, channel_base // r) at resolution r, so a
CPU model stays small and a GPU model can be the paper's (channel_base 32768,
channel_max 512).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

SQRT2 = math.sqrt(2.0)
LEAK = 0.2
NOISE_SEED = 9000  # the latent-to-noise projections' seeds: NOISE_SEED + the layer's index


@dataclass
class GanConfig:
    resolution: int = 64  # a power of two, 8 .. 1024 (below 64 for tests and quick trials)
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 4
    channel_base: int = 1024  # channels(r) = min(channel_max, channel_base // r)
    channel_max: int = 128
    d_channel_base: int = 0  # the discriminator's; 0: the generator's
    d_channel_max: int = 0
    mbstd_group: int = 4  # minibatch standard deviation over groups of this many pictures

    def __post_init__(self) -> None:
        log2 = math.log2(self.resolution) if self.resolution > 0 else 0.5
        if log2 != int(log2) or not 8 <= self.resolution <= 1024:
            raise ValueError(f"resolution must be a power of two from 8 to 1024, got {self.resolution}")
        for name in ("z_dim", "w_dim", "mapping_layers", "channel_base", "channel_max", "mbstd_group"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    @property
    def resolutions(self) -> list[int]:
        """4, 8, ..., resolution."""
        return [2 ** i for i in range(2, int(math.log2(self.resolution)) + 1)]

    def channels(self, resolution: int, discriminator: bool = False) -> int:
        base = (self.d_channel_base or self.channel_base) if discriminator else self.channel_base
        most = (self.d_channel_max or self.channel_max) if discriminator else self.channel_max
        return max(1, min(most, base // resolution))

    @property
    def num_ws(self) -> int:
        """How many w the synthesis takes: one per modulated layer (two convs per resolution, one at 4x4,
        and the last ToRGB, which shares the next conv's w as in the paper)."""
        return 2 * len(self.resolutions)


class EqualLinear(nn.Module):
    """Linear with the equalised learning rate: weights stored N(0, 1/lr_mul), scaled at run time."""

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.lr_mul)
        return F.leaky_relu(x, LEAK) * SQRT2 if self.activate else x


class EqualConv2d(nn.Module):
    """Conv2d (same padding) with the equalised learning rate."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, bias: bool = True, activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel * kernel)
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=self.weight.shape[-1] // 2)
        return F.leaky_relu(x, LEAK) * SQRT2 if self.activate else x


class MappingNetwork(nn.Module):
    def __init__(self, config: GanConfig):
        super().__init__()
        widths = [config.z_dim] + [config.w_dim] * config.mapping_layers
        self.layers = nn.Sequential(*[EqualLinear(a, b, lr_mul=0.01, activate=True)
                                      for a, b in zip(widths[:-1], widths[1:])])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)  # pixel norm
        return self.layers(z)


class ModulatedConv(nn.Module):
    """A convolution whose input channels are scaled by a style from w; demodulated unless it is a ToRGB."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, w_dim: int, demodulate: bool = True):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel * kernel)
        self.demodulate = demodulate

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (N, in)
        weight = self.weight * self.weight_gain
        x = x * styles[:, :, None, None]
        x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
        if self.demodulate:
            # 1 / |w * s| per sample and output channel: sum over in and kernel of (w_oikk s_i)^2
            energy = (styles.square() @ weight.square().sum(dim=(2, 3)).t())  # (N, out)
            x = x * torch.rsqrt(energy + 1e-8)[:, :, None, None]
        return x


class StyledLayer(nn.Module):
    """Modulated 3x3 conv, noise, bias, leaky ReLU; optionally doubling the size first."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, upsample: bool,
                 z_dim: int, noise_seed: int):
        super().__init__()
        self.conv = ModulatedConv(in_channels, out_channels, 3, w_dim)
        self.upsample = upsample
        self.noise_strength = nn.Parameter(torch.zeros(()))
        # the noise of the mean picture (psi 0): fixed
        self.register_buffer("fixed_noise", torch.randn(1, 1, resolution, resolution))
        # a fixed projection that turns a latent into this layer's noise map (see Generator.latent_noise);
        # made again from its seed, so it is not kept in checkpoints
        projection = torch.randn(z_dim, resolution * resolution, generator=torch.Generator().manual_seed(noise_seed))
        self.register_buffer("noise_projection", projection / math.sqrt(z_dim), persistent=False)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        """`noise` (N or 1, 1, H, W); None draws it at random for each picture (training)."""
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = self.conv(x, w)
        if noise is None:
            noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device)
        x = x + noise * self.noise_strength + self.conv.bias[None, :, None, None]
        return F.leaky_relu(x, LEAK) * SQRT2


class Generator(nn.Module):
    """z (N, z_dim) -> picture (N, 3, R, R) in about [-1, 1]."""

    def __init__(self, config: GanConfig):
        super().__init__()
        self.config = config
        self.mapping = MappingNetwork(config)
        first = config.channels(4)
        self.constant = nn.Parameter(torch.randn(first, 4, 4))
        self.layers = nn.ModuleList()
        self.to_rgb = nn.ModuleList()
        in_channels = first
        for resolution in config.resolutions:
            out_channels = config.channels(resolution)
            if resolution > 4:
                self.layers.append(StyledLayer(in_channels, out_channels, config.w_dim, resolution, upsample=True,
                                               z_dim=config.z_dim, noise_seed=NOISE_SEED + len(self.layers)))
            self.layers.append(StyledLayer(out_channels if resolution > 4 else in_channels, out_channels,
                                           config.w_dim, resolution, upsample=False, z_dim=config.z_dim,
                                           noise_seed=NOISE_SEED + len(self.layers)))
            self.to_rgb.append(ModulatedConv(out_channels, 3, 1, config.w_dim, demodulate=False))
            in_channels = out_channels
        self.register_buffer("w_avg", torch.zeros(config.w_dim))

    def synthesis(self, ws: torch.Tensor, random_noise: bool = True, z: torch.Tensor | None = None,
                  truncation: torch.Tensor | float = 1.0) -> torch.Tensor:
        """ws (N, num_ws, w_dim): layer i takes ws[:, i]; each ToRGB the w of the layer after it.
        The noise: random (training), else made from `z` at `truncation` (latent_noise), else the fixed noise."""
        x = self.constant[None].expand(ws.shape[0], -1, -1, -1)
        picture = None
        layer = 0
        for index, to_rgb in enumerate(self.to_rgb):
            for _ in range(1 if index == 0 else 2):
                styled = self.layers[layer]
                if random_noise:
                    noise = None
                elif z is None:
                    noise = styled.fixed_noise
                else:
                    noise = self.latent_noise(styled, z, truncation)
                x = styled(x, ws[:, layer], noise)
                layer += 1
            rgb = to_rgb(x, ws[:, layer]) + to_rgb.bias[None, :, None, None]
            if picture is not None:
                picture = F.interpolate(picture, scale_factor=2.0, mode="bilinear", align_corners=False)
                rgb = rgb + picture
            picture = rgb
        return picture

    def ws(self, z: torch.Tensor, truncation: torch.Tensor | float = 1.0) -> torch.Tensor:
        """(N, num_ws, w_dim): the mapped z, pulled towards w_avg by the truncation psi (per sample or one)."""
        w = self.mapping(z)
        psi = torch.as_tensor(truncation, dtype=w.dtype, device=w.device).reshape(-1, 1)
        w = self.w_avg + psi * (w - self.w_avg)
        return w[:, None].expand(-1, self.config.num_ws, -1)

    def mixed_ws(self, z: torch.Tensor, mix: torch.Tensor | None = None, cutoff: int | None = None,
                 truncation: torch.Tensor | float = 1.0) -> torch.Tensor:
        """ws of z, those from layer `cutoff` on taken from the latent `mix` instead (style mixing)."""
        ws = self.ws(z, truncation)
        if mix is None:
            return ws
        return torch.cat([ws[:, :cutoff], self.ws(mix, truncation)[:, cutoff:]], dim=1)

    @staticmethod
    def latent_noise(layer: StyledLayer, z: torch.Tensor, truncation: torch.Tensor | float) -> torch.Tensor:
        """A layer's noise for latent z, (N, 1, H, W): a fixed random projection of the normalised z (about
        N(0, 1) per pixel), so each picture has noise of its own, the same for the same z, and a walk's
        noise moves with its latent instead of lying still over every picture (one fixed noise map did
        that: an immature generator draws much of its detail from the noise). Truncation pulls it towards
        the fixed noise as it pulls w towards w_avg: psi 0 is the one mean picture."""
        side = layer.fixed_noise.shape[-1]
        z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
        own = (z @ layer.noise_projection).reshape(-1, 1, side, side)
        psi = torch.as_tensor(truncation, dtype=z.dtype, device=z.device).reshape(-1, 1, 1, 1)
        mixed = psi * own + (1 - psi) * layer.fixed_noise
        return mixed * torch.rsqrt(psi.square() + (1 - psi).square())  # unit variance at every psi

    def forward(self, z: torch.Tensor, truncation: torch.Tensor | float = 1.0, random_noise: bool = False,
                mix: torch.Tensor | None = None, cutoff: int | None = None) -> torch.Tensor:
        """Pictures of z: with random noise while training, else with each latent's own noise."""
        return self.synthesis(self.mixed_ws(z, mix, cutoff, truncation), random_noise, z, truncation)


class DiscriminatorBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3, activate=True)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, activate=True)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.skip(F.avg_pool2d(x, 2))
        x = self.conv1(F.avg_pool2d(self.conv0(x), 2))
        return (x + skip) / SQRT2


class Discriminator(nn.Module):
    """picture (N, 3, R, R) in about [-1, 1] -> one logit each (N,)."""

    def __init__(self, config: GanConfig):
        super().__init__()
        self.config = config
        channels = lambda r: config.channels(r, discriminator=True)  # noqa: E731
        self.from_rgb = EqualConv2d(3, channels(config.resolution), 1, activate=True)
        self.blocks = nn.Sequential(*[DiscriminatorBlock(channels(r), channels(r // 2))
                                      for r in reversed(config.resolutions[1:])])
        last = channels(4)
        self.conv = EqualConv2d(last + 1, last, 3, activate=True)
        self.fc = EqualLinear(last * 16, last, activate=True)
        self.out = EqualLinear(last, 1)

    def forward(self, picture: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.from_rgb(picture))
        x = torch.cat([x, self._minibatch_stddev(x)], dim=1)
        x = self.fc(self.conv(x).flatten(1))
        return self.out(x).squeeze(1)

    def _minibatch_stddev(self, x: torch.Tensor) -> torch.Tensor:
        """One channel: the standard deviation over a group of pictures, averaged, for each picture of it
        (a discriminator that sees variety can punish a generator that makes one picture)."""
        n, c, h, w = x.shape
        group = min(self.config.mbstd_group, n)
        while n % group:
            group -= 1
        y = x.reshape(group, n // group, c, h, w)
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (n / group,)
        return y.repeat(group)[:, None, None, None].expand(n, 1, h, w)
