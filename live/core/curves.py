"""Easing curves: 0..1 bent into 0..1 with the ends fixed, for mappings, fades, cue ramps and latent glides.

They live in core because every layer eases something: a mapping bends its
input, the director a crossfade, the conductor a cue's ramp, a CPPN scene the
walk to a keyframe.
"""
from __future__ import annotations

import math
from typing import Literal, get_args

Curve = Literal["linear", "exp", "log", "smooth"]
# How bent the exp and log curves are: exp(0.5) = 0.12, log(0.5) = 0.83. They are each other's inverse.
CURVE_STEEPNESS = 4.0


def apply_curve(x: float, curve: str) -> float:
    """Reshape 0..1 into 0..1 (ends fixed): linear, exp (slow start), log (fast start), smooth (ease in-out)."""
    x = min(max(x, 0.0), 1.0)
    if curve == "linear":
        return x
    if curve == "exp":
        return math.expm1(CURVE_STEEPNESS * x) / math.expm1(CURVE_STEEPNESS)
    if curve == "log":
        return math.log1p(x * math.expm1(CURVE_STEEPNESS)) / CURVE_STEEPNESS
    if curve == "smooth":
        return x * x * (3.0 - 2.0 * x)
    raise ValueError(f"unknown curve {curve!r}; curves are {', '.join(get_args(Curve))}")


def invert_curve(y: float, curve: str) -> float:
    """The x in 0..1 that `apply_curve(x, curve)` takes to y (every curve rises, so halving finds it)."""
    y = min(max(y, 0.0), 1.0)
    if curve == "linear" or y in (0.0, 1.0):  # the ends are fixed (and flat for smooth: halving creeps there)
        return y
    low, high = 0.0, 1.0
    for _ in range(40):  # 2**-40: far below any value a controller can show
        middle = (low + high) / 2.0
        low, high = (middle, high) if apply_curve(middle, curve) < y else (low, middle)
    return (low + high) / 2.0
