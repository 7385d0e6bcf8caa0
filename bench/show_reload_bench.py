"""Hot reload of the show file: from the save to the change on screen, and what a reload that loads a model costs the picture.

Runs a two-scene CPPN show's live loop headless in this process (as `latentstage
run --headless` does, with the show file watched), while a second thread plays
the designer: at random moments it saves the show file (written whole and
renamed over the old one, as editors save) with one of two edits:

- cue: a timed cue at 0 s now names the other scene, so the other scene is on
  screen; both scenes run already, so no model loads.
- model: the scene on screen names another model file, so the reload loads a new
  ONNX session and warms it at the render size (on the reloader's thread) before
  the swap.

Each save's latency is from just before the file is written to the first frame
drawn with the change (that frame's scene, or its scene's model file, is the
new one); the drawn frame is presented right after. During each model reload
(from the save to a quarter second after its change is drawn), the largest
interval between two drawn frames is compared with the frame period; the
same figure over the quiet stretches between reloads is the baseline.

    .venv/bin/python -m bench.show_reload_bench --saves 20 --markdown out/bench_show_reload.md
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from bench.measure import publish
from live.core.clock import ShowClock
from live.output.render import open_renderer
from live.show.conductor import Conductor
from live.show.live_run import LiveRun
from live.show.schema import load_show
from live.show.show_reload import ShowReloader
from live.show.stage import Stage

REPO = Path(__file__).resolve().parents[1]
MODELS = ("cppn-tanh.onnx", "cppn-sine.onnx")
AFTER = 0.25  # seconds after a change is drawn that still count as its reload
TIMEOUT = 30.0  # seconds a save may take to show before the bench gives up on it


@dataclass
class Save:
    edit: str  # "cue" or "model"
    wanted: str  # the scene name ("cue") or model file name ("model") the change puts on screen
    saved_at: float  # perf_counter seconds, just before the write
    seen_at: float | None = None


@dataclass
class Probe:
    """What the designer's thread waits for, and every frame drawn."""

    pending: Save | None = None
    done: list[Save] = field(default_factory=list)
    drawn: list[float] = field(default_factory=list)  # perf_counter seconds of each drawn frame
    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: threading.Event = field(default_factory=threading.Event)


class MeasuredRun(LiveRun):
    """The live loop, noting each drawn frame and whether it shows the pending save's change."""

    def __init__(self, *args, probe: Probe, **kwargs):
        super().__init__(*args, **kwargs)
        self.probe = probe

    def _draw(self) -> bool:
        drawn = super()._draw()
        now = time.perf_counter()
        if not drawn:
            return drawn
        shown = {"cue": self._scene_name, "model": self._shown.engine.path.name}
        with self.probe.lock:
            self.probe.drawn.append(now)
            save = self.probe.pending
            if save is not None and shown[save.edit] == save.wanted:
                save.seen_at = now
                self.probe.done.append(save)
                self.probe.pending = None
                self.probe.seen.set()
        return drawn


def show_data(size: tuple[int, int], fps: float, on_screen: str, model: str) -> dict:
    scenes = [{"name": "drift", "kind": "cppn", "model": str(REPO / "models" / MODELS[0]), "cppn": {"seed": 1}},
              {"name": "bloom", "kind": "cppn", "model": str(REPO / "models" / model), "cppn": {"seed": 2}}]
    return {"name": "reload bench", "output": {"width": size[0], "height": size[1], "fps": fps},
            "osc": {"port": 0}, "scenes": scenes, "cues": [{"at": 0.0, "scene": on_screen}]}


def save(path: Path, data: dict) -> None:
    """As an editor saves: the whole text into a new file, renamed over the old one."""
    partial = path.with_name(path.name + ".saving")
    partial.write_text(yaml.safe_dump(data, sort_keys=False))
    os.replace(partial, path)


def play_designer(path: Path, probe: Probe, saves: int, size, fps, stop: threading.Event, run: LiveRun) -> None:
    rng = random.Random(3)
    on_screen, model = "drift", MODELS[0]
    try:
        if not stop.wait(2.0):  # the show settles first
            for index in range(saves * 2):
                edit = "cue" if index % 2 == 0 else "model"
                if edit == "cue":
                    on_screen = "bloom" if on_screen == "drift" else "drift"
                    wanted = on_screen
                else:  # the model of the scene on screen
                    if on_screen == "drift":
                        on_screen = "bloom"  # first the cue puts bloom on, with no model to load
                        save(path, show_data(size, fps, on_screen, model))
                        if not _wait_for_scene(run, "bloom", stop):
                            return
                    model = MODELS[1] if model == MODELS[0] else MODELS[0]
                    wanted = model
                probe.seen.clear()
                with probe.lock:
                    probe.pending = Save(edit, wanted, time.perf_counter())
                save(path, show_data(size, fps, on_screen, model))
                if not probe.seen.wait(TIMEOUT) or stop.wait(rng.uniform(0.6, 1.2)):
                    return
    finally:
        run.request_stop()


def _wait_for_scene(run: LiveRun, name: str, stop: threading.Event) -> bool:
    deadline = time.monotonic() + TIMEOUT
    while run._scene_name != name:
        if stop.wait(0.02) or time.monotonic() > deadline:
            return False
    return not stop.wait(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--saves", type=int, default=20, help="saves of each edit")
    parser.add_argument("--size", default="480x270", help="render size WIDTHxHEIGHT")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    size = tuple(int(value) for value in args.size.split("x"))
    folder = Path(tempfile.mkdtemp(prefix="show-reload-bench-"))
    try:
        path = folder / "show.yaml"
        save(path, show_data(size, args.fps, "drift", MODELS[0]))
        show = load_show(path)
        clock = ShowClock()
        stage = Stage.build(show, clock=clock)
        renderer = open_renderer(show.window, stage.size, headless=True, surface_size=stage.output_size)
        stage.attach_renderer(renderer)
        controls = Conductor.build(show, stage.scenes, clock=clock)
        probe = Probe()
        run = MeasuredRun(stage, renderer, controls, clock, ShowReloader(path, stage, clock), probe=probe)
        stop = threading.Event()
        designer = threading.Thread(target=play_designer,
                                    args=(path, probe, args.saves, size, args.fps, stop, run))
        designer.start()
        try:
            run.run()
        finally:
            stop.set()
            designer.join()
            renderer.close()
        counts = run.reloader.counts()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    publish(_table(probe, args.fps, size, counts), args.markdown)
    return 0


def _table(probe: Probe, fps: float, size: tuple[int, int], counts: dict) -> str:
    period = 1000.0 / fps
    drawn = np.array(probe.drawn)
    gaps = np.diff(drawn) * 1000.0  # ms, gaps[i] ends at drawn[i + 1]
    in_reload = np.zeros(len(gaps), bool)
    for item in probe.done:
        in_reload |= (drawn[1:] > item.saved_at) & (drawn[1:] <= item.seen_at + AFTER)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    title = (f"Show file saved to the change drawn, two CPPN scenes at {size[0]}x{size[1]}, {fps:g} fps, headless, "
             f"CPU; {counts['reloaded']} reloads, {counts['refused']} refused; load average at the end {load}")
    header = ("| edit | saves | save to screen p50 ms | p99 ms | max ms | largest frame interval during it ms "
              "| / frame period |")
    lines = [title, "", header, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for edit, what in (("cue", "cue to the other scene (no model loads)"),
                       ("model", "scene on screen gets another model (loads and warms an ONNX session)")):
        items = [item for item in probe.done if item.edit == edit]
        if not items:
            continue
        latencies = np.array([(item.seen_at - item.saved_at) * 1000.0 for item in items])
        during = np.zeros(len(gaps), bool)
        for item in items:
            during |= (drawn[1:] > item.saved_at) & (drawn[1:] <= item.seen_at + AFTER)
        worst = gaps[during].max() if during.any() else float("nan")
        lines.append(f"| {what} | {len(items)} | {np.percentile(latencies, 50):.0f} | {np.percentile(latencies, 99):.0f} "
                     f"| {latencies.max():.0f} | {worst:.1f} | {worst / period:.2f} |")
    quiet = gaps[~in_reload]
    if quiet.size:
        lines.append(f"| none (quiet stretches between reloads) | - | - | - | - | {quiet.max():.1f} "
                     f"| {quiet.max() / period:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
