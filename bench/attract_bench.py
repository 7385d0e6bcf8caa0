"""Presence and attract: what reading the room costs per frame, and what an empty room's attract scene saves.

1. `PresenceEstimator.note` on one camera frame at 640x360 and 1280x720 (median ms): the work the live loop
   adds per new camera frame while a show watches the room.
2. `mirror.yaml`'s two scenes rendered as the live loop renders them, its camera stood in for by a clip of an
   empty room (tests/room_clip.py: a photograph and sensor noise, every frame new): the mirror scene (the
   Cezanne style network on each new camera frame) and the attract scene (the drifting CPPN), median ms a
   frame at the show's render size; times the frames a second each is asked for (the camera's rate for the
   mirror, the attract rate for the drift), the milliseconds of rendering a second an empty room costs without
   attract and with it. Per-frame medians, not the process's CPU share, so a busy machine (other runs beside
   it) slows both alike rather than capping what a process can take.

    .venv/bin/python -m bench.attract_bench --markdown out/bench_attract.md
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from bench.measure import median_ms, publish
from live.inputs.presence import PresenceEstimator
from live.scenes.contract import Moment, defaults
from live.show.rehearsal import with_camera_stand_in
from live.show.schema import load_show
from live.show.stage import Stage
from tests.room_clip import camera_frame, room, write_room_clip

REPO = Path(__file__).resolve().parent.parent


def estimator_ms(width: int, height: int, runs: int = 200) -> float:
    rng = np.random.default_rng(0)
    frames = [camera_frame(room((width, height)), rng) for _ in range(2)]
    estimator, clock = PresenceEstimator(), iter(range(10 ** 9))
    return median_ms(lambda: estimator.note(frames[next(clock) % 2], next(clock) / 30.0), runs)


def scene_ms(scene, width: int, height: int, fps: float, runs: int) -> float:
    """Median ms of rendering `scene` at successive frame times of `fps` (a new input frame each, as live)."""
    ticks = iter(range(10 ** 9))
    values = defaults(scene.parameters)
    return median_ms(lambda: scene.render(Moment(next(ticks) / fps, values), width, height), runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="frames timed per scene")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    lines = ["| what | figure |", "| --- | --- |", f"| load average at the start | {os.getloadavg()[0]:.1f} |"]
    for width, height in ((640, 360), (1280, 720)):
        lines.append(f"| presence per camera frame, {width}x{height} | {estimator_ms(width, height):.2f} ms |")
    with tempfile.TemporaryDirectory() as folder:
        show = load_show(REPO / "shows" / "mirror.yaml")
        camera = show.scenes[show.scene_index("mirror")].source
        clip = write_room_clip(Path(folder) / "empty-room.mp4", walk=0.0, still=10.0, fps=camera.fps,
                               size=(camera.width, camera.height), empty_first=0.0)
        show = with_camera_stand_in(show, clip)
        stage = Stage.build(show, rehearsal=True)
        width, height = show.output.render_size
        attract_fps = show.attract.fps or show.output.fps / 3.0
        mirror, drift = (stage.scenes[show.scene_index(name)] for name in ("mirror", show.attract.scene))
        awake = scene_ms(mirror, width, height, camera.fps, args.runs)
        asleep = scene_ms(drift, width, height, attract_fps, args.runs)
    lines += [f"| mirror.yaml's mirror scene (style network), a new {camera.width}x{camera.height} camera frame "
              f"shown at {width}x{height} | {awake:.1f} ms |",
              f"| mirror.yaml's attract scene (drift, CPPN), a frame at {width}x{height} | {asleep:.1f} ms |",
              f"| an empty room without attract: the mirror at the camera's {camera.fps:g} fps | "
              f"{awake * camera.fps:.0f} ms of rendering a second |",
              f"| an empty room with attract: the drift at {attract_fps:g} fps | {asleep * attract_fps:.0f} ms of rendering a second |"]
    publish("\n".join(lines) + "\n", args.markdown)


if __name__ == "__main__":
    main()
