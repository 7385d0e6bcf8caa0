"""The pipeline scene kind: frames from a source, through a chain of filters, optionally through an image model.

This is the Cubist Mirror's scene: a camera, auto-Canny edges, a pix2pix
model; or a camera straight into a style network, whose strength (the styled
picture mixed over its input) and preserve-colour switch (the input's colours
under the styled picture's light and shade) are performer parameters, and so is every value of the
model's other inputs that its card declares (a multi-style network's style weights:
`model.style_weights_3`). Live, it takes the source's
newest frame and only recomputes when a new one has come or a parameter
moved; in rehearsal it asks the source for the frame that belongs to time t.
When the source is unhealthy or silent it raises SceneUnavailable, and the
stage decides what to show.

The frame path is decided when the scene is built: the chain's channels (edges
and gray stay one channel, into a model that eats them), and with a model its
size (a fit step fits the model's size), so a frame is resampled at most once
on the CPU before the model and once after it, to the render size. Edges and
gray become three channels only at the end, for the renderer. A scene with a
flicker target tunes its Canny steps' stabilise toward it from its own
pictures (live.scenes.edge_tuning).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field, model_validator

from live.control.parameters import Parameter, Value
from live.core.config import LocatedError, Settings
from live.core.frames import Frame
from live.core.imaging import as_rgb
from live.inference.engine import Engine, read_card
from live.inference.model_card import ModelCard
from live.inference.model_inputs import ModelInput, declared_inputs
from live.inference.model_io import ImageModelIO
from live.inputs.sources import Source, SourceConfig, VideoFileConfig, open_source
from live.scenes.contract import Moment, SceneBase, SceneContext, SceneSpec, SceneUnavailable, with_defaults
from live.scenes.contract import defaults as defaults_of
from live.scenes.edge_tuning import MOST, EdgeTuner, FlickerTarget
from live.scenes.filters import CannyConfig, FilterChain, FilterStep, with_model_inputs

READY_POLL = 0.01  # seconds between looks at the mailbox while waiting for a source's first frame
MODEL_NAMESPACE = "model."  # the parameters a model's card declares: model.style_weights_3


def model_parameters(card: ModelCard, source: str = "model") -> tuple[Parameter, ...]:
    """A performer parameter for each value of each extra input the card declares, at its default."""
    return tuple(Parameter(MODEL_NAMESPACE + name, "float", default, declared.minimum, declared.maximum,
                           description=_describe_input(declared))
                 for declared in declared_inputs(card, source)
                 for name, default in zip(declared.value_names(), declared.default))


def _describe_input(declared: ModelInput) -> str:
    mixture = ", a mix: divided by the sum of its values" if declared.normalise else ""
    return f"the model's input {declared.onnx_name!r}, {declared.minimum:g}..{declared.maximum:g}{mixture}"


class StyleOptions(Settings):
    """Starting values of a style model's performer parameters (style.strength, style.preserve_colour)."""

    strength: float = Field(1.0, ge=0.0, le=1.0)  # fraction of the styled picture over its input
    preserve_colour: bool = False  # keep the input's colours, take the styled luma


def starting_values(steps: list[FilterStep], style: StyleOptions) -> dict[str, Value]:
    """The parameters whose starting values a scene's show block sets: the style's, and the sigma of
    its chain's first Canny step (the step the parameter moves)."""
    values: dict[str, Value] = {"style.strength": style.strength, "style.preserve_colour": style.preserve_colour}
    sigmas = [step.canny.sigma for step in steps if step.canny is not None]
    if sigmas:
        values["canny.sigma"] = sigmas[0]
    return values


class PipelineSceneSpec(SceneSpec):
    """Frames from a source, through filters, optionally through an image model (pix2pix, style)."""

    model_kinds: ClassVar[tuple[str, ...]] = ("pix2pix", "style")  # models that take a picture
    reads_frames: ClassVar[bool] = True
    ladder_ways: ClassVar[tuple[str, ...]] = ("render_scale", "fp16", "model", "upscale")

    kind: Literal["pipeline"]
    source: SourceConfig
    chain: list[FilterStep] = Field(default_factory=list)
    model: Path | None = None  # relative to the show file's folder
    style: StyleOptions = Field(default_factory=StyleOptions)
    flicker: FlickerTarget | None = None  # tunes its Canny steps' stabilise toward this output change

    @model_validator(mode="after")
    def _flicker_target_has_edges(self) -> PipelineSceneSpec:
        if self.flicker is not None and self.model is None and not _has_edges(self.chain):
            raise LocatedError(("flicker",), NO_EDGES)
        return self

    @property
    def model_file(self) -> Path | None:
        return self.model

    def card_refusal(self, card: ModelCard) -> tuple[tuple[str, ...], str] | None:
        """A flicker target needs Canny edges: the chain's, or the ones its model's card brings."""
        if self.flicker is not None and not _has_edges(with_model_inputs(self.chain, card)):
            return ("flicker",), NO_EDGES
        return None

    def files(self) -> dict[tuple[str, ...], Path]:
        """The model, and the source's media (a video, a GIF, an image folder)."""
        media = {("source", name): value for name in type(self.source).model_fields
                 if isinstance(value := getattr(self.source, name), Path)}
        return {("model",): self.model, **media} if self.model is not None else media

    def parameters(self, declared: tuple[Parameter, ...], show_folder: Path) -> tuple[Parameter, ...]:
        """The kind's, starting where its show block (and its model's card: the edges it was trained on)
        says, and a parameter for each extra input its model's card declares."""
        if self.model is None:
            return with_defaults(declared, starting_values(self.chain, self.style))
        card = read_card(show_folder / self.model)
        return (with_defaults(declared, starting_values(with_model_inputs(self.chain, card), self.style))
                + model_parameters(card, str(self.model)))

    def with_camera_stand_in(self, clip: Path) -> PipelineSceneSpec:
        return self.replaced(source=VideoFileConfig(path=clip)) if self.source.kind == "camera" else self


NO_EDGES = ("a flicker target tunes the stabilise of the scene's Canny edges, and this scene has none: "
            "add a {canny: {}} step to its chain, or remove flicker")


def _has_edges(steps: list[FilterStep]) -> bool:
    return any(step.canny is not None for step in steps)


class PipelineScene(SceneBase):
    kind = "pipeline"
    namespace = ""  # its parameters keep their own names: canny.sigma, style.strength
    spec_type = PipelineSceneSpec
    PARAMETERS = (
        Parameter("canny.sigma", "float", CannyConfig().sigma, 0.0, 1.0,
                  description="Canny threshold spread around the median level, fraction: higher keeps fainter edges"),
        Parameter("style.strength", "float", 1.0, 0.0, 1.0,
                  description="style model output mixed over its input, fraction (1 = fully styled)"),
        Parameter("style.preserve_colour", "bool", False,
                  description="style model keeps the input's colours, taking only the styled light and shade (luma)"),
    )

    def __init__(self, name: str, source: Source, chain: FilterChain, engine: Engine | None, rehearsal: bool,
                 style: StyleOptions | None = None, flicker: FlickerTarget | None = None):
        if engine is not None and engine.card.input == "latent":  # a CPPN, a GAN: pictures from a latent
            raise ValueError(f"{engine.path}: scene {name!r} is a pipeline, but this is a {engine.card.kind} model, "
                             f"which makes pictures from a latent; use kind: {engine.card.kind} for it")
        if flicker is not None and not _has_edges(chain.steps):
            raise ValueError(f"scene {name!r}: {NO_EDGES}")
        self.name = name
        self.source = source
        self.chain = chain
        self.engine = engine
        self.rehearsal = rehearsal
        self.captured_at: float | None = None  # source clock time of the frame last rendered
        self.last_input: np.ndarray | None = None  # (H, W, 3) uint8 RGB: the source frame last rendered
        self._io = ImageModelIO(engine.card) if engine is not None else None
        self._inputs = declared_inputs(engine.card, str(engine.path)) if engine is not None else []
        self._last_seq = -1
        self._last_values: tuple | None = None  # every parameter's value at the last render
        self._work_scale = 1.0  # fraction of its input's size (each way) the model runs at: a ladder rung's
        self._output: np.ndarray | None = None  # (H, W, 3) uint8 RGB, reused
        self._plain: np.ndarray | None = None  # (H, W, 3) uint8: the unstyled picture at output size
        self._styled_ycc: np.ndarray | None = None  # (H, W, 3) uint8 YCrCb scratch for preserve-colour
        self._plain_ycc: np.ndarray | None = None
        self._tuner = EdgeTuner(flicker.target, chain.stabilise()) if flicker is not None else None
        self._tuned_seq = -1  # the source frame the tuner last saw a picture of
        self.parameters = with_defaults(self.PARAMETERS, starting_values(chain.steps, style or StyleOptions()))
        if engine is not None:
            self.parameters += model_parameters(engine.card, str(engine.path))

    @classmethod
    def build(cls, spec: PipelineSceneSpec, context: SceneContext) -> PipelineScene:
        engine = Engine.load(spec.model, context.engine) if spec.model is not None else None
        steps = with_model_inputs(spec.chain, engine.card) if engine is not None else spec.chain
        return cls(spec.name, open_source(spec.source, context.clock), FilterChain(steps), engine,
                   rehearsal=context.rehearsal, style=spec.style, flicker=spec.flicker)

    @property
    def flicker_tuning(self) -> tuple[float, float] | None:
        """(target levels, stabilise in use) while it tunes its edges toward a flicker target."""
        return (self._tuner.target, self._tuner.stabilise) if self._tuner is not None else None

    def resume_state(self) -> dict:
        return {"stabilise": self._tuner.stabilise} if self._tuner is not None else {}

    def resume(self, state: dict) -> None:
        stabilise = state.get("stabilise")
        if self._tuner is not None and isinstance(stabilise, (int, float)):
            self._tuner.stabilise = min(max(float(stabilise), 0.0), MOST)

    @property
    def last_output(self) -> np.ndarray | None:
        """The last picture rendered, held on screen for a while when the source fails."""
        return self._output

    def start(self) -> None:
        if not self.rehearsal:
            self.source.start()

    def stop(self) -> None:
        if not self.rehearsal:
            self.source.stop()

    def wait_until_ready(self, timeout: float) -> bool:
        """Live: wait up to `timeout` seconds for the source's first frame. Rehearsal reads at t: ready."""
        deadline = time.monotonic() + timeout
        while not self.rehearsal and self.source.mailbox.newest() is None:
            if time.monotonic() >= deadline:
                return False
            time.sleep(READY_POLL)
        return True

    def health(self) -> str:
        return self.source.status().message

    def input_frame(self, t: float) -> Frame | None:
        if self.rehearsal:
            return self.source.frame_at(t)
        return self.source.mailbox.newest() if self.source.status().healthy else None

    def input_status(self) -> str:
        status = self.source.status()
        size = f"{status.granted[0]}x{status.granted[1]}@{status.granted[2]:g}" if status.granted else "-"
        state = "ok" if status.healthy else "down"
        if status.healthy and status.message != "ok":  # playing, with something to know ("file deleted")
            state += f" ({status.message})"
        return f"{size} {state}"

    def use_engine(self, engine: Engine) -> None:
        self.engine, self._io = engine, ImageModelIO(engine.card)
        self._inputs = declared_inputs(engine.card, str(engine.path))
        self._last_seq = -1  # render the next frame with it, even if the source has not moved on

    def scale_work(self, fraction: float) -> None:
        self._work_scale = fraction
        self._last_seq = -1  # the next frame at the new size, even if the source has not moved on

    def warm_up(self, width: int, height: int) -> None:
        if self.engine is not None:
            blank = np.zeros((height, width, 3), dtype=np.uint8)  # (H, W, 3) RGB, as a source gives
            self.engine.warm_up({self.engine.input_names[0]: self._io.to_input(self.chain.apply(blank)),
                                 **self._model_feeds(defaults_of(self.parameters))})

    def render(self, moment: Moment, width: int, height: int) -> np.ndarray:
        """(height, width, 3) uint8 RGB for the moment (seconds, parameters); the array is reused."""
        frame = self.source.frame_at(moment.t) if self.rehearsal else self._live_frame()
        sigma, strength, preserve_colour = (moment.values[name] for name in
                                            ("canny.sigma", "style.strength", "style.preserve_colour"))
        values = tuple(moment.values.values())
        unchanged = frame.seq == self._last_seq and values == self._last_values
        if unchanged and self._output is not None and self._output.shape[:2] == (height, width):
            return self._output  # nothing new from the source or the performer: the last picture stands
        filtered = self.chain.apply(frame.pixels, sigma, self._tuner.stabilise if self._tuner is not None else None)
        if self._io is None:
            self._output = _resized(filtered, width, height, self._output)
        else:
            name = self.engine.input_names[0]
            feeds = {name: self._io.to_input(filtered, self._work_scale), **self._model_feeds(moment.values)}
            result = self.engine.run(feeds)[self.engine.output_names[0]]
            self._output = self._io.to_frame(result, width, height)
            if self.engine.card.kind == "style" and (preserve_colour or strength < 1.0):
                self._plain = _resized(filtered, width, height, self._plain)
                if preserve_colour:
                    self._keep_source_colour()
                if strength < 1.0:
                    # strength 0 is the input to the bit: addWeighted's 0 * styled + 1 * input
                    cv2.addWeighted(self._output, strength, self._plain, 1.0 - strength, 0.0, dst=self._output)
        if self._tuner is not None and frame.seq != self._tuned_seq:  # a new picture, not a fader's re-render
            self._tuner.note(self._output, frame.pixels)
            self._tuned_seq = frame.seq
        self._last_seq, self._last_values = frame.seq, values
        self.captured_at, self.last_input = frame.captured_at, frame.pixels
        return self._output

    def _model_feeds(self, values) -> dict[str, np.ndarray]:
        """The model's extra inputs from the parameters' values (a reloaded model's new ones at their defaults)."""
        return {declared.onnx_name: declared.feed([values.get(MODEL_NAMESPACE + name, default) for name, default
                                                   in zip(declared.value_names(), declared.default)])
                for declared in self._inputs}

    def _keep_source_colour(self) -> None:
        """Preserve colour: the styled picture's luma with the input's chroma (in place, in the output).
        YCrCb, as the classic "luminance-only transfer" does (Gatys et al. 2016, "Preserving colour")."""
        if self._styled_ycc is None or self._styled_ycc.shape != self._output.shape:
            self._styled_ycc = np.empty_like(self._output)
            self._plain_ycc = np.empty_like(self._output)
        cv2.cvtColor(self._output, cv2.COLOR_RGB2YCrCb, dst=self._styled_ycc)
        cv2.cvtColor(self._plain, cv2.COLOR_RGB2YCrCb, dst=self._plain_ycc)
        self._plain_ycc[..., 0] = self._styled_ycc[..., 0]
        cv2.cvtColor(self._plain_ycc, cv2.COLOR_YCrCb2RGB, dst=self._output)

    def _live_frame(self) -> Frame:
        # Whether a silent source has stalled is the source's call: a camera has its
        # stall timeout, while a still picture may rightly not change for minutes.
        status = self.source.status()
        frame = self.source.mailbox.newest()
        if not status.healthy:
            raise SceneUnavailable(status.message)
        if frame is None:
            raise SceneUnavailable("waiting for the first frame")
        return frame


def _resized(image: np.ndarray, width: int, height: int, out: np.ndarray | None) -> np.ndarray:
    """(height, width, 3) uint8 RGB of an (H, W) or (H, W, 3) uint8 picture: resampled once if its
    size differs, then (edges, gray) made three channels; `out` is reused when it fits."""
    if image.shape[:2] == (height, width) and image.ndim == 3:
        return image
    if out is None or out.shape != (height, width, 3):
        out = np.empty((height, width, 3), dtype=np.uint8)
    if image.ndim == 3:
        return cv2.resize(image, (width, height), dst=out, interpolation=cv2.INTER_LINEAR)
    if image.shape[:2] != (height, width):
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    return as_rgb(image, out=out)
