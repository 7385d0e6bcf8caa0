"""The checks every trainer's config makes of its numbers, one way, with the option names a user typed."""
from __future__ import annotations

import math


def _option(name: str) -> str:
    return name.replace("_", "-")


def require_counts(config: object, names: tuple[str, ...]) -> None:
    """Each of these fields (steps, sizes, batch sizes) is at least 1."""
    for name in names:
        if getattr(config, name) < 1:
            raise ValueError(f"{_option(name)} must be at least 1, got {getattr(config, name)}")


def require_weights(config: object, names: tuple[str, ...], positive: tuple[str, ...] = ("lr",)) -> None:
    """Each of these fields (loss weights, rates) is a finite number, 0 or more; those in `positive` above 0."""
    for name in names:
        value = getattr(config, name)
        if not math.isfinite(value) or value < 0 or (name in positive and value == 0):
            raise ValueError(f"{_option(name)} must be {'positive' if name in positive else '0 or more'}, "
                             f"got {value}")
