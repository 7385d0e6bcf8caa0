"""A latent walk: where a latent scene's latent is at t, and how a cue moves it to a named keyframe.

Any scene kind with a latent (a CPPN now, a GAN next) walks it through its
seeded keyframes with one `LatentWalk`: at `speed` keyframes per period, an
onset kicking it by `jitter`, and a cue's `KeyframeMove` (Moment.keyframe)
gliding it from wherever it is to one of the keyframes its spec names, along
the cue's curve. A named keyframe is one of the seeded ones (its index) or a
latent of its own (a captured one, live.show.capture): the walk travels on
from such a latent to the seeded keyframe after the place it left the path.
Everything is a function of the moments passed in, so a virtual clock gives
the same walk as the wall clock.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

import math

import numpy as np
from pydantic import Field, model_validator

from live.core.config import LocatedError, Settings
from live.core.curves import apply_curve
from live.scenes.contract import KeyframeMove, Moment
from live.scenes.cppn_math import interpolate, latent_at_position

KICK_DECAY = 0.25  # seconds: an onset's kick to the latent fades with this time constant


class WalkSettings(Settings):
    """The walk's part of a latent kind's block in a show (`cppn:`, `gan:`); each kind adds its own."""

    seed: int = 0  # which keyframes: the same seed gives the same walk
    keyframes: int = Field(5, ge=1)
    period: float = Field(4.0, gt=0)  # seconds from one keyframe to the next at speed 1
    interp: Literal["slerp", "linear"] = "slerp"
    # Names a show's cues move the latent to (`{scene: drift, keyframe: storm, fade: 4}`): name -> the
    # index of one of this scene's seeded keyframes (0 .. keyframes - 1), or a latent of its own (a
    # list of the model's z_dim numbers: what capture to show writes).
    named_keyframes: dict[str, Annotated[int, Field(ge=0)] | Annotated[list[float], Field(min_length=1)]] = \
        Field(default_factory=dict)

    @model_validator(mode="after")
    def _named_keyframes_exist(self) -> WalkSettings:
        for name, index in self.named_keyframes.items():
            if isinstance(index, list):
                if not all(math.isfinite(number) for number in index):
                    raise LocatedError(("named_keyframes", name), "a latent of finite numbers, please")
            elif index >= self.keyframes:
                raise LocatedError(("named_keyframes", name), f"keyframe {index}, but the walk has {self.keyframes} "
                                   f"(0 .. {self.keyframes - 1}); raise `keyframes` or pick one of those")
        return self


Target = int | np.ndarray  # a seeded keyframe's index, or a latent of its own (z_dim,) float32


@dataclass
class _Glide:
    """A cue's glide from wherever the walk is when it fires to one of its keyframes."""

    target: Target
    at: float  # seconds: when the cue fired
    seconds: float  # how long the glide takes
    curve: str
    start: np.ndarray | None = None  # (z_dim,) the walk's latent at `at`, once known


class LatentWalk:
    """Where a scene's latent is: travelling through the keyframes at `speed` keyframes per
    period, plus a kick from each onset that fades. Advances with t (seconds), so a virtual
    clock gives the same walk; with speed 1 and no onsets it is latent_at(t).

    A cue can send it to a keyframe (`glide_to`): from where it is when the cue fires it glides
    there along the cue's curve, then travels on from that keyframe at its speed (speed 0 holds
    it there); onset kicks still ride on top."""

    def __init__(self, latents: np.ndarray, period: float, interp: str, seed: int,
                 named: Mapping[str, int | list[float]] | None = None):
        """`named`: keyframe name -> a seeded keyframe's index, or a latent of its own (ValueError when
        it is not the keyframes' length)."""
        self.latents = latents  # (K, z_dim)
        self.period = period
        self.interp = interp
        self.named = {name: _target(target, latents.shape[1], name) for name, target in (named or {}).items()}
        self._rng_seed = seed
        self.restart()

    def restart(self) -> None:
        self._move: KeyframeMove | None = None  # the latest cue's move taken from the moments
        self._t: float | None = None
        self._position = 0.0  # keyframes travelled
        self._kick = np.zeros(self.latents.shape[1], dtype=np.float32)  # (z_dim,)
        self._rng = np.random.default_rng(self._rng_seed)
        self._glide: _Glide | None = None
        # After a glide to a latent of its own: that latent and the whole position it stands at; the
        # walk leaves it towards the seeded keyframe one position on (or back, at negative speed).
        self._departure: tuple[np.ndarray, float] | None = None
        self.latest: np.ndarray | None = None  # (z_dim,) the latent of the last call, kick included

    def state(self) -> dict:
        """Where the walk is, as plain JSON values, for a resumed show to carry on from (`restore`)."""
        glide = self._glide
        return {"t": self._t, "position": self._position,
                "move": None if self._move is None else [self._move.keyframe, self._move.at, self._move.seconds,
                                                         self._move.curve],
                "glide": None if glide is None else [_plain(glide.target), glide.at, glide.seconds, glide.curve,
                                                     None if glide.start is None else glide.start.tolist()],
                "departure": None if self._departure is None else [self._departure[0].tolist(),
                                                                   self._departure[1]]}

    def restore(self, state: dict) -> None:
        """Carry on from a `state` of this walk (its keyframes the same): the same latent at its t, a cue's
        glide under way still gliding, and that cue's move not taken again when its moment brings it."""
        self.restart()
        self._t, self._position = state["t"], float(state["position"])
        if state.get("move") is not None:
            self._move = KeyframeMove(*state["move"])
        if state.get("glide") is not None:
            target, at, seconds, curve, start = state["glide"]
            target = int(target) % len(self.latents) if isinstance(target, int) else _target(target, self.z_dim,
                                                                                                "glide")
            self._glide = _Glide(target, at, seconds, curve, None if start is None else np.asarray(start, np.float32))
        if state.get("departure") is not None:
            latent, anchor = state["departure"]
            self._departure = (_target(latent, self.z_dim, "departure"), float(anchor))

    @contextlib.contextmanager
    def unmoved(self) -> Iterator[None]:
        """A block whose calls (a warm-up's render) leave the walk where it was: a resumed scene warmed
        up after its walk was restored carries on from there."""
        state = self.state()
        try:
            yield
        finally:
            self.restore(state)

    @property
    def z_dim(self) -> int:
        return self.latents.shape[1]

    def glide_to(self, target: Target, at: float, seconds: float, curve: str = "smooth") -> None:
        """From the latent at `at` (seconds) to keyframe `target` (an index, or a latent (z_dim,) of its
        own) over `seconds`, along `curve`."""
        self._glide = _Glide(target % len(self.latents) if isinstance(target, int) else target, at, seconds, curve)

    def follow(self, moment: Moment, speed: float, jitter: float) -> np.ndarray:
        """The latent (z_dim,) at the moment: a cue's keyframe move that has come since the last
        one glides it there (from the cue's time, over its fade), then it travels on at `speed`."""
        move = moment.keyframe
        if move is not None and move != self._move:  # a cue has fired since
            self._move = move
            self.glide_to(self.named[move.keyframe], move.at, move.seconds, move.curve)
        return self.at(moment.t, speed, jitter, moment.onset)

    def at(self, t: float, speed: float = 1.0, jitter: float = 0.0, onset: bool = False) -> np.ndarray:
        """The latent at t (seconds), having travelled at `speed` since the last call; an onset
        kicks it by `jitter` latent units in a seeded random direction."""
        if self._t is None or t < self._t:  # first call, or the clock went back: start from t
            self._position, self._kick[:], self._t = t / self.period, 0.0, t
            self._departure = None
        self._kick *= np.float32(np.exp(-(t - self._t) / KICK_DECAY))
        latent = self._travel(t, speed)
        if onset and jitter > 0:
            direction = self._rng.standard_normal(self._kick.shape).astype(np.float32)
            self._kick += jitter * direction / np.linalg.norm(direction)
        self.latest = latent + self._kick
        return self.latest

    def _travel(self, t: float, speed: float) -> np.ndarray:
        """The walk's own latent at t: along the keyframes, or on a cue's glide."""
        glide = self._glide
        if glide is not None and t >= glide.at:
            if glide.start is None:  # where the walk had come to when the cue fired
                self._advance(max(glide.at, self._t), speed)
                glide.start = self._on_path()
            if t < glide.at + glide.seconds:
                self._t = t
                progress = apply_curve((t - glide.at) / glide.seconds, glide.curve)
                return interpolate(glide.start, self._latent_of(glide.target), progress, self.interp)
            self._arrive(glide)
        self._advance(t, speed)
        return self._on_path()

    def _latent_of(self, target: Target) -> np.ndarray:
        return self.latents[target] if isinstance(target, int) else target

    def _arrive(self, glide: _Glide) -> None:
        """The glide is over: the walk travels on from its keyframe."""
        self._t, self._glide = glide.at + glide.seconds, None
        if isinstance(glide.target, int):
            self._position, self._departure = float(glide.target), None
        else:  # a latent of its own stands where the walk left the path, on to the next seeded keyframe
            self._position = float(math.floor(self._position))
            self._departure = (glide.target, self._position)

    def _on_path(self) -> np.ndarray:
        """The latent at the walk's position: between the keyframes, or leaving a latent of its own."""
        if self._departure is not None:
            latent, anchor = self._departure
            offset = self._position - anchor
            if offset == 0.0:
                return latent.copy()
            if abs(offset) < 1.0:
                neighbour = self.latents[int(anchor + math.copysign(1.0, offset)) % len(self.latents)]
                return interpolate(latent, neighbour, abs(offset), self.interp)
            self._departure = None  # a whole keyframe on: back on the path
        return latent_at_position(self.latents, self._position, self.interp)

    def _advance(self, t: float, speed: float) -> None:
        self._position += speed * (t - self._t) / self.period
        self._t = t


def _target(named: int | list[float] | np.ndarray, z_dim: int, name: str) -> Target:
    """A named keyframe as the walk keeps it: an index, or a latent (z_dim,) float32 of the right length."""
    if isinstance(named, int):
        return named
    latent = np.asarray(named, dtype=np.float32).reshape(-1)
    if latent.shape != (z_dim,):
        raise ValueError(f"named keyframe {name!r} is a latent of {latent.size} numbers, but the model's latent "
                         f"has {z_dim}: capture it again from this model")
    return latent


def _plain(target: Target) -> int | list[float]:
    return target if isinstance(target, int) else target.tolist()


class ResumesItsWalk:
    """For a scene kind whose latent walks (`self.walk`): a resumed show carries the walk on from where it
    was, and capture to show reads where it is."""

    walk: LatentWalk

    @property
    def latent(self) -> np.ndarray | None:
        """(z_dim,) float32: the latent of the scene's last render, None before its first."""
        return self.walk.latest

    def resume_state(self) -> dict:
        return {"walk": self.walk.state()}

    def resume(self, state: dict) -> None:
        if "walk" in state:
            self.walk.restore(state["walk"])
