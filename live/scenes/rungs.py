"""A scene's ladder in the show file: the cheaper ways to run it, tried in order when it misses its `target_fps`.

    - name: drift
      kind: cppn
      target_fps: 30
      ladder:
        - render_scale: 0.5          # rung 1: half the pixels each way, the renderer scales it up
        - model: models/drift-slim.onnx   # rung 2: a slimmer model of the same card (and still half size)
        - fp16: true                 # rung 3: a float16 copy, where a GPU provider runs it

Each rung changes only what it names and keeps what the rungs above it set, so
rung 2 above runs the slim model at half size. A kind says which ways it can
take (`SceneSpec.ladder_ways`): a GAN's generator draws at its own size, so a
render_scale rung would save it nothing and is refused, in one line, where
`check` reads the show. The live run's governor (live.show.governor) steps
down and back up this ladder; live.show.ladder applies a rung to a scene.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from live.core.config import Settings

WAYS = ("render_scale", "fp16", "model", "upscale")  # in the order a rung's line names them


class Rung(Settings):
    """One rung: any of its ways, at least one."""

    # fraction of the output size the scene renders at (the show's output.render_scale, for this scene)
    render_scale: float | None = Field(None, gt=0, le=1)
    fp16: bool | None = None  # a float16 copy of the model, where a GPU provider runs it (slower on a CPU)
    model: Path | None = None  # a slimmer model file with the same card contract, relative to the show
    upscale: Path | None = None  # a super-resolution model (kind sr): the scene renders 1/scale, it draws it back up

    @model_validator(mode="after")
    def _names_a_way(self) -> Rung:
        if not self.ways():
            raise ValueError(f"a rung names at least one cheaper way to run the scene: {', '.join(WAYS)}")
        return self

    def ways(self) -> list[str]:
        """The ways this rung sets, in WAYS order."""
        return [way for way in WAYS if getattr(self, way) is not None]

    def describe(self) -> str:
        """`render_scale 0.5`, `model drift-slim.onnx`, `fp16`, `upscale sr.onnx` (joined by ', ')."""
        parts = []
        for way in self.ways():
            value = getattr(self, way)
            if way == "fp16":
                parts.append("fp16" if value else "fp32")
            else:
                parts.append(f"{way} {value.name if isinstance(value, Path) else f'{value:g}'}")
        return ", ".join(parts)
