"""A CPPN scene: a CPPN model whose latent morphs through seeded keyframes, rendered to RGB frames.

Everything is a function of the time t passed in (seconds), so the live loop
and an offline rehearsal on a virtual clock give the same pictures. Output
buffers are allocated once per size and reused: the returned array is valid
until the next render.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from live.scenes.cppn_math import coordinates, keyframes, latent_at_position
from live.scenes.contract import STILL, Drive
from live.inference.engine import Engine
from live.inference.model_card import ModelCard


@dataclass(config=ConfigDict(extra="forbid"))
class CppnSceneConfig:
    seed: int = 0  # which keyframes: the same seed gives the same morph
    keyframes: int = Field(5, ge=1)
    period: float = Field(4.0, gt=0)  # seconds from one keyframe to the next
    interp: Literal["slerp", "linear"] = "slerp"
    scale: float | None = Field(None, gt=0)  # None: the model's own default scale
    keep_aspect: bool = True  # round circles on a wide screen
    # None: keyframes anywhere in [-1, 1]. A number: keyframes within this distance (per
    # dimension) of the model's home latent, so a fitted picture dissolves and comes back.
    wander: float | None = Field(None, ge=0)


class CppnScene:
    def __init__(self, engine: Engine, config: CppnSceneConfig):
        card = engine.card
        if card.kind != "cppn":
            raise ValueError(f"{engine.path}: a cppn scene needs a cppn model, this one is {card.kind}")
        self.engine = engine
        self.config = config
        self.latents = _scene_keyframes(config, card, engine.path)  # (K, z_dim)
        self.walk = LatentWalk(self.latents, config.period, config.interp, config.seed)
        self.base_scale = config.scale or card.scale
        self.scale = np.array([self.base_scale], dtype=np.float32)  # (1,), the graph's input
        self._rgb: np.ndarray | None = None  # (H, W, 3) uint8, reused
        self._scratch: np.ndarray | None = None  # (H, W, C) float32, reused

    captured_at = None  # a CPPN has no input frame: latency counts from the start of inference

    @property
    def providers(self) -> list[str]:
        return self.engine.providers

    @property
    def last_output(self) -> np.ndarray | None:
        return self._rgb

    def inputs_at(self, t: float, width: int, height: int, drive: Drive = STILL) -> dict[str, np.ndarray]:
        z = self.walk.at(t, drive)
        self.scale[0] = self.base_scale if drive.scale is None else drive.scale
        return {
            "coords": coordinates(width, height, self.config.keep_aspect),
            "z": z.reshape(1, -1),
            "scale": self.scale,
        }

    def warm_up(self, width: int, height: int) -> None:
        self.engine.warm_up(self.inputs_at(0.0, width, height))
        self.walk.restart()

    def render(self, t: float, width: int, height: int, drive: Drive = STILL) -> np.ndarray:
        """(H, W, 3) uint8 RGB of the scene at time t (seconds), as the drive asks."""
        inputs = self.inputs_at(t, width, height, drive)
        image = self.engine.run(inputs)[self.engine.output_names[0]]  # (H, W, C) in [0, 1]
        if self._rgb is None or self._rgb.shape[:2] != (height, width):
            self._rgb = np.empty((height, width, 3), dtype=np.uint8)
            self._scratch = np.empty(image.shape, dtype=np.float32)
        np.multiply(image, 255.0, out=self._scratch)
        np.add(self._scratch, 0.5, out=self._scratch)  # round rather than truncate on the cast below
        np.clip(self._scratch, 0.0, 255.0, out=self._scratch)
        # a gray (c_dim=1) model broadcasts into all three channels
        np.copyto(self._rgb, self._scratch, casting="unsafe")
        return self._rgb


KICK_DECAY = 0.25  # seconds: an onset's kick to the latent fades with this time constant


class LatentWalk:
    """Where a scene's latent is: travelling through the keyframes at `speed` keyframes per
    period, plus a kick from each onset that fades. Advances with t (seconds), so a virtual
    clock gives the same walk; with speed 1 and no onsets it is latent_at(t)."""

    def __init__(self, latents: np.ndarray, period: float, interp: str, seed: int):
        self.latents = latents  # (K, z_dim)
        self.period = period
        self.interp = interp
        self._rng_seed = seed
        self.restart()

    def restart(self) -> None:
        self._t: float | None = None
        self._position = 0.0  # keyframes travelled
        self._kick = np.zeros(self.latents.shape[1], dtype=np.float32)  # (z_dim,)
        self._rng = np.random.default_rng(self._rng_seed)

    def at(self, t: float, drive: Drive = STILL) -> np.ndarray:
        if self._t is None or t < self._t:  # first call, or the clock went back: start from t
            self._position, self._kick[:] = t / self.period, 0.0
        else:
            dt = t - self._t
            self._position += drive.speed * dt / self.period
            self._kick *= np.float32(np.exp(-dt / KICK_DECAY))
        self._t = t
        if drive.onset and drive.jitter > 0:
            direction = self._rng.standard_normal(self._kick.shape).astype(np.float32)
            self._kick += drive.jitter * direction / np.linalg.norm(direction)
        return latent_at_position(self.latents, self._position, self.interp) + self._kick


def _scene_keyframes(config: CppnSceneConfig, card: ModelCard, path: Path) -> np.ndarray:
    """(K, z_dim): seeded keyframes, or with `wander` keyframes around the home latent (the first one on it)."""
    frames = keyframes(config.seed, config.keyframes, card.z_dim)
    if config.wander is None:
        return frames
    if card.latent is None or len(card.latent) != card.z_dim:
        raise ValueError(f"{path}: `wander` needs a model that records its home latent (one from `cppn fit`)")
    home = np.asarray(card.latent, dtype=np.float32)
    frames = home + config.wander * frames
    frames[0] = home
    return frames
