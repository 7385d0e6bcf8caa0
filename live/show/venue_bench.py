"""The venue bench: how fast this machine makes each scene and each crossfade of a show, before the doors open.

`check SHOW --bench` builds the stage as a run does (the show's providers and
sizes, each scene's model warmed up) but on the rehearsal clock, so every
scene reads its own sources at t (a camera is stood in for by the bundled
clip) and its filter chain and model run as they will live. Each scene, then
each pair of scenes a cue crossfades (both rendered per frame), is stepped at
the show's frame rate for a fraction of a second. Steps that made a new picture
(a CPPN's every frame; a pipeline's when its source moved on) give the work's
p50/p99 milliseconds and the new pictures a second the machine can make; the
steps at the show's rate give how many it needs (the show's fps, or its
source's rate if that is lower). A scene whose rate falls short of what it
needs by more than TOLERANCE cannot hold its rate; `run --stats-json`'s
`new_pictures_fps` of that scene is what `expected_fps` predicts.

Frames a pipeline decodes are timed with its work (a live run decodes on the
source's thread, on the same CPU). A CPPN that the GL renderer would draw with
its shader is timed on its ONNX engine: the bench opens no window.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass

import numpy as np

from live.scenes.contract import Scene
from live.show.run_stats import resident_mb
from live.show.schema import Show
from live.show.stage import Stage, still

SCENE_SECONDS = 0.6  # wall seconds each scene or crossfade is stepped for (longer if it has made too few pictures)
MIN_PICTURES = 6  # new pictures timed at least, unless LONGEST passes first
LONGEST = 6.0  # wall seconds one scene or crossfade is stepped at most (a frame of a show far too heavy)
SAID = 3  # shortfalls the verdict line names, the worst first (the table above has them all)
HEADROOM = 0.25  # fraction over the needed rate below which a scene that holds is called tight: a live run's
# own threads (display, decoding) take a share of the same CPU the bench had to itself (BENCHMARKS.md)
TOLERANCE = 0.1  # fraction of the needed rate a scene may fall short by and still hold it (timing noise)


@dataclass(frozen=True)
class Timing:
    """One scene, or one crossfade (two scenes rendered per frame), as this machine runs it."""

    name: str  # "drift", or "drift > bloom" for a crossfade
    cues: tuple[int, ...]  # numbers (from 1, firing order) of the cues that show it
    p50_ms: float  # per new picture
    p99_ms: float
    makes_fps: float  # new pictures a second this machine can make of it (1000 / p50: a short sample's
    # descheduled spikes on a busy machine are in p99, not in the rate it settles at)
    needs_fps: float  # new pictures a second it brings at the show's rate (its source may bring fewer)
    error: str = ""  # why it could not be rendered at all; "" when it could

    @property
    def holds(self) -> bool:
        return not self.error and self.makes_fps >= self.needs_fps * (1.0 - TOLERANCE)

    @property
    def tight(self) -> bool:
        """Holds it in the bench, but with less than HEADROOM to spare."""
        return self.holds and self.makes_fps < self.needs_fps * (1.0 + HEADROOM)

    @property
    def expected_fps(self) -> float:
        """New pictures a second a live run should show of it: what it needs, or what this machine makes."""
        return min(self.makes_fps, self.needs_fps)

    @property
    def short_by(self) -> float:
        """Fraction of the needed rate it misses (0 when it holds it)."""
        return max(0.0, 1.0 - self.makes_fps / self.needs_fps) if self.needs_fps else 0.0

    @property
    def where(self) -> str:
        return f"cue {', '.join(map(str, self.cues))}" if self.cues else "no cue"

    def line(self) -> str:
        where = self.where
        if self.error:
            return f"{self.name} ({where}): cannot render: {self.error}"
        verdict = f"TOO SLOW, {self.short_by:.0%} short" if not self.holds else \
            f"ok but tight (under {HEADROOM:.0%} to spare: a live run's display and decoding share this CPU)" \
            if self.tight else "ok"
        return (f"{self.name} ({where}): p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, "
                f"{self.makes_fps:.1f} new pictures/s of {self.needs_fps:.1f} needed: {verdict}")


@dataclass(frozen=True)
class BenchReport:
    show: str
    providers: list[str]
    render_size: tuple[int, int]
    fps: float  # the show's
    scenes: list[Timing]
    crossfades: list[Timing]
    resident_mb: float  # this process's memory once every scene has run
    gpu_mb: float | None  # GPU memory this process holds; None where no GPU runs
    seconds: float  # the bench's wall time, models loaded and warmed up included

    @property
    def failing(self) -> list[Timing]:
        return [timing for timing in [*self.scenes, *self.crossfades] if not timing.holds]

    @property
    def holds(self) -> bool:
        return not self.failing

    def lines(self) -> list[str]:
        width, height = self.render_size
        lines = [f"bench on {', '.join(self.providers) or 'no model'}: {width}x{height} at the show's "
                 f"{self.fps:g} fps"]
        lines += [f"  scene {timing.line()}" for timing in self.scenes]
        lines += [f"  crossfade {timing.line()}" for timing in self.crossfades]
        gpu = f", GPU {self.gpu_mb:.0f} MB" if self.gpu_mb is not None else ""
        lines.append(f"  memory: {self.resident_mb:.0f} MB resident{gpu}; bench took {self.seconds:.1f} s")
        return lines

    def verdict(self) -> str:
        if self.holds:
            return f"{self.show}: every scene and crossfade holds {self.fps:g} fps here"
        failing = sorted(self.failing, key=lambda timing: (not timing.error, -timing.short_by))
        more = f" (and {len(failing) - SAID} more above)" if len(failing) > SAID else ""
        worst = "; ".join(_shortfall(timing) for timing in failing[:SAID])
        return f"{self.show}: cannot hold its rate here: {worst}{more}"

    def as_json(self) -> dict:
        def timing(t: Timing) -> dict:
            return {**asdict(t), "holds": t.holds, "tight": t.tight, "expected_fps": round(t.expected_fps, 2),
                    "short_by": round(t.short_by, 3)}
        return {"show": self.show, "providers": self.providers, "render_size": list(self.render_size),
                "fps": self.fps, "scenes": [timing(t) for t in self.scenes],
                "crossfades": [timing(t) for t in self.crossfades], "resident_mb": round(self.resident_mb, 1),
                "gpu_mb": self.gpu_mb, "seconds": round(self.seconds, 2), "holds": self.holds}


def _shortfall(timing: Timing) -> str:
    where = timing.where
    if timing.error:
        return f"{where} ({timing.name}) cannot render: {timing.error}"
    return (f"{where} ({timing.name}) makes {timing.makes_fps:.1f} new pictures/s of the {timing.needs_fps:.1f} "
            f"it needs, {timing.short_by:.0%} short")


def bench_show(show: Show) -> BenchReport:
    """Every scene and every crossfade of `show` timed on this machine, on the providers it will run on."""
    started = time.perf_counter()
    stage = Stage.build(show, rehearsal=True)
    fps = show.output.fps
    names = [scene.name for scene in stage.scenes]
    shows, fades = cue_plan(show)
    scenes = []
    for index, scene in enumerate(stage.scenes):
        scenes.append(_timed(scene.name, shows.get(index, ()), [scene], stage, fps))
    crossfades = []
    for (before, after), cues in fades.items():
        name = f"{names[before]} > {names[after]}"
        crossfades.append(_timed(name, cues, [stage.scenes[before], stage.scenes[after]], stage, fps))
    report = BenchReport(str(show.source), stage.providers, stage.size, fps, scenes, crossfades, resident_mb(),
                         gpu_mb(stage.providers), time.perf_counter() - started)
    stage.stop()
    return report


def cue_plan(show: Show) -> tuple[dict[int, tuple[int, ...]], dict[tuple[int, int], tuple[int, ...]]]:
    """(scene index -> numbers of the cues that show it, (scene before, scene after) -> numbers of the cues
    that crossfade between them), cues numbered from 1 in firing order. A show starts on its first scene."""
    shows: dict[int, tuple[int, ...]] = {}
    fades: dict[tuple[int, int], tuple[int, ...]] = {}
    on_screen = 0
    for number, cue in enumerate(show.timeline, start=1):
        scene = show.scene_index(cue.scene)
        shows[scene] = (*shows.get(scene, ()), number)
        if cue.fade > 0 and scene != on_screen:
            fades[(on_screen, scene)] = (*fades.get((on_screen, scene), ()), number)
        on_screen = scene
    return shows, fades


def _timed(name: str, cues: tuple[int, ...], scenes: list[Scene], stage: Stage, fps: float) -> Timing:
    """Step `scenes` together at the show's rate until enough new pictures are timed."""
    width, height = stage.size
    period = 1.0 / fps
    work: list[float] = []  # seconds per step that made a new picture
    steps = 0
    last_capture: list[float | None] = [None] * len(scenes)
    began = time.perf_counter()
    try:
        for scene in scenes:  # a first frame, untimed: a source opens its file, a decoder its stream
            scene.render(still(scene, 0.0), width, height)
        last_capture = [scene.captured_at for scene in scenes]
        while True:
            steps += 1
            t = steps * period
            step_started = time.perf_counter()
            for scene in scenes:
                scene.render(still(scene, t), width, height)
            took = time.perf_counter() - step_started
            captures = [scene.captured_at for scene in scenes]
            # a scene with no input (captured_at None) makes a new picture each frame; one with an input
            # when its source brought a new frame
            if any(capture is None or capture != last for capture, last in zip(captures, last_capture)):
                work.append(took)
            last_capture = captures
            elapsed = time.perf_counter() - began
            if (elapsed >= SCENE_SECONDS and len(work) >= MIN_PICTURES) or (elapsed >= LONGEST and work):
                break
    except Exception as error:  # a scene that cannot render in the bench will not render live either
        return Timing(name, cues, 0.0, 0.0, 0.0, fps, f"{type(error).__name__}: {' '.join(str(error).split())}")
    seconds = np.asarray(work)
    needs = min(fps, len(work) / (steps * period))  # new pictures per second of show time
    p50 = float(np.percentile(seconds, 50))
    return Timing(name, cues, round(p50 * 1000, 2), round(float(np.percentile(seconds, 99)) * 1000, 2),
                  round(1.0 / p50, 2), round(needs, 2))


def gpu_mb(providers: list[str]) -> float | None:
    """GPU memory this process holds (MB, from nvidia-smi); None where no GPU provider runs or it cannot say."""
    if not any(provider in ("CUDAExecutionProvider", "TensorrtExecutionProvider") for provider in providers):
        return None
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        listing = subprocess.run([smi, "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    used = [float(memory) for pid, memory in (line.split(",") for line in listing.splitlines() if "," in line)
            if pid.strip() == str(os.getpid())]
    return sum(used) if used else None
