"""The scene contract: the one shape every scene kind fills, and the snapshot it renders from.

A scene kind is a class with a `kind` name (what a show's `kind:` says), the
config block it reads from the show (`spec_type`), and its performer
parameters declared once, in `PARAMETERS`. From those declarations the control
bus gives every scene its own parameters (`drift.scale`, OSC
`/latentstage/drift/scale`) and an alias for whatever scene of the kind is on
screen (`cppn.scale`); `osc list`, mappings and the HUD read them too. Adding a
parameter to a kind is one line in its PARAMETERS and one read of
`moment.values` in its render.

The control bus and the audio change all the time on other threads; the frame
loop reads them once into a `Moment` per scene, so one frame sees one
consistent set of values and a scene stays a function of its moments.

Every kind keeps the same contract, and nothing outside a kind's module asks
which kind a scene is: `render` returns a `Picture` (pixels, or a GPU program
with its uniforms); `attach_renderer` hands each scene the renderer before the
first frame (a no-op unless it draws with a shader); a cue's latent move
reaches any kind with a latent through `Moment.keyframe`; what the show file's
checks need to know of a kind its spec says itself (`SceneSpec.files`, the
keyframes it names). `SceneBase` gives the no-op parts once.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

from pydantic import Field, model_validator

from live.control.parameters import Parameter, Value
from live.core.clock import Clock
from live.core.config import LocatedError, Settings
from live.core.frames import Frame
from live.inference.engine import Engine, EngineConfig
from live.output.picture import FragmentProgram, Picture, ShaderPicture, Uniform
from live.scenes.rungs import Rung

# A kind can be written from this module alone: what it fills, what it returns, what it declares
__all__ = ["KeyframeMove", "Moment", "Parameter", "Picture", "Scene", "SceneBase", "SceneContext", "SceneSpec",
           "SceneUnavailable", "ShaderPicture", "FragmentProgram", "Uniform", "alias_name", "defaults",
           "with_defaults"]


class SceneUnavailable(RuntimeError):
    """A scene that has nothing good to show right now; the message says why, for the HUD."""


@dataclass(frozen=True)
class KeyframeMove:
    """A cue's move of a scene's latent to one of the scene's named keyframes: from wherever the
    latent is when the cue fires, along the cue's curve, over its fade. Any kind with a latent
    takes it (live.scenes.latent_walk); its spec names the keyframes it offers."""

    keyframe: str  # one of the names the scene's spec offers (SceneSpec.keyframe_names)
    at: float  # seconds of show time: when the cue fired
    seconds: float  # the cue's fade; 0 jumps there
    curve: str = "smooth"  # one of the easing curves (live.core.curves)


@dataclass(frozen=True)
class Moment:
    """What a scene renders from: the time and a snapshot of its parameters, modulation applied."""

    t: float  # seconds of show time
    values: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))  # short name -> value
    onset: bool = False  # an onset in the music since the previous frame
    keyframe: KeyframeMove | None = None  # the latest cue that moved this scene's latent, if any


class SceneSpec(Settings):
    """The base of each kind's block in a show file (a kind adds `kind: Literal["its name"]` and its
    settings). What the show's checks need of a kind, its spec says here."""

    # True for a kind whose scenes have a latent a cue can move to a named keyframe
    has_latent: ClassVar[bool] = False
    # True for a kind whose scenes render from an input's frames (a camera, a video): presence can watch them
    reads_frames: ClassVar[bool] = False
    # The model card kinds its model may be (`check` and preflight read the card); () takes any
    model_kinds: ClassVar[tuple[str, ...]] = ()
    naming_keyframes: ClassVar[str] = ""  # how its block names them, for a show that names none
    # The ways of a ladder rung (live.scenes.rungs) its scenes can take, and why it refuses the others;
    # fp16 and model need the scene to run a model
    ladder_ways: ClassVar[tuple[str, ...]] = ("render_scale",)
    ladder_refusals: ClassVar[Mapping[str, str]] = MappingProxyType({})
    keyframes_at: ClassVar[tuple[str, ...]] = ()  # where under its block named keyframes go (capture writes there)

    name: str = Field(min_length=1)
    target_fps: float | None = Field(None, gt=0, le=240)  # new pictures a second the live run's governor holds
    ladder: list[Rung] = Field(default_factory=list)  # cheaper ways to run it, stepped down when it misses

    @model_validator(mode="after")
    def _ladder_fits_the_kind(self) -> SceneSpec:
        if self.ladder and self.target_fps is None:
            raise LocatedError(("ladder",), "the ladder is stepped when the scene misses its target_fps: "
                                            "give target_fps (new pictures a second)")
        for index, rung in enumerate(self.ladder):
            for way in rung.ways():
                if way not in self.ladder_ways:
                    why = self.ladder_refusals.get(way, "its kind has no use for it")
                    article = "an" if way[0] in "aeiou" else "a"
                    raise LocatedError(("ladder", index, way), f"a {self.kind} scene cannot take {article} {way} rung: {why} "
                                       f"(it takes {', '.join(self.ladder_ways)})")
                if way in ("fp16", "model", "upscale") and self.model_file is None:
                    raise LocatedError(("ladder", index, way), f"scene {self.name!r} runs no model, so its {way} "
                                                               "rung has nothing to change")
        return self

    @property
    def model_file(self) -> Path | None:
        """The model file the scene runs, if any (`check` reads its card)."""
        return None

    def models(self) -> dict[tuple[str | int, ...], tuple[Path, tuple[str, ...]]]:
        """Every model file the scene runs, by its key under the scene's block, with the card kinds each
        may be (() takes any): `check` and preflight read each one's card before anything is loaded.
        Its `model_file` as `model_kinds` say by default; a kind that runs a second model adds it."""
        return {("model",): (self.model_file, self.model_kinds)} if self.model_file is not None else {}

    def files(self) -> dict[tuple[str | int, ...], Path]:
        """Every file the scene reads (model, media), by its key under the scene's block, as written:
        the show resolves each against its own folder and refuses one that does not exist."""
        return {}

    def ladder_files(self) -> dict[tuple[str | int, ...], Path]:
        """The model files its ladder's rungs name, by key (("ladder", 1, "model")), as written."""
        return {("ladder", index, way): path for index, rung in enumerate(self.ladder)
                for way in ("model", "upscale") if (path := getattr(rung, way)) is not None}

    def card_refusal(self, card) -> tuple[tuple[str | int, ...], str] | None:
        """(key under the scene's block, why) when its settings cannot work with its own model's card
        (live.inference.model_card.ModelCard), which preflight reads; None when they can."""
        return None

    def ladder_models(self) -> dict[tuple[str | int, ...], tuple[Path, tuple[str, ...]]]:
        """Its rungs' model files with the card kinds each may be: a slimmer model is one the scene runs,
        an upscaler a super-resolution model."""
        return {key: (path, self.model_kinds if key[-1] == "model" else ("sr",))
                for key, path in self.ladder_files().items()}

    def with_files(self, resolved: Mapping[tuple[str | int, ...], Path]) -> SceneSpec:
        """This spec with the files at those keys replaced (resolved paths)."""
        spec = self
        for location, path in resolved.items():
            spec = _replaced_at(spec, location, path)
        return spec

    def keyframe_names(self) -> tuple[str, ...]:
        """The keyframes of its latent a cue can name (kinds with `has_latent`)."""
        return ()

    def parameters(self, declared: tuple[Parameter, ...], show_folder: Path) -> tuple[Parameter, ...]:
        """The parameters a scene built from this spec will have, known before it is built and without
        opening a session (the show's checks and `osc list` read them): its kind's `declared` ones
        with this scene's own defaults (its settings, its model's card), and any its model's card
        adds. A card is read from the file's metadata alone; one that cannot be read raises
        EngineError or ModelCardError. The kind's declarations as they are by default."""
        return declared

    def with_camera_stand_in(self, clip: Path) -> SceneSpec:
        """This spec with a video file (`clip`, resolved) in place of any camera it reads: a rehearsal
        of the venue's camera. A kind with no camera stays as it is."""
        return self


def _replaced_at(node: Any, location: tuple[str | int, ...], value: Any) -> Any:
    head, *rest = location
    if isinstance(node, list):  # a list of blocks (a ladder's rungs): the one at `head` replaced
        return [(_replaced_at(item, tuple(rest), value) if rest else value) if index == head else item
                for index, item in enumerate(node)]
    return node.replaced(**{head: _replaced_at(getattr(node, head), tuple(rest), value) if rest else value})


class Scene(Protocol):
    """One scene of a show, built from its spec. Render calls come from one thread at a time."""

    kind: ClassVar[str]  # the show file's `kind:`
    namespace: ClassVar[str]  # alias prefix: "cppn" makes `cppn.scale`; "" keeps the names as declared
    PARAMETERS: ClassVar[tuple[Parameter, ...]]  # short names, the kind's defaults
    spec_type: ClassVar[type[SceneSpec]]  # the show file's block for this kind
    # True: renders from t alone, with no input that can fail, so it can stand in as the idle scene
    standalone: ClassVar[bool]

    name: str
    engine: Engine | None  # its model; None without one

    @classmethod
    def build(cls, spec, context: SceneContext) -> Scene:
        """The scene a show's block describes, its model loaded (not yet warmed up or started)."""

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """PARAMETERS with this scene's own defaults (its show settings, its model's card)."""

    @property
    def providers(self) -> list[str]:
        """Where its model runs; empty without one."""

    @property
    def last_output(self) -> Picture | None:
        """The last picture rendered, held on screen for a while when the scene fails."""

    @property
    def captured_at(self) -> float | None:
        """Clock time its newest input was captured; None when it renders from nothing but t."""

    @property
    def last_input(self):
        """(H, W, 3) or (H, W) uint8: the input frame its last render was made from (the flicker figure
        sets the output's change against it); None for a scene with no input."""

    @property
    def flicker_tuning(self) -> tuple[float, float] | None:
        """(target levels, stabilise in use) of a scene tuning its edges toward a flicker target (the HUD's
        flicker line and --stats-json show them); None for one that does not."""

    def input_frame(self, t: float) -> Frame | None:
        """The input frame it would render from at t (seconds of show time), whether it is on screen or not:
        live, its source's newest; in rehearsal, the one that belongs to t. None for a scene with no input,
        or none yet (presence watches a scene's room through it)."""

    def warm_up(self, width: int, height: int) -> None:
        """Load and run once at this size, so the first cue never waits."""

    def attach_renderer(self, renderer) -> None:
        """The renderer that will draw its pictures, once before its first frame, on the renderer's
        thread (which owns GL): a kind that draws with a shader compiles it here, so a GL that
        cannot run it is known before the show starts. Not called in runs without a renderer."""

    def use_engine(self, engine: Engine) -> None:
        """Render with `engine` from the next frame on: its model file, reloaded while the show runs
        (same card contract, warmed up). Called between frames by the thread that renders."""

    def scale_work(self, fraction: float) -> None:
        """Do this fraction (each way, 1 = as built) of its work per picture from the next frame on: a
        ladder rung's render_scale against the show's. The stage asks for smaller pictures too, so a kind
        whose work follows the render size (a CPPN) has nothing more to do; one that runs its model at
        its input's size (a pipeline) shrinks that."""

    def resume_state(self) -> dict:
        """What a resumed show needs to carry this scene on from where it was (a latent walk's place), as
        plain JSON values; {} for a kind that is a function of its moments alone. Called by the
        thread that renders."""

    def resume(self, state: dict) -> None:
        """Carry on from a `resume_state` this scene (the same spec) gave before the show stopped."""

    @property
    def latent(self):
        """(z_dim,) float32: the latent its last render was made from, for capture to show; None for a
        kind without one (or before its first render)."""

    def start(self) -> None:
        """Start its inputs (cameras, video files) on their own threads; live runs only."""

    def stop(self) -> None: ...

    def wait_until_ready(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for its first input; True once it can render."""

    def health(self) -> str:
        """"ok", or what keeps it from rendering, for the HUD."""

    def input_status(self) -> str:
        """Its input for the HUD's sources line ("640x360@30 ok"); "" for a scene with no input."""

    def render(self, moment: Moment, width: int, height: int) -> Picture:
        """(height, width, 3) uint8 RGB pixels, or a ShaderPicture the renderer draws at that size;
        raises SceneUnavailable when it has nothing good to show. Pixels may be reused by the
        next render."""


class SceneBase:
    """The contract's parts most kinds leave as they are, given once: no inputs to start or wait for,
    healthy, nothing to attach to the renderer, its model (if any) swapped in as it is."""

    standalone: ClassVar[bool] = False
    captured_at: float | None = None  # a scene with no input frame: latency counts from the render
    last_input = None  # a scene with no input frame
    latent = None  # a kind without a latent
    flicker_tuning = None  # a scene that tunes nothing toward a flicker target
    engine: Engine | None = None

    @property
    def providers(self) -> list[str]:
        return self.engine.providers if self.engine is not None else []

    def attach_renderer(self, renderer) -> None:
        pass

    def use_engine(self, engine: Engine) -> None:
        self.engine = engine

    def scale_work(self, fraction: float) -> None:
        pass

    def resume_state(self) -> dict:
        return {}

    def resume(self, state: dict) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def wait_until_ready(self, timeout: float) -> bool:
        return True

    def input_frame(self, t: float) -> Frame | None:
        return None

    def health(self) -> str:
        return "ok"

    def input_status(self) -> str:
        return ""


def with_defaults(parameters: tuple[Parameter, ...], values: Mapping[str, Value]) -> tuple[Parameter, ...]:
    """`parameters` with the defaults `values` gives by name (a scene's own starting values)."""
    return tuple(dataclasses.replace(parameter, default=values[parameter.name]) if parameter.name in values
                 else parameter for parameter in parameters)


def defaults(parameters: tuple[Parameter, ...]) -> Mapping[str, Value]:
    """The values a scene renders with when nobody drives it."""
    return MappingProxyType({parameter.name: parameter.default for parameter in parameters})


def alias_name(scene_type: type, parameter: Parameter) -> str:
    """The name that addresses `parameter` on whichever scene of this kind is on screen."""
    return f"{scene_type.namespace}.{parameter.name}" if scene_type.namespace else parameter.name


@dataclass(frozen=True)
class SceneContext:
    """What building a scene needs besides its own spec."""

    engine: EngineConfig  # providers and GPU requirements from the show
    clock: Clock  # the clock live sources stamp their frames with
    rehearsal: bool  # True: inputs are read at t (timelines), never started live
