"""What an exportable network declares about itself, so export and its parity check need no guessing.

Kept free of torch imports at module level: a network builds its own sample
inputs, the exporter only calls them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from live.model_card import ModelCard


@dataclass(frozen=True)
class ExportSpec:
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    # e.g. {"coords": {0: "height", 1: "width"}}: axes left free in the ONNX graph
    dynamic_axes: dict[str, dict[int, str]]
    # sample_inputs(height, width, seed) -> tuple of tensors in input_names order
    sample_inputs: Callable[[int, int, int], tuple[Any, ...]]
    card: ModelCard
