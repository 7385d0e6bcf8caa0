"""The GAN scene kind: a GAN generator's latent walked through seeded keyframes, its pictures fitted to the stage.

The walk is the CPPN scene's (live.scenes.latent_walk): seeded keyframes, here
drawn from the normal distribution the generator was trained on and travelled
by slerp (a straight line between two such latents passes through improbable,
washed-out ones), `speed` keyframes per period, an onset kicking the latent by
`jitter` (a fraction of a typical latent's length), and cues gliding it to the
keyframes the show names. `truncation` (psi) pulls the picture towards the
model's mean one: lower is calmer and more typical, 1 shows the whole range.

The generator draws at its own resolution (a 64 or 128 pixel square); the
scene fits that to the stage (`fit`: cover crops, contain letterboxes, stretch
distorts), optionally through a super-resolution model first (`upscale`), so a
small picture is shown sharp. Everything is a function of the moments passed
in, so a rehearsal gives the live run's frames.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from live.control.parameters import Parameter
from live.core.imaging import FitMode
from live.inference.engine import Engine
from live.inference.gan_generator import GanGenerator, gaussian_latents
from live.inference.upscaler import Upscaler
from live.scenes.contract import Moment, Picture, SceneBase, SceneContext, SceneSpec, defaults, with_defaults
from live.scenes.filters import fit_to
from live.scenes.latent_walk import LatentWalk, ResumesItsWalk, WalkSettings


class GanSceneConfig(WalkSettings):
    """A gan scene's `gan:` block: the walk's settings, and its own."""

    keyframes: int = Field(6, ge=1)
    truncation: float = Field(0.7, ge=0.0, le=1.5)  # psi the scene starts at
    fit: FitMode = "cover"  # the generator's square onto the stage's frame


def starting_values(config: GanSceneConfig) -> dict[str, float]:
    """The parameters whose starting values a scene's show block sets."""
    return {"truncation": config.truncation}


class GanSceneSpec(SceneSpec):
    """A GAN generator whose latent walks through keyframes."""

    has_latent: ClassVar[bool] = True
    model_kinds: ClassVar[tuple[str, ...]] = ("gan",)
    ladder_ways: ClassVar[tuple[str, ...]] = ("fp16", "model")
    ladder_refusals: ClassVar[Mapping[str, str]] = MappingProxyType({
        "render_scale": "its generator draws at its own size, so a smaller render saves nothing",
        "upscale": "its generator draws at its own size; its own `upscale:` draws that up"})
    naming_keyframes: ClassVar[str] = "`gan: {named_keyframes: {NAME: INDEX}}`"
    keyframes_at: ClassVar[tuple[str, ...]] = ("gan", "named_keyframes")

    kind: Literal["gan"]
    model: Path  # relative to the show file's folder
    upscale: Path | None = None  # a super-resolution model (kind sr) the pictures go through before fitting
    gan: GanSceneConfig = Field(default_factory=GanSceneConfig)

    @property
    def model_file(self) -> Path:
        return self.model

    def files(self) -> dict[tuple[str, ...], Path]:
        upscaler = {("upscale",): self.upscale} if self.upscale is not None else {}
        return {("model",): self.model, **upscaler}

    def models(self) -> dict[tuple[str, ...], tuple[Path, tuple[str, ...]]]:
        upscaler = {("upscale",): (self.upscale, ("sr",))} if self.upscale is not None else {}
        return {**super().models(), **upscaler}

    def keyframe_names(self) -> tuple[str, ...]:
        return tuple(self.gan.named_keyframes)

    def parameters(self, declared: tuple[Parameter, ...], show_folder: Path) -> tuple[Parameter, ...]:
        return with_defaults(declared, starting_values(self.gan))


class GanScene(ResumesItsWalk, SceneBase):
    kind = "gan"
    namespace = "gan"
    spec_type = GanSceneSpec
    standalone = True  # draws from t alone: it can stand in as the idle scene
    PARAMETERS = (
        Parameter("speed", "float", 1.0, -8.0, 8.0,
                  description="GAN walk speed, times the keyframe rate; negative runs backwards"),
        Parameter("truncation", "float", 0.7, 0.0, 1.5,
                  description="GAN truncation psi: 0 the model's mean picture, 1 its whole range"),
        Parameter("jitter", "float", 0.0, 0.0, 1.0,
                  description="how far an onset kicks the GAN latent, as a fraction of a typical latent's length"),
    )

    def __init__(self, name: str, generator: GanGenerator, config: GanSceneConfig, upscaler: Upscaler | None = None):
        self.name = name
        self.generator = generator
        self.config = config
        self.upscaler = upscaler
        self.latents = gaussian_latents(config.seed, config.keyframes, generator.z_dim)  # (K, z_dim)
        self.walk = LatentWalk(self.latents, config.period, config.interp, config.seed, config.named_keyframes)
        self._latent_length = math.sqrt(generator.z_dim)  # a normal latent's typical norm
        self._frame: np.ndarray | None = None  # (H, W, 3) uint8, reused
        self._last: Picture | None = None
        self.parameters = with_defaults(self.PARAMETERS, starting_values(config))

    @property
    def engine(self) -> Engine:
        return self.generator.engine

    @classmethod
    def build(cls, spec: GanSceneSpec, context: SceneContext) -> GanScene:
        upscaler = Upscaler.load(spec.upscale, context.engine) if spec.upscale is not None else None
        return cls(spec.name, GanGenerator.load(spec.model, context.engine), spec.gan, upscaler)

    @property
    def last_output(self) -> Picture | None:
        return self._last

    def use_engine(self, engine: Engine) -> None:
        self.generator = GanGenerator(engine)  # the same card contract: the same z_dim, so the keyframes fit

    def warm_up(self, width: int, height: int) -> None:
        with self.walk.unmoved():
            self.render(Moment(0.0, defaults(self.parameters)), width, height)

    def render(self, moment: Moment, width: int, height: int) -> Picture:
        """(height, width, 3) uint8 RGB: the generator's picture at the walk's latent, fitted to the frame."""
        values = moment.values
        z = self.walk.follow(moment, values["speed"], values["jitter"] * self._latent_length)
        picture = self.generator.picture(z, values["truncation"])  # (R, R, 3) uint8
        if self.upscaler is not None:
            picture = self.upscaler.upscale(picture)
        if self._frame is None or self._frame.shape[:2] != (height, width):
            self._frame = np.empty((height, width, 3), dtype=np.uint8)
        self._last = fit_to(picture, width, height, self.config.fit, out=self._frame)
        return self._last
