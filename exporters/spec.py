"""What an exportable network declares about itself, so export and its parity check need no guessing.

Kept free of torch imports at module level: a network builds its own sample
inputs, the exporter only calls them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from live.inference.model_card import ModelCard


@dataclass(frozen=True)
class ExportSpec:
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    # e.g. {"coords": {0: "height", 1: "width"}}: axes left free in the ONNX graph
    dynamic_axes: dict[str, dict[int, str]]
    # sample_inputs(height, width, seed) -> tuple of tensors in input_names order
    sample_inputs: Callable[[int, int, int], tuple[Any, ...]]
    card: ModelCard
    # (height, width) pairs for the parity check; None takes the exporter's defaults,
    # one of them odd. A network that only runs at multiples of card.size_multiple
    # (a U-Net) names sizes it can run, one of them not square.
    parity_sizes: tuple[tuple[int, int], ...] | None = None


def image_to_image_spec(card: ModelCard, sample_inputs: Callable[[int, int, int], tuple[Any, ...]],
                        parity_sizes: tuple[tuple[int, int], ...] | None = None) -> ExportSpec:
    """The spec of a network from a (1, C, H, W) "image" to a (1, C', H, W) "output", H and W free.
    The output is not called "image" too: torch would rename the input to "image.1"."""
    free_size = {2: "height", 3: "width"}
    return ExportSpec(input_names=("image",), output_names=("output",),
                      dynamic_axes={"image": free_size, "output": free_size},
                      sample_inputs=sample_inputs, card=card, parity_sizes=parity_sizes)
