"""The live run's heads-up display: its text, from the run's figures, the stage, the conductor and what failed.

One health line names the first problem there is (a scene's source, a refused
model, a refused show file, the inference thread, the run's own notes), or
says "ok".
"""
from __future__ import annotations

from live.core.worker import SupervisedWorker
from live.scenes.contract import Scene
from live.show.conductor import Conductor
from live.show.run_stats import Stats
from live.show.show_reload import ShowReloader
from live.show.stage import Stage


class Hud:
    def __init__(self, stage: Stage, conductor: Conductor, stats: Stats, window, inference: SupervisedWorker,
                 reloader: ShowReloader | None = None):
        self.stage = stage
        self.conductor = conductor
        self.stats = stats
        self.window = window
        self.inference = inference
        self.reloader = reloader
        self.banner = ""  # a line said for a while at the top ("resumed at cue 7 after 4.2 s")
        self.banner_until = 0.0  # show time it goes at
        self.rate_keeper = None  # the run's (live.show.rate_keeper), for the ladder line

    def text(self, scene_name: str, shown: Scene | None, dropped: int, notes: list[str], now: float) -> str:
        """The HUD at `now` (show seconds) for the scene on screen (`shown`: None while a reloaded show has
        just dropped it); `notes`: problems of the run itself (the recording paused, the event log stopped)."""
        stats, stage = self.stats, self.stage
        problems = "; ".join(f"{name}: {message}" for name, message in stage.health.items())
        health = problems or stage.model_problems() or self._show_file_problem() or self._inference_health() \
            or "; ".join(filter(None, notes))
        return "\n".join([
            *([self.banner] if self.banner and now < self.banner_until else []),
            f"{stats.fps():5.1f} fps  new pictures {stats.new_pictures_fps(now):5.1f}/s   "
            f"frame p99 {stats.percentile_ms(stats.intervals, 99):5.1f} ms",
            f"latency p50 {stats.percentile_ms(stats.latencies, 50):5.1f} ms  p99 "
            f"{stats.percentile_ms(stats.latencies, 99):5.1f} ms   dropped {dropped}",
            f"inference step p50 {stats.percentile_ms(stats.steps, 50):5.1f} ms",
            f"scene {scene_name}   providers {', '.join(stage.providers) or 'none (no model)'}",
            *filter(None, [stats.flicker.hud_line(scene_name), self._ladder_line(scene_name)]),
            *self.conductor.hud_lines(shown),
            *filter(None, [stage.source_summary(), self._models_line(), self._show_file_line()]),
            self._window_line(),
            f"health {health or 'ok'}",
        ])

    def _ladder_line(self, scene_name: str) -> str:
        """'ladder rung 1 of 3 (render_scale 0.5)  p95 48 ms, target 33 ms  down 1 up 0' for a scene on one."""
        ladder = self.stage.ladders.get(scene_name)
        if ladder is None:
            return ""
        line = f"ladder rung {ladder.position} of {len(ladder.plans) - 1} ({ladder.plan.label})"
        governor = self.rate_keeper.governor if self.rate_keeper is not None else None
        if governor is not None and scene_name in governor.targets:
            p95 = governor.last_p95_ms.get(scene_name)
            line += (f"  p95 {p95:.0f} ms," if p95 is not None else "") + \
                f" target {1000.0 / governor.targets[scene_name]:.0f} ms" + \
                f"  down {governor.steps_down[scene_name]} up {governor.steps_up[scene_name]}"
            if scene_name in governor.forced:
                line += "  (held)"
        return line

    def _inference_health(self) -> str:
        health = self.inference.health()
        return "" if health.healthy else f"inference: {health.message}"

    def _models_line(self) -> str:
        counts = self.stage.model_counts()
        return f"models reloaded {counts['reloaded']} refused {counts['refused']}" if any(counts.values()) else ""

    def _show_file_line(self) -> str:
        return self.reloader.hud_line() if self.reloader is not None else ""

    def _show_file_problem(self) -> str:
        return self.reloader.problem if self.reloader is not None else ""

    def _window_line(self) -> str:
        bus, window = self.conductor.bus, self.window
        width, height = window.get_framebuffer_size()
        switches = {"hud": bus.get("hud"), "mirror": bus.get("mirror"), "fullscreen": window.fullscreen}
        return "   ".join(f"{name} {'on' if state else 'off'}" for name, state in switches.items()) + \
            f"   {width}x{height}"
