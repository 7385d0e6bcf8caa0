"""A GAN generator as one ONNX file of kind "gan" (models/GAN-CONTRACT): z and truncation in, a picture out.

Inputs `z` float32 (N, z_dim) and `truncation` float32 (N,) (psi: 1 none, 0 the
mean picture); output `image` float32 (N, 3, R, R), RGB in [0, 1]. The mapping
network, the mean w and the synthesis network are inside the graph, and the
per-layer noise is a fixed function of z and psi (its projections and the
fixed noise baked in as constants; trainers.gan.model.Generator.latent_noise),
so one z and psi always give one picture and psi 0 the one mean picture. The export goes through exporters.onnx.export,
whose parity check here runs two latents at two truncations (psi 1 and 0.5) as
one batch of four: ONNX Runtime must agree with PyTorch on all of them or
nothing is written.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from exporters.onnx import ExportReport, export
from exporters.spec import ExportSpec
from live.inference.model_card import ModelCard

PARITY_TRUNCATIONS = (1.0, 0.5)


class GanGraph(nn.Module):
    """What the file computes: (z, truncation) -> the generator's picture in [0, 1], noise made from z."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, truncation: torch.Tensor) -> torch.Tensor:
        picture = self.generator(z, truncation=truncation, random_noise=False)
        return ((picture + 1) / 2).clamp(0, 1)


def gan_spec(generator: nn.Module, extra: Mapping[str, str]) -> ExportSpec:
    """The spec of GanGraph(generator): its card (kind gan; z_dim, w_dim and resolution; `extra` adds the
    run's figures) and its parity inputs (two latents x PARITY_TRUNCATIONS)."""
    config = generator.config
    resolution = config.resolution

    def sample_inputs(height: int, width: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        latents = torch.randn(2, config.z_dim, generator=torch.Generator().manual_seed(seed))
        z = latents.repeat_interleave(len(PARITY_TRUNCATIONS), dim=0)
        truncation = torch.tensor(PARITY_TRUNCATIONS * 2, dtype=torch.float32)
        return z, truncation

    card = ModelCard(
        kind="gan", input="latent", output_layout="NCHW", output_range=(0.0, 1.0), channel_order="RGB",
        native_size=(resolution, resolution), z_dim=config.z_dim, w_dim=config.w_dim, resolution=resolution,
        extra={"num_ws": str(config.num_ws),
               "mapping_layers": str(config.mapping_layers), "channel_base": str(config.channel_base),
               "channel_max": str(config.channel_max), **{key: str(value) for key, value in extra.items()}},
    )
    batch = {0: "batch"}
    return ExportSpec(input_names=("z", "truncation"), output_names=("image",),
                      dynamic_axes={"z": batch, "truncation": batch, "image": batch},
                      sample_inputs=sample_inputs, card=card, parity_sizes=((resolution, resolution),))


def export_gan(generator: nn.Module, path: str | Path, extra: Mapping[str, str] | None = None,
               provenance: Mapping[str, Any] | None = None) -> ExportReport:
    """Write `generator` (a trainers.gan.model.Generator, usually the EMA one) to `path` as a "gan" file;
    raises exporters.onnx.ExportError, writing nothing, when ONNX Runtime disagrees with PyTorch."""
    generator = generator.cpu().eval()
    return export(GanGraph(generator), path, spec=gan_spec(generator, extra or {}), provenance=provenance)
