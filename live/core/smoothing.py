"""The one-pole smoother every control path uses (audio features, mappings).

A time constant (seconds) is how long the output takes to cover 63% of a step
towards its target; 0 jumps at once. Rising and falling values may have
different constants (attack and release), as an envelope follower does.
"""
from __future__ import annotations

import math


def one_pole_coefficient(time_constant: float, dt: float) -> float:
    """Fraction of the gap to close in a step of dt seconds; 1 follows at once."""
    return 1.0 if time_constant <= 0 else 1.0 - math.exp(-max(dt, 0.0) / time_constant)


def smooth(previous: float, target: float, dt: float, attack: float, release: float) -> float:
    """One step of an asymmetric one-pole filter: rising values follow with time constant
    `attack`, falling ones with `release` (seconds). dt in seconds."""
    constant = attack if target > previous else release
    return previous + one_pole_coefficient(constant, dt) * (target - previous)
