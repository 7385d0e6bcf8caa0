"""A GAN generator file run by ONNX Runtime: latents and a truncation in, square RGB pictures out.

The file (kind "gan", written by the GAN exporter) holds the mapping network,
the mean latent that truncation pulls towards and the synthesis network with
its noise baked in, so the same z and psi always give the same picture. Its
inputs are `z` (N, z_dim) float32 and `truncation` (N,) float32 (psi: 1 is
none, 0 the mean picture); its output `image` (N, 3, R, R) float32 RGB in the
card's output range. `GanGenerator` turns that into (R, R, 3) uint8 frames
through buffers kept between calls, so a live loop allocates nothing per frame.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from live.core.imaging import to_uint8
from live.inference.engine import Engine, EngineConfig, EngineError, read_card
from live.inference.model_card import CardKind, ModelCard, register_card_kind


def _fields_from_extra(card: ModelCard) -> ModelCard:
    """A card whose w_dim and resolution were written under `extra` (the first GAN exports) with them as
    the card fields they are."""
    moved = {name: int(card.extra[name]) for name in ("w_dim", "resolution")
             if getattr(card, name) is None and card.extra.get(name, "").isdigit()}
    return dataclasses.replace(card, **moved) if moved else card


# A GAN makes its picture from a latent alone; its card gives the latent sizes and the picture's side.
register_card_kind(CardKind("gan", ("latent",), required=("z_dim", "w_dim", "resolution"),
                            describe=lambda card: f"z={card.z_dim} w={card.w_dim} {card.resolution}x{card.resolution}",
                            upgrade=_fields_from_extra))


class GanGenerator:
    """One GAN file's session; `picture(z, psi)` -> (R, R, 3) uint8, valid until the next call."""

    def __init__(self, engine: Engine):
        card = engine.card
        if card.kind != "gan":
            raise EngineError(f"{engine.path}: a {card.kind} model, not a GAN generator (kind gan)")
        missing = {"z", "truncation"} - set(engine.input_names)
        if missing or "image" not in engine.output_names:
            raise EngineError(f"{engine.path}: a GAN file takes z and truncation and gives image; this one takes "
                              f"{', '.join(engine.input_names)} and gives {', '.join(engine.output_names)}")
        self.engine = engine
        self.z_dim = int(card.z_dim)
        self.resolution = int(card.resolution)
        self._truncation = np.ones(1, dtype=np.float32)  # (1,), the graph's input
        self._rgb = np.empty((self.resolution, self.resolution, 3), dtype=np.uint8)
        self._scratch = np.empty((self.resolution, self.resolution, 3), dtype=np.float32)

    @classmethod
    def load(cls, path: str | Path, config: EngineConfig | None = None) -> GanGenerator:
        """The generator in the file, refused by its card (before a session opens) if it is not one."""
        card = read_card(Path(path))
        if card.kind != "gan":
            raise EngineError(f"{path}: a {card.kind} model, not a GAN generator (kind gan)")
        return cls(Engine.load(path, config))

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of its pictures."""
        return self.resolution, self.resolution

    def picture(self, z: np.ndarray, psi: float) -> np.ndarray:
        """(R, R, 3) uint8 RGB of latent z (z_dim,) at truncation psi; reused by the next call."""
        image = self.engine.run(self._inputs(z, psi))["image"][0]  # (3, R, R)
        return to_uint8(image.transpose(1, 2, 0), self.engine.card.output_range, out=self._rgb, scratch=self._scratch)

    def pictures(self, zs: np.ndarray, psi: float) -> np.ndarray:
        """(N, R, R, 3) uint8 RGB of latents (N, z_dim) at truncation psi, in one run; a new array."""
        zs = np.ascontiguousarray(zs, dtype=np.float32).reshape(-1, self.z_dim)
        psis = np.full(len(zs), psi, dtype=np.float32)
        images = self.engine.run({"z": zs, "truncation": psis})["image"]  # (N, 3, R, R)
        return to_uint8(images.transpose(0, 2, 3, 1), self.engine.card.output_range)

    def _inputs(self, z: np.ndarray, psi: float) -> dict[str, np.ndarray]:
        z = np.asarray(z, dtype=np.float32).reshape(1, self.z_dim)
        self._truncation[0] = psi
        return {"z": z, "truncation": self._truncation}


LATENT_STREAM = 0x6A4  # seeds the latents' generator apart from others seeded with the same number


def gaussian_latents(seed: int, count: int, z_dim: int) -> np.ndarray:
    """(count, z_dim) float32 latents from the normal distribution a GAN was trained on."""
    if count < 1 or z_dim < 1:
        raise ValueError(f"need at least one latent of at least one dimension, got {count}x{z_dim}")
    # a stream of its own: a walk seeded alike draws its onset kicks from default_rng(seed), and a kick
    # along a keyframe's own direction is lost to the mapping network's normalisation of z
    return np.random.default_rng([LATENT_STREAM, seed]).standard_normal((count, z_dim)).astype(np.float32)
