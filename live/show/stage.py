"""The stage: a show's scenes built and warmed up, and the frames the director asks for at time t.

Live runs and rehearsals both go through `Stage.frame_at`, so the same show
and clock give the same layers. Every scene's model is loaded before the first
frame, so a cue never waits for a model to load, and warmed up at the render
size: before the first frame, or in a live run between its first frames, one
scene at a time (`warm_up_between_frames`), so a start, and a resume after a
crash, shows its first frame sooner; a scene rendered before its turn has
warmed up by rendering. A live start waits (up to `hold` seconds) for the
scenes' first input frames, so the show does not open on the idle scene. A
scene that fails (its camera unplugged, its model erroring) keeps its last good
frame for the show's `hold` seconds, then gives way to the idle scene until it
recovers; the reason is kept in `health` for the HUD. The screen never goes
black. In a live run each scene's model file is watched: a replacement is
loaded off the render path and swapped in between frames, a bad one refused
while the loaded model runs on.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


from live.core.clock import Clock
from live.inference.engine import EngineError
from live.inference.model_watch import ModelWatcher
from live.output.picture import Picture
from live.scenes.contract import Moment, Scene, SceneContext, SceneUnavailable, defaults
from live.scenes.kinds import build_scene, bundled_idle_scene
from live.show.director import Composition, Director
from live.show.ladder import SceneLadder, build_ladder
from live.show.schema import Show, ShowError

log = logging.getLogger("latentstage.stage")

IDLE = -1  # the index the built-in idle scene stands under
MomentFor = Callable[[Scene, float], Moment]  # what a scene's parameters are at t (seconds)


def still(scene: Scene, t: float) -> Moment:
    """Nobody driving: each scene at its own defaults."""
    return Moment(t, defaults(scene.parameters))


@dataclass
class Layers:
    """What the renderer needs for one frame."""

    current: Picture  # the scene fading in or on screen
    previous: Picture | None  # the scene fading out
    composition: Composition
    captured_at: float  # clock time the oldest input of these pictures was captured


class Stage:
    def __init__(self, show: Show, scenes: list[Scene], idle: Scene, clock: Clock,
                 ladders: dict[str, SceneLadder] | None = None):
        """`ladders`: scene name -> its ladder, for the scenes that have one."""
        self.show = show
        self.scenes = scenes
        self.idle = idle  # the scene shown while another cannot be
        self.ladders = dict(ladders or {})
        self.director = Director(show)
        self.clock = clock
        self.health: dict[str, str] = {}  # scene name -> what is wrong with it now
        self._last_good: dict[int, float] = {}  # scene index -> show time of its last good frame
        self._watchers: list[tuple[Scene, ModelWatcher]] = []  # live runs only: each scene's model file
        self.swapped: list[tuple[str, Path]] = []  # (scene, model file) reloaded for the last frame
        self._cold: list[Scene] = []  # scenes still to warm up between frames, in show order

    @classmethod
    def build(cls, show: Show, rehearsal: bool = False, clock: Clock = time.perf_counter,
              warm_up: bool = True) -> Stage:
        """Every scene of the show built (models loaded), and warmed up at the render size unless
        `warm_up` is False (then `warm_up_between_frames` leaves it to the frame loop, or nothing does)."""
        context = SceneContext(show.engine, clock, rehearsal)
        scenes = [_built(show, index, context) for index in range(len(show.scenes))]
        idle = idle_scene(show, scenes)
        stage = cls(show, scenes, idle, clock, built_ladders(show, scenes))  # rungs loaded and warmed now
        if warm_up:
            for scene in stage._every_scene():
                stage._warm_up(scene)
        return stage

    def warm_up_between_frames(self) -> None:
        """Warm the scenes up one at a time between frames (`warm_up_next`), not all before the first."""
        self._cold = self._every_scene()

    def warm_up_next(self) -> None:
        """Warm up the next scene that has neither warmed up nor rendered yet, if any; call it between
        frames, on the thread that renders. One that fails is reported as a failing render is (the log,
        the HUD's health), and falls back as one does when it is shown."""
        if not self._cold:
            return
        scene = self._cold.pop(0)
        try:
            self._warm_up(scene)
        except Exception as error:  # noqa: BLE001 (as a render's failure: the show goes on)
            self._report(scene.name, error)

    def _every_scene(self) -> list[Scene]:
        return [*self.scenes] if self.idle in self.scenes else [*self.scenes, self.idle]

    def _warm_up(self, scene: Scene) -> None:
        scene.warm_up(*self.size)
        log.info("scene %r ready on %s", scene.name, ", ".join(scene.providers) or "no model")

    def attach_renderer(self, renderer) -> None:
        """Hand every scene the renderer (a scene that draws with a shader compiles it); call it on
        the renderer's thread, before the first frame."""
        for scene in {id(s): s for s in [*self.scenes, self.idle]}.values():
            scene.attach_renderer(renderer)

    def start(self) -> None:
        """Start the scenes' inputs (cameras, video files) and the watchers of their model files on
        their own threads, and wait up to the show's `hold` seconds for their first frames (they
        start together, so the waits overlap)."""
        self._watchers = [(scene, ModelWatcher(scene.engine, self.show.engine, self.clock))
                          for scene in self.scenes if scene.engine is not None]
        for _, watcher in self._watchers:
            watcher.start()
        for scene in self.scenes:
            scene.start()
        deadline = time.monotonic() + self.show.hold
        for scene in self.scenes:
            if not scene.wait_until_ready(max(0.0, deadline - time.monotonic())):
                log.warning("scene %r: no input after %.1f s (%s); starting without it",
                            scene.name, self.show.hold, scene.health())

    def stop(self) -> None:
        for scene in self.scenes:
            scene.stop()
        for _, watcher in self._watchers:
            watcher.stop()

    def model_problems(self) -> str:
        """Why a model file that changed is not running, for the HUD's health line; "" when none."""
        return "; ".join(watcher.problem for _, watcher in self._watchers if watcher.problem)

    def model_counts(self) -> dict[str, int]:
        """Model files reloaded and versions refused while the show ran, for the HUD and --stats-json."""
        return {"reloaded": sum(watcher.reloads for _, watcher in self._watchers),
                "refused": sum(watcher.refused for _, watcher in self._watchers)}

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) the scenes render at; the renderer scales it to the output."""
        return self.show.output.render_size

    @property
    def output_size(self) -> tuple[int, int]:
        return self.show.output.width, self.show.output.height

    @property
    def providers(self) -> list[str]:
        return sorted({provider for scene in self.scenes for provider in scene.providers})

    def source_summary(self) -> str:
        """One HUD line: each scene's input source, what it granted (size, fps) and whether it is healthy."""
        parts = [f"{scene.name} {status}" for scene in self.scenes if (status := scene.input_status())]
        return "sources " + ", ".join(parts) if parts else ""

    def scene(self, index: int) -> Scene:
        return self.idle if index == IDLE else self.scenes[index]

    def use_rung(self, scene: str, rung: int) -> None:
        """Run `scene` on rung `rung` of its ladder (0: the top) from its next frame on; between frames,
        on the thread that renders. A scene without a ladder, or a rung it does not have, is a ValueError."""
        ladder = self.ladders.get(scene)
        if ladder is None:
            raise ValueError(f"scene {scene!r} has no ladder" if scene in {s.name for s in self.scenes}
                             else f"there is no scene {scene!r}")
        if not 0 <= rung < len(ladder.plans):
            raise ValueError(f"scene {scene!r} has rungs 0 (the top) to {len(ladder.plans) - 1}, not {rung}")
        ladder.use(rung)

    def scene_name(self, index: int) -> str:
        return "idle" if index == IDLE else self.scenes[index].name

    def frame_at(self, t: float, copy: bool = False, moment_for: MomentFor = still) -> Layers:
        """The layers at t (seconds of show time), each scene at the moment `moment_for` gives.
        Scenes reuse their buffers: pass copy=True to hand them to another thread."""
        started = self.clock()
        self._swap_reloaded_models()
        composition = self.director.composition_at(t)
        current, scene, captured = self._render(composition.scene, t, started, moment_for)
        previous = None
        if composition.previous is not None:
            previous, _, captured_before = self._render(composition.previous, t, started, moment_for)
            captured = min(captured, captured_before)
            if copy:
                previous = previous.copy()
        if copy:
            current = current.copy()
        if scene != composition.scene:
            composition = Composition(scene, composition.previous, composition.mix)
        return Layers(current, previous, composition, captured)

    def adopt(self, show: Show, scenes: list[Scene], idle: Scene, t: float,
              ladders: dict[str, SceneLadder] | None = None) -> tuple[list[Scene], list[ModelWatcher]]:
        """Between frames, on the thread that renders: play `show` (its file edited while it runs) from
        t on, with its `scenes` (unchanged ones are the running objects, new ones built, warmed and
        started; one rebuilt for a changed block of a running scene of its kind and name carries on
        from that one's resume state) and director carried on from the running one. Returns the scenes and model watchers
        no longer used, for the caller to stop off this thread."""
        kept = {id(scene) for scene in scenes}
        dropped = [scene for scene in {id(s): s for s in [*self.scenes, self.idle]}.values()
                   if id(scene) not in kept and scene is not idle]
        watched = {id(scene): (scene, watcher) for scene, watcher in self._watchers}
        retired = [watcher for scene, watcher in self._watchers if id(scene) not in kept]
        watchers = []
        for scene in scenes:
            if id(scene) in watched:
                watchers.append(watched[id(scene)])
            elif scene.engine is not None:
                watchers.append((scene, ModelWatcher(scene.engine, self.show.engine, self.clock)))
                watchers[-1][1].start()
        running = {(scene.name, type(scene)): scene for scene in self.scenes}
        for scene in scenes:  # a changed block (a keyframe named, a period edited) carries on where it was
            before = running.get((scene.name, type(scene)))
            if before is not None and before is not scene:
                scene.resume(before.resume_state())
        last_good = {id(self.scenes[index]): at for index, at in self._last_good.items()}
        self._last_good = {index: last_good[id(scene)] for index, scene in enumerate(scenes) if id(scene) in last_good}
        self.director = Director.continuing(show, self.director, t)
        self.show, self.scenes, self.idle, self._watchers = show, scenes, idle, watchers
        self._cold = [scene for scene in self._cold if scene in scenes or scene is idle]  # new ones come warm
        self.ladders = {**{name: ladder for name, ladder in self.ladders.items() if id(ladder.scene) in kept},
                        **(ladders or {})}  # a kept scene keeps its ladder and its rung; a built one brings its own
        names = {scene.name for scene in scenes}
        self.health = {name: message for name, message in self.health.items() if name in names}
        return dropped, retired

    def _swap_reloaded_models(self) -> None:
        """Between frames, on the thread that renders: scenes whose model file was replaced by a good
        model run it from this frame on; the old session goes when the scene lets go of it."""
        self.swapped = []
        for scene, watcher in self._watchers:
            engine = watcher.take()
            if engine is not None:
                ladder = self.ladders.get(scene.name)
                if ladder is not None and ladder.scene is scene:  # on a rung with a model of its own, kept there
                    ladder.replace_base(engine)
                else:
                    scene.use_engine(engine)
                self.swapped.append((scene.name, engine.path))
                log.info("scene %r: reloaded %s (%s)", scene.name, engine.path, engine.card.describe())

    def _render(self, index: int, t: float, started: float, moment_for: MomentFor) -> tuple[Picture, int, float]:
        """(pixels, index of the scene really shown, capture time) for scene `index` at t."""
        scene = self.scenes[index]
        name = scene.name
        ladder = self.ladders.get(name)
        width, height = ladder.size(self.size) if ladder is not None else self.size
        self._rendering(scene)
        try:
            pixels = scene.render(moment_for(scene, t), width, height)
            if ladder is not None:
                pixels = ladder.finish(pixels)
        except Exception as error:  # any failure of a scene degrades, never stops, the show
            self._report(name, error)
            held = scene.last_output
            if held is not None and t - self._last_good.get(index, -math.inf) <= self.show.hold:
                return held, index, scene.captured_at or started
            self._rendering(self.idle)
            return self.idle.render(moment_for(self.idle, t), *self.size), IDLE, started
        if name in self.health:
            log.info("scene %r recovered", name)
            self.health = {key: value for key, value in self.health.items() if key != name}
        self._last_good[index] = t
        return pixels, index, scene.captured_at or started

    def _rendering(self, scene: Scene) -> None:
        if scene in self._cold:  # its first render warms it up
            self._cold.remove(scene)

    def _report(self, name: str, error: Exception) -> None:
        message = str(error) if isinstance(error, SceneUnavailable) else f"{type(error).__name__}: {error}"
        message = " ".join(message.split())  # one line on the HUD: ONNX Runtime's errors span several
        if self.health.get(name) != message:
            log.warning("scene %r: %s", name, message)
        self.health = {**self.health, name: message}  # replaced whole: the HUD reads it from another thread


def _built(show: Show, index: int, context: SceneContext) -> Scene:
    """Scene `index` of the show, built; a model it cannot use is refused with the show's file, line and key."""
    try:
        return build_scene(show.scenes[index], context)
    except (EngineError, ValueError) as error:  # a file that is not ONNX, the wrong kind of model, no GPU
        raise ShowError(f"{show.where(('scenes', index, 'model'))}: {error}") from None


def built_ladders(show: Show, scenes: list[Scene], only: list[Scene] | None = None) -> dict[str, SceneLadder]:
    """The ladders of the show's scenes (of `only` those, if given), each rung loaded and warmed up; a rung
    model that will not load is refused with the show's file, line and key."""
    ladders = {}
    for index, (spec, scene) in enumerate(zip(show.scenes, scenes)):
        if only is not None and all(scene is not other for other in only):
            continue
        try:
            ladder = build_ladder(spec, scene, show.engine, show.output.render_scale, show.output.render_size)
        except (EngineError, ValueError) as error:
            raise ShowError(f"{show.where(('scenes', index, 'ladder'))}: {error}") from None
        if ladder is not None:
            ladders[spec.name] = ladder
    return ladders


def idle_scene(show: Show, scenes: list[Scene], bundled: Scene | None = None) -> Scene:
    """The scene shown while another cannot be: the show's `idle`, else its first standalone scene
    (one that draws from t alone, a CPPN), else the bundled CPPN (`bundled` if one is loaded already)."""
    if show.idle is not None:
        return scenes[show.scene_index(show.idle)]
    for scene in scenes:
        if scene.standalone:
            return scene
    return bundled if bundled is not None else bundled_idle_scene(show.seed)
