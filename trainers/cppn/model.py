"""The CPPN network f(w, z, x, y, r) with cppn-tensorflow's semantics; no I/O here.

Coordinates come in as a unit grid (H, W, 3) of x, y, r (see live.cppn.coordinates)
and are multiplied by `scale`, so they span [-scale, scale]. z is multiplied by
the network's own scale (config.scale), never by the per-frame one, as
cppn-tensorflow does: `scale` is then a pure zoom, so the centre of a scale-10
render is exactly a scale-5 render and a zoom knob changes no pattern. The latent's projection is a (1, net_size) vector computed once
per frame and broadcast over the pixels. Weights and biases are drawn N(0, 1)
from a seeded generator, so a seed names a picture.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from exporters.spec import ExportSpec
from live.inference.model_card import ModelCard
from live.scenes.cppn_math import coordinates

ARCHITECTURES = ("tanh", "softplus_tanh", "sine", "residual", "gaussian")


@dataclass
class CPPNConfig:
    z_dim: int = 8
    c_dim: int = 3  # 1 for gray, 3 for RGB
    net_size: int = 32
    depth: int = 3  # hidden layers after the input layer
    arch: str = "tanh"
    scale: float = 8.0  # the network's own scale: z's multiplier and the default zoom (the live loop zooms per frame)
    seed: int = 0  # weights and biases: a new seed re-initialises the network (cppn-tensorflow's reinit)

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"unknown CPPN architecture {self.arch!r}; choose from {', '.join(ARCHITECTURES)}")
        if self.c_dim not in (1, 3):
            raise ValueError(f"c_dim must be 1 (gray) or 3 (RGB), got {self.c_dim}")
        for name in ("z_dim", "net_size", "depth"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


def _gaussian(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(-x * x)


class CPPN(nn.Module):
    """(coords (H, W, 3), z (1, z_dim), scale (1,)) -> image (H, W, c_dim) in [0, 1]."""

    def __init__(self, config: CPPNConfig):
        super().__init__()
        self.config = config
        n = config.net_size
        self.from_coords = nn.Linear(3, n, bias=False)  # x, y, r carry no bias, as in cppn-tensorflow
        self.from_latent = nn.Linear(config.z_dim, n)
        self.hidden = nn.ModuleList(nn.Linear(n, n) for _ in range(config.depth))
        self.to_colour = nn.Linear(n, config.c_dim)
        self.reset_parameters(config.seed)

    def reset_parameters(self, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator))

    def _activation(self, layer: int) -> Callable[[torch.Tensor], torch.Tensor]:
        arch = self.config.arch
        if arch == "softplus_tanh":
            return nn.functional.softplus if layer % 2 == 0 else torch.tanh
        if arch == "gaussian":
            return _gaussian
        return torch.tanh

    def forward(self, coords: torch.Tensor, z: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        height, width = coords.shape[0], coords.shape[1]
        # (H*W, 3): every layer is then a 2-D matrix product plus bias, which the ONNX
        # export writes as one Gemm and ONNX Runtime fuses with the activation that follows
        # (FusedGemm): one pass over memory per layer instead of MatMul, Add and Tanh over (H, W, n).
        pixels = coords.reshape(-1, 3)
        latent_term = self.from_latent(z * self.config.scale)  # (1, n): once per frame, not per pixel
        # scale folds into the (3, n) weights and the latent term is the bias: the input layer is one Gemm too
        h = torch.tanh(torch.addmm(latent_term, pixels, self.from_coords.weight.t() * scale))  # (H*W, n)
        for index, layer in enumerate(self.hidden):
            if self.config.arch == "residual":
                h = h + torch.tanh(layer(h))
            else:
                h = self._activation(index)(layer(h))
        out = self.to_colour(h)  # (H*W, c_dim)
        out = 0.5 + 0.5 * torch.sin(out) if self.config.arch == "sine" else torch.sigmoid(out)
        return out.reshape(height, width, self.config.c_dim)

    @torch.no_grad()
    def render(self, width: int, height: int, z: torch.Tensor | np.ndarray, scale: float | None = None,
               keep_aspect: bool = False, rows_per_chunk: int = 256) -> torch.Tensor:
        """(H, W, c_dim) float in [0, 1] at any size; rows go through in chunks so a 4K
        frame's hidden activations stay a few hundred MB."""
        grid = torch.from_numpy(coordinates(width, height, keep_aspect).copy())
        s = torch.tensor([self.config.scale if scale is None else scale], dtype=torch.float32)
        z = torch.as_tensor(np.asarray(z, dtype=np.float32) if isinstance(z, np.ndarray) else z).reshape(1, -1).float()
        return torch.cat([self(grid[r:r + rows_per_chunk], z, s) for r in range(0, height, rows_per_chunk)])

    def export_spec(self, latent: torch.Tensor | None = None) -> ExportSpec:
        """What export needs; `latent`, when given, is recorded as the model's home latent."""
        c = self.config

        def sample_inputs(height: int, width: int, seed: int) -> tuple[torch.Tensor, ...]:
            generator = torch.Generator().manual_seed(seed)
            coords = torch.rand((height, width, 3), generator=generator) * 2 - 1
            z = torch.rand((1, c.z_dim), generator=generator) * 2 - 1
            scale = torch.rand((1,), generator=generator) * c.scale * 2
            return coords, z, scale

        card = ModelCard(
            kind="cppn", input="latent", output_layout="HWC", output_range=(0.0, 1.0),
            z_dim=c.z_dim, c_dim=c.c_dim, scale=c.scale, arch=c.arch, seed=c.seed,
            latent=None if latent is None else tuple(float(v) for v in latent.reshape(-1)),
            # zoom=pure: z is multiplied by the card's scale inside the graph; files without it
            # (exported before) multiply z by the scale input, and live/ feeds them accordingly
            extra={"net_size": str(c.net_size), "depth": str(c.depth), "zoom": "pure"},
        )
        return ExportSpec(
            input_names=("coords", "z", "scale"),
            output_names=("image",),
            dynamic_axes={"coords": {0: "height", 1: "width"}, "image": {0: "height", 1: "width"}},
            sample_inputs=sample_inputs,
            card=card,
        )


class FixedLatent(nn.Module):
    """The latent z a fit holds still, as a module so checkpoints carry it beside the weights.
    A buffer, not a parameter: no optimiser moves it."""

    def __init__(self, z: torch.Tensor):
        super().__init__()
        self.register_buffer("z", z.detach().reshape(1, -1).float().clone())  # (1, z_dim)
