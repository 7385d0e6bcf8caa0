"""Control latency: from an OSC packet leaving a controller to its effect in a rendered frame.

Runs the demo show's live loop headless (its cues removed) in this process with its OSC server on
a free loopback port, while a second thread plays a controller: at random
moments it sends `/latentstage/mirror` (applied by the renderer at the next
draw) or `/latentstage/scene` with no fade (applied by the director at the next
inference step, then drawn). Each packet's effect is found on the first frame
drawn with it, and the time from sending to that draw is its latency.

    .venv/bin/python -m bench.control_bench --seconds 20 --markdown out/bench_control.md
"""
from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pythonosc.udp_client import SimpleUDPClient

from bench.measure import publish
from live.cli import default_show
from live.core.clock import ShowClock
from live.output.render import open_renderer
from live.show.conductor import Conductor
from live.show.live_run import LiveRun
from live.show.schema import load_show
from live.show.stage import Stage


@dataclass
class Probe:
    kind: str  # "mirror" or "scene"
    wanted: object  # the state the packet asks for
    sent_at: float  # perf_counter seconds
    seen_at: float | None = None


@dataclass
class Probes:
    pending: list[Probe] = field(default_factory=list)
    done: list[Probe] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class MeasuredRun(LiveRun):
    """The live loop, noting after each draw which sent packets the drawn frame shows."""

    def __init__(self, *args, probes: Probes, **kwargs):
        super().__init__(*args, **kwargs)
        self.probes = probes

    def _draw(self) -> None:
        super()._draw()
        now = time.perf_counter()
        names = [scene.name for scene in self.stage.scenes]
        shown = {"mirror": self.renderer.mirror,
                 "scene": names.index(self._scene_name) if self._scene_name in names else None}
        with self.probes.lock:
            for probe in list(self.probes.pending):
                if shown[probe.kind] == probe.wanted:
                    probe.seen_at = now
                    self.probes.pending.remove(probe)
                    self.probes.done.append(probe)


def bound_address(controls: Conductor, stop: threading.Event) -> tuple[str, int]:
    """The OSC server's address once the performance has started it."""
    while not stop.wait(0.05):
        try:
            return controls.osc.address
        except RuntimeError:
            continue
    raise RuntimeError("stopped before the OSC server started")


def play_controller(controls: Conductor, probes: Probes, stop: threading.Event, scenes: int) -> None:
    client = SimpleUDPClient(*bound_address(controls, stop))
    client.send_message("/latentstage/fade", 0.0)
    rng = random.Random(7)
    mirror, scene = False, 0
    while not stop.wait(rng.uniform(0.25, 0.5)):
        with probes.lock:
            if probes.pending:  # one change at a time, so each effect has one cause
                continue
            if rng.random() < 0.5:
                mirror = not mirror
                probes.pending.append(Probe("mirror", mirror, time.perf_counter()))
                client.send_message("/latentstage/mirror", int(mirror))
            else:
                scene = (scene + 1) % scenes
                probes.pending.append(Probe("scene", scene, time.perf_counter()))
                client.send_message("/latentstage/scene", scene)


def measured_run(show, seconds: float, play, *play_args) -> Probes:
    """`show` performed headless for `seconds` while `play(controls, probes, stop, scene_count, *play_args)`
    drives it from a thread of its own, as a performer's controller would; the probes it timed."""
    clock = ShowClock()
    stage = Stage.build(show, clock=clock)
    renderer = open_renderer(show.window, stage.size, headless=True, surface_size=stage.output_size)
    controls = Conductor.build(show, stage.scenes, clock=clock)
    probes = Probes()
    performance = MeasuredRun(stage, renderer, controls, clock, probes=probes)
    stop = threading.Event()
    controller = threading.Thread(target=play, args=(controls, probes, stop, len(show.scenes), *play_args))
    controller.start()
    try:
        performance.run(seconds)
    finally:
        stop.set()
        controller.join()
        renderer.close()
    return probes

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    # no cues: only the controller changes scenes, so each change has one cause
    show = load_show(default_show()).model_copy(update={"cues": []})
    show.osc.port = 0
    probes = measured_run(show, args.seconds, play_controller)
    table = _table(probes.done, show.output.fps)
    publish(table, args.markdown)
    return 0


def _table(done: list[Probe], fps: float) -> str:
    lines = [f"OSC packet to effect in a drawn frame, demo show headless at {fps:g} fps, loopback UDP", "",
             "| parameter | applied by | packets | p50 ms | p99 ms | max ms |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for kind, applier in (("mirror", "renderer, next draw"), ("scene", "director, next inference step")):
        latencies = np.array([(p.seen_at - p.sent_at) * 1000 for p in done if p.kind == kind])
        if latencies.size:
            lines.append(f"| /latentstage/{kind} | {applier} | {latencies.size} | {statistics.median(latencies):.1f} "
                         f"| {np.percentile(latencies, 99):.1f} | {latencies.max():.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
