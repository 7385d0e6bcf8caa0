"""What a scene hands the renderer for one frame: pixels, or a GPU program with its uniforms.

Every scene kind's `render` returns a `Picture`, and the renderer draws either
without asking which kind made it: pixels are uploaded into a layer texture; a
`ShaderPicture` is drawn into it by its fragment program, with the uniforms it
carries. A kind that computes its pixels on the GPU (a CPPN made into GLSL
from its weights, a GAN's shader next) fills a ShaderPicture; nothing in the
renderer knows what the program computes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np


@dataclass(frozen=True, eq=False)
class FragmentProgram:
    """A GLSL 3.30 fragment shader that writes `out vec4 colour` for each pixel of a layer.
    gl_FragCoord counts the layer's pixels with row 0 the picture's first row (numpy's), as
    uploaded pixels have it. Compiled once per object by the renderer (identity, not text, is
    the key: a scene keeps its program object while its weights stay)."""

    source: str
    name: str  # for messages: the model file or whatever the program was made from


@dataclass(frozen=True)
class Uniform:
    """One uniform of a fragment program: `components` floats each (1 float, 2 vec2, 3 vec3,
    4 vec4), an array of len(values) // components of them when longer."""

    name: str
    components: int
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.components not in (1, 2, 3, 4) or not self.values or len(self.values) % self.components:
            raise ValueError(f"uniform {self.name}: {len(self.values)} values do not make "
                             f"{self.components}-component items")


@dataclass(frozen=True)
class ShaderPicture:
    """A frame drawn on the GPU: the program and its per-frame uniforms, at width x height.
    Immutable, so handing it to the render thread needs no copy."""

    program: FragmentProgram
    uniforms: tuple[Uniform, ...]
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, 3)

    def copy(self) -> ShaderPicture:
        return self  # immutable: the stage's copy-for-another-thread is free


# (H, W, 3) uint8 RGB pixels, or a ShaderPicture: what `Scene.render` returns and the renderer draws
Picture = Union[np.ndarray, ShaderPicture]
