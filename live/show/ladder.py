"""A scene's ladder made ready: each rung's model loaded and warmed, and a rung put on the scene between frames.

Rungs accumulate: rung k runs with what rungs 1..k set (live.scenes.rungs). A
rung's engine (a slimmer model, a float16 copy) is loaded and warmed up at the
rung's size when the show starts, so a step never waits for a model to load;
the render size it sets is the stage's to ask the scene for (the renderer
scales any picture up to the window), and the share of its work the scene
does at that size is the scene's own (`Scene.scale_work`). An upscale rung
renders at 1/scale of its size and its super-resolution model draws the
picture back up. A rung this machine cannot run well is skipped, said once:
fp16 where ONNX Runtime runs the model on the CPU, whose float16 kernels are
few (casts wrap the rest): no faster than float32 there, and less precise.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live.inference.engine import Engine, EngineConfig
from live.inference.float16 import float16_copy
from live.inference.providers import CPU
from live.inference.upscaler import Upscaler
from live.output.picture import Picture, ShaderPicture
from live.scenes.contract import Scene, SceneSpec

log = logging.getLogger("latentstage.ladder")

FP16_ON_CPU = ("ONNX Runtime runs it on the CPU, where float16 saves no time over float32 "
               "(bench/ladder_bench.py --fp16)")


@dataclass(frozen=True)
class RungPlan:
    """What the scene runs with on one rung, everything the rungs above it set included."""

    number: int  # 0: the top, as the scene is built
    label: str  # "render_scale 0.5", "model drift-slim.onnx", "top"
    render_scale: float  # fraction of the output size the stage asks the scene for
    engine: Engine | None  # None: the scene's own model
    upscaler: Upscaler | None
    skipped: str = ""  # why this machine does not step onto it; "" when it does


class SceneLadder:
    """One scene's rungs, and the one it is on."""

    def __init__(self, scene: Scene, plans: list[RungPlan], show_render_scale: float):
        self.scene = scene
        self.plans = plans
        self.position = 0
        self._show_scale = show_render_scale
        self._base = scene.engine  # the scene's own model: a model file reloaded while it runs replaces it

    @property
    def usable(self) -> list[int]:
        """The rung numbers this machine steps onto, the top first."""
        return [plan.number for plan in self.plans if not plan.skipped]

    @property
    def plan(self) -> RungPlan:
        return self.plans[self.position]

    def cost_priors(self) -> dict[int, float]:
        """Rung -> how much dearer the usable rung above it is, where only the render size differs
        between them (the ratio of their pixels); a rung that changes the model is learnt live."""
        priors = {}
        usable = self.usable
        for above, below in zip(usable, usable[1:]):
            upper, lower = self.plans[above], self.plans[below]
            if upper.engine is lower.engine and upper.upscaler is lower.upscaler:
                priors[below] = (upper.render_scale / lower.render_scale) ** 2
        return priors

    def use(self, number: int) -> None:
        """Run the scene on rung `number` from its next frame on (between frames, on the thread that renders)."""
        plan = self.plans[number]
        engine = plan.engine or self._base
        if engine is not None and engine is not self.scene.engine:
            self.scene.use_engine(engine)
        self.scene.scale_work(self._work_share(plan))
        self.position = number

    def replace_base(self, engine: Engine) -> None:
        """The scene's own model file was reloaded: run the new model wherever the ladder runs its own."""
        self._base = engine
        if self.plan.engine is None:
            self.scene.use_engine(engine)

    def size(self, top: tuple[int, int]) -> tuple[int, int]:
        """(width, height) to ask the scene for on this rung, `top` being the stage's render size."""
        plan = self.plan
        shrink = plan.render_scale / self._show_scale / (plan.upscaler.scale if plan.upscaler is not None else 1)
        return max(2, round(top[0] * shrink)), max(2, round(top[1] * shrink))

    def finish(self, picture: Picture) -> Picture:
        """The scene's picture as this rung shows it: drawn back up by its upscaler, if it has one."""
        upscaler = self.plan.upscaler
        if upscaler is None or isinstance(picture, ShaderPicture):
            return picture
        return upscaler.upscale(picture)

    def _work_share(self, plan: RungPlan) -> float:
        scale = plan.render_scale / self._show_scale
        return scale / plan.upscaler.scale if plan.upscaler is not None else scale


def build_ladder(spec: SceneSpec, scene: Scene, config: EngineConfig, show_render_scale: float,
                 top: tuple[int, int]) -> SceneLadder | None:
    """The ladder of `spec`'s scene (built already, at the top), every rung's model loaded and the scene
    warmed up on each at its size (`top`: the stage's render size); None for a scene without one."""
    if not spec.ladder:
        return None
    engines: dict[tuple[Path, bool], Engine] = {}
    upscalers: dict[Path, Upscaler] = {}
    plans = [RungPlan(0, "top", show_render_scale, None, None)]
    render_scale, model, fp16, upscale = show_render_scale, None, False, None
    on_cpu = scene.engine is not None and scene.engine.providers[0] == CPU
    for number, rung in enumerate(spec.ladder, start=1):
        render_scale = rung.render_scale if rung.render_scale is not None else render_scale
        model = rung.model if rung.model is not None else model
        fp16 = (rung.fp16 if rung.fp16 is not None else fp16) and not on_cpu  # on the CPU the rungs run float32
        upscale = rung.upscale if rung.upscale is not None else upscale
        skipped = ""
        if rung.fp16 and on_cpu:
            skipped = FP16_ON_CPU if rung.ways() == ["fp16"] else ""
            log.info("scene %r: ladder rung %d (%s) %s: %s", spec.name, number, rung.describe(),
                     "skipped" if skipped else "runs float32", FP16_ON_CPU)
        engine = None
        if not skipped and (model is not None or fp16):
            path = model if model is not None else spec.model_file
            key = (path, fp16)
            if key not in engines:
                engines[key] = Engine.load(float16_copy(path) if fp16 else path, config)
            engine = engines[key]
        upscaler = None
        if upscale is not None:
            upscaler = upscalers.setdefault(upscale, Upscaler.load(upscale, config))
        plans.append(RungPlan(number, rung.describe(), render_scale, engine, upscaler, skipped))
    ladder = SceneLadder(scene, plans, show_render_scale)
    for number in ladder.usable[1:]:  # each rung run once at its size: a step down never waits
        ladder.use(number)
        width, height = ladder.size(top)
        scene.warm_up(width, height)
        if ladder.plan.upscaler is not None:
            ladder.plan.upscaler.upscale(np.zeros((height, width, 3), dtype=np.uint8))
    ladder.use(0)
    return ladder
