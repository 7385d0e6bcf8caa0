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
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Protocol

import numpy as np

from live.control.parameters import Parameter, Value
from live.core.clock import Clock
from live.inference.engine import Engine, EngineConfig


class SceneUnavailable(RuntimeError):
    """A scene that has nothing good to show right now; the message says why, for the HUD."""


@dataclass(frozen=True)
class KeyframeMove:
    """A cue's move of a CPPN scene's latent to one of the scene's named keyframes: from wherever the
    latent is when the cue fires, along the cue's curve, over its fade."""

    keyframe: str  # a name in the scene's `named_keyframes`
    at: float  # seconds of show time: when the cue fired
    seconds: float  # the cue's fade; 0 jumps there
    curve: str = "smooth"  # one of the mappings' curves


@dataclass(frozen=True)
class Moment:
    """What a scene renders from: the time and a snapshot of its parameters, modulation applied."""

    t: float  # seconds of show time
    values: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))  # short name -> value
    onset: bool = False  # an onset in the music since the previous frame
    keyframe: KeyframeMove | None = None  # the latest cue that moved this scene's latent (CPPN scenes)


class Scene(Protocol):
    """One scene of a show, built from its spec. Render calls come from one thread at a time."""

    kind: ClassVar[str]  # the show file's `kind:`
    namespace: ClassVar[str]  # alias prefix: "cppn" makes `cppn.scale`; "" keeps the names as declared
    PARAMETERS: ClassVar[tuple[Parameter, ...]]  # short names, the kind's defaults
    spec_type: ClassVar[type]  # the show file's block for this kind (a Settings model with `kind:`)

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
    def last_output(self) -> np.ndarray | None:
        """The last picture rendered, held on screen for a while when the scene fails."""

    @property
    def captured_at(self) -> float | None:
        """Clock time its newest input was captured; None when it renders from nothing but t."""

    def warm_up(self, width: int, height: int) -> None:
        """Load and run once at this size, so the first cue never waits."""

    def use_engine(self, engine: Engine) -> None:
        """Render with `engine` from the next frame on: its model file, reloaded while the show runs
        (same card contract, warmed up). Called between frames by the thread that renders."""

    def start(self) -> None:
        """Start its inputs (cameras, video files) on their own threads; live runs only."""

    def stop(self) -> None: ...

    def wait_until_ready(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for its first input; True once it can render."""

    def health(self) -> str:
        """"ok", or what keeps it from rendering, for the HUD."""

    def render(self, moment: Moment, width: int, height: int) -> np.ndarray:
        """(height, width, 3) uint8 RGB; raises SceneUnavailable when it has nothing good to show.
        The array may be reused by the next render."""


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
