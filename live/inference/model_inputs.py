"""A model's inputs beyond its picture, as its card declares them: values a performer can move.

A style network with several styles in it takes a style-weights vector beside
the picture; an adopted model from elsewhere may take a strength or a mix. The
card declares each such input under `latentstage.extra.input.<onnx name>` as a
small JSON object: the parameter name it goes by on stage, its shape, range and
default, and whether its values are a mixture to be divided by their sum. The
scene turns each value into a performer parameter (`model.style_weights_3`)
and feeds the array that `feed` builds from them. Nothing here knows about the
control bus: live.inference sits below live.control.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np

from live.inference.model_card import ModelCard, ModelCardError

KEY_PREFIX = "input."  # under the card's extra: latentstage.extra.input.<onnx input name>
MAX_VALUES = 32  # an input with more values than this is not something a performer moves one by one
_NAME_WORDS = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class ModelInput:
    """One extra input of a model: its ONNX name, what stage parameters call it, its values."""

    onnx_name: str
    parameter: str  # lower-case word: the stage names its values model.<parameter>[_<i>]
    shape: tuple[int, ...]  # what the model takes, e.g. (26,) or (1, 26); () for a scalar
    minimum: float
    maximum: float
    default: tuple[float, ...]  # one per value, row-major
    normalise: bool = False  # a mixture: values are divided by their sum (all zero: the default)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def value_names(self) -> list[str]:
        """The stage's names for its values, after `model.`: `strength`, or `style_weights_0` ..."""
        if self.size == 1:
            return [self.parameter]
        return [f"{self.parameter}_{index}" for index in range(self.size)]

    def feed(self, values: list[float]) -> np.ndarray:
        """The array the model takes for these values (one per value name), float32 in `shape`."""
        array = np.asarray(values, dtype=np.float32)
        if self.normalise:
            total = float(array.sum())
            array = array / total if total > 0 else np.asarray(self.default, dtype=np.float32)
        return array.reshape(self.shape)

    def to_metadata(self) -> dict[str, str]:
        text = json.dumps({"parameter": self.parameter, "shape": list(self.shape), "minimum": self.minimum,
                           "maximum": self.maximum, "default": list(self.default), "normalise": self.normalise})
        return {f"latentstage.extra.{KEY_PREFIX}{self.onnx_name}": text}


def parameter_word(onnx_name: str) -> str:
    """An ONNX input name as a parameter word: `style_weights:0` -> `style_weights`."""
    word = _NAME_WORDS.sub("_", onnx_name.lower().removesuffix(":0")).strip("_")
    if not word or not word[0].isalpha():
        word = "input_" + word
    return word


def declared_inputs(card: ModelCard, source: str = "model") -> list[ModelInput]:
    """The extra inputs a card declares, in the card's order; a malformed declaration is a ModelCardError."""
    inputs = []
    for key, text in card.extra.items():
        if not key.startswith(KEY_PREFIX):
            continue
        name = key[len(KEY_PREFIX):]
        try:
            fields = json.loads(text)
            declared = ModelInput(onnx_name=name, parameter=str(fields["parameter"]),
                                  shape=tuple(int(v) for v in fields["shape"]), minimum=float(fields["minimum"]),
                                  maximum=float(fields["maximum"]),
                                  default=tuple(float(v) for v in fields["default"]),
                                  normalise=bool(fields.get("normalise", False)))
        except (ValueError, KeyError, TypeError) as error:
            raise ModelCardError(f"{source}: card input {name!r} is not a declaration ({error})") from None
        if len(declared.default) != declared.size or declared.size > MAX_VALUES:
            raise ModelCardError(f"{source}: card input {name!r} gives {len(declared.default)} defaults for shape "
                                 f"{declared.shape} (at most {MAX_VALUES} values)")
        if parameter_word(declared.parameter) != declared.parameter:
            raise ModelCardError(f"{source}: card input {name!r}: parameter {declared.parameter!r} must be "
                                 "a lower-case word")
        inputs.append(declared)
    return inputs
