"""The CPPN scene kind: a CPPN model whose latent morphs through seeded keyframes, rendered to RGB frames.

Everything is a function of the moments passed in (time in seconds, the
scale, speed and jitter parameters, and the latest cue that sent the latent to
one of the scene's named keyframes), so the live loop and an offline rehearsal
on a virtual clock give the same pictures. Output buffers are allocated once
per size and reused: the returned array is valid until the next render.
"""
from __future__ import annotations

import importlib.resources
import logging
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from live.control.parameters import Parameter
from live.core.imaging import to_uint8
from live.inference.cppn_weights import read_cppn_weights
from live.inference.engine import Engine, EngineConfig, EngineError, read_card
from live.inference.model_card import ModelCard
from live.inference.providers import CPU
from live.inference.tiles import PixelTiles
from live.output.picture import Picture
from live.output.shaders import ShaderUnavailable
from live.scenes.contract import Moment, SceneBase, SceneContext, SceneSpec, defaults, with_defaults
from live.scenes.cppn_math import coordinates, keyframes
from live.scenes.cppn_shader import fragment_source, shader_picture
from live.scenes.latent_walk import LatentWalk, ResumesItsWalk, WalkSettings

log = logging.getLogger("latentstage.cppn")
SHADER = "GL shader"  # what `providers` says when the renderer's shader draws the scene


class CppnSceneConfig(WalkSettings):
    scale: float | None = Field(None, gt=0)  # None: the model's own default scale
    keep_aspect: bool = True  # round circles on a wide screen
    # None: keyframes anywhere in [-1, 1]. A number: keyframes within this distance (per
    # dimension) of the model's home latent, so a fitted picture dissolves and comes back;
    # with it, named keyframe 0 is home.
    wander: float | None = Field(None, ge=0)
    # shader: the GL renderer draws the CPPN with a fragment shader made from the model's weights (any
    # GPU, no CUDA); onnx: ONNX Runtime computes the pixels; auto: the shader where the renderer is a
    # GPU and compiles it, else onnx (on a CPU rasteriser such as llvmpipe the same CPU runs ONNX
    # Runtime's fused, tiled graph 2-4x faster than the shader: bench/cppn_shader_bench.py)
    backend: Literal["auto", "shader", "onnx"] = "auto"


class CppnSceneSpec(SceneSpec):
    """A CPPN whose latent morphs through keyframes."""

    has_latent: ClassVar[bool] = True
    model_kinds: ClassVar[tuple[str, ...]] = ("cppn",)
    ladder_ways: ClassVar[tuple[str, ...]] = ("render_scale", "fp16", "model")
    ladder_refusals: ClassVar[Mapping[str, str]] = MappingProxyType({
        "upscale": "a CPPN draws at any size, and costs less drawn smaller than drawn up (use render_scale)"})
    naming_keyframes: ClassVar[str] = "`cppn: {named_keyframes: {NAME: INDEX}}`"
    keyframes_at: ClassVar[tuple[str, ...]] = ("cppn", "named_keyframes")

    kind: Literal["cppn"]
    model: Path  # relative to the show file's folder
    cppn: CppnSceneConfig = Field(default_factory=CppnSceneConfig)

    @property
    def model_file(self) -> Path:
        return self.model

    def files(self) -> dict[tuple[str, ...], Path]:
        return {("model",): self.model}

    def keyframe_names(self) -> tuple[str, ...]:
        return tuple(self.cppn.named_keyframes)

    def parameters(self, declared: tuple[Parameter, ...], show_folder: Path) -> tuple[Parameter, ...]:
        return with_defaults(declared, {"scale": starting_scale(self.cppn, read_card(show_folder / self.model))})


class CppnScene(ResumesItsWalk, SceneBase):
    kind = "cppn"
    namespace = "cppn"
    spec_type = CppnSceneSpec
    standalone = True  # draws from t alone: the idle scene when another cannot show
    PARAMETERS = (
        Parameter("scale", "float", 8.0, 0.1, 64.0,
                  description="CPPN coordinate zoom, unitless: larger shows more, finer pattern"),
        Parameter("speed", "float", 1.0, -8.0, 8.0,
                  description="CPPN morph speed, times the keyframe rate; negative runs backwards"),
        Parameter("jitter", "float", 0.0, 0.0, 1.0,
                  description="how far an onset kicks the CPPN latent, in latent units (keyframes lie in -1..1)"),
    )

    def __init__(self, name: str, engine: Engine, config: CppnSceneConfig):
        card = engine.card
        if card.kind != "cppn":
            raise ValueError(f"{engine.path}: a cppn scene needs a cppn model, this one is {card.kind}")
        self.name = name
        self.engine = engine
        self.config = config
        self.latents = _scene_keyframes(config, card, engine.path)  # (K, z_dim)
        self.walk = LatentWalk(self.latents, config.period, config.interp, config.seed, config.named_keyframes)
        self.base_scale = starting_scale(config, card)
        self.scale = np.array([self.base_scale], dtype=np.float32)  # (1,), the graph's input
        self._zoom_only = pure_zoom(card)
        # On the CPU the frame goes through the network in cache-sized tiles on every core; on a GPU
        # provider the engine runs it whole, in device memory.
        self._tiles = _cpu_tiles(engine)
        self._program = None  # the CPPN shader's source once a GL renderer has compiled it
        self._weights = None
        self._last: Picture | None = None
        self._rgb: np.ndarray | None = None  # (H, W, 3) uint8, reused
        self._scratch: np.ndarray | None = None  # (H, W, C) float32, reused
        self.parameters = with_defaults(self.PARAMETERS, {"scale": self.base_scale})

    @classmethod
    def build(cls, spec: CppnSceneSpec, context: SceneContext) -> CppnScene:
        return cls(spec.name, Engine.load(spec.model, context.engine), spec.cppn)

    @classmethod
    def bundled_idle(cls, seed: int) -> CppnScene:
        """The bundled CPPN as the idle scene, on the CPU on purpose: it must still draw when the GPU
        is what failed."""
        engine = Engine.load(bundled_model(), EngineConfig(providers="cpu"))
        return cls("idle (bundled)", engine, CppnSceneConfig(seed=seed, period=6.0, backend="onnx"))

    @property
    def providers(self) -> list[str]:
        return [SHADER] if self._program is not None else self.engine.providers

    @property
    def backend(self) -> str:
        """What draws the scene now: "shader" or "onnx"."""
        return "shader" if self._program is not None else "onnx"

    @property
    def last_output(self) -> Picture | None:
        return self._last

    def attach_renderer(self, renderer) -> None:
        """Draw with `renderer`'s GL shader from now on, as the backend setting allows: its program
        is compiled here, on the renderer's thread, so a GL that cannot run it is known before the
        show starts. auto falls back to ONNX Runtime with a warning; shader refuses to start."""
        if self.config.backend == "onnx":
            return
        if self.config.backend == "auto" and renderer.rasterises_on_cpu:
            log.info("scene %r: the GL renderer rasterises on the CPU (%s), where ONNX Runtime is faster; "
                     "backend auto stays on it", self.name, renderer.gl_renderer)
            return
        try:
            weights = read_cppn_weights(self.engine.path)
            program = fragment_source(weights, self.engine.path.name)
            renderer.shaders.prepare(program)
        except (ShaderUnavailable, ValueError) as error:
            if self.config.backend == "shader":
                raise EngineError(f"scene {self.name!r} asks for backend: shader, but {error}") from None
            log.warning("scene %r: %s; running on ONNX Runtime", self.name, error)
            return
        self._weights, self._program = weights, program
        log.info("scene %r: drawn by the renderer's GL shader", self.name)

    def _latent(self, moment: Moment) -> np.ndarray:
        return self.walk.follow(moment, moment.values["speed"], moment.values["jitter"])  # (z_dim,)

    def inputs_at(self, moment: Moment, width: int, height: int) -> dict[str, np.ndarray]:
        values = moment.values
        z = self._latent(moment)
        self.scale[0] = values["scale"]
        if not self._zoom_only:  # an older file multiplies z by the frame's scale: undo it to the card's
            z = z * np.float32(self.engine.card.scale / values["scale"])
        return {
            "coords": coordinates(width, height, self.config.keep_aspect),
            "z": z.reshape(1, -1),
            "scale": self.scale,
        }

    def use_engine(self, engine: Engine) -> None:
        self.engine = engine  # the same card contract: the same latent size, so the keyframes still fit
        # what draws follows the new file: a tile session of its own, or its weights in a new shader
        # (compiled by the renderer at its first draw)
        if self._tiles is not None:
            self._tiles.close()
        self._tiles = _cpu_tiles(engine)
        if self._program is not None:
            try:
                self._weights = read_cppn_weights(engine.path)
                self._program = fragment_source(self._weights, engine.path.name)
            except (OSError, ValueError) as error:
                log.warning("scene %r: cannot make a shader of the new %s (%s); running on ONNX Runtime",
                            self.name, engine.path.name, error)
                self._program = None

    def warm_up(self, width: int, height: int) -> None:
        moment = Moment(0.0, defaults(self.parameters))
        with self.walk.unmoved():
            inputs = self.inputs_at(moment, width, height)
            if self._tiles is None:
                self.engine.warm_up(inputs)
            else:  # the tiles render on the CPU (and allocate the frame's buffer here)
                self._tiles.run(inputs["coords"], inputs["z"], inputs["scale"])
                # the engine itself only proves it runs, at a few pixels: the whole frame through it would
                # keep its activations (half a gigabyte at 1280x720) in ONNX Runtime's arena for nothing
                self.engine.warm_up(self.inputs_at(moment, WARM_UP_PIXELS, WARM_UP_PIXELS))

    def render(self, moment: Moment, width: int, height: int) -> Picture:
        """(H, W, 3) uint8 RGB of the scene at the moment's time and parameters; with the shader
        backend, the ShaderPicture the renderer draws those pixels from."""
        if self._program is not None:
            self._last = shader_picture(self._program, self._weights, self._latent(moment), moment.values["scale"],
                                        width, height, self.config.keep_aspect)
            return self._last
        inputs = self.inputs_at(moment, width, height)
        if self._tiles is not None:
            image = self._tiles.run(inputs["coords"], inputs["z"], inputs["scale"])  # (H, W, C)
        else:
            image = self.engine.run(inputs)[self.engine.output_names[0]]
        if self._rgb is None or self._rgb.shape[:2] != (height, width):
            self._rgb = np.empty((height, width, 3), dtype=np.uint8)
            self._scratch = np.empty(image.shape, dtype=np.float32)
        # in [0, 1]; a gray (c_dim=1) model broadcasts into all three channels
        self._last = to_uint8(image, (0.0, 1.0), out=self._rgb, scratch=self._scratch)
        return self._last


WARM_UP_PIXELS = 8  # a side of the little frame a CPPN's whole-frame engine is tried at when tiles render it


def bundled_model() -> Path:
    """The CPPN this package ships (models/cppn-tanh.onnx)."""
    return Path(str(importlib.resources.files("models") / "cppn-tanh.onnx"))


def _cpu_tiles(engine: Engine) -> PixelTiles | None:
    """The tiled CPU runner for the engine's file when the engine runs on the CPU, else None."""
    if engine.providers[0] != CPU:
        return None
    return PixelTiles(engine.path, engine.card.c_dim, int(engine.card.extra.get("net_size", 32)))


def starting_scale(config: CppnSceneConfig, card: ModelCard) -> float:
    """The scale a scene starts at: its show's, else its model card's."""
    return config.scale or card.scale


def pure_zoom(card: ModelCard) -> bool:
    """Whether the file's graph multiplies z by its own scale (exports since issue 11), so the
    scale input only zooms; older files multiply z by the scale input."""
    return card.extra.get("zoom") == "pure"


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
