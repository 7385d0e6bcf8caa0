"""Recovery times of a running show: a camera that vanishes and returns, the sound input that does, a model file replaced.

Each case runs the installed command (`latentstage run --headless`, HUD text in
--status-file) and breaks one input while it runs, several times in a row:

- camera: the camera's device is a video file standing in for one; it is moved
  away (the camera ends and cannot be reopened: an unplugged USB camera) and,
  after --outage seconds, put back. Recovery: from the moment it is back to the
  HUD showing the camera healthy and its scene on screen again (fresh frames).
- audio: the live input reads a PulseAudio null sink's monitor through a private
  pulseaudio daemon; the sink's module is unloaded (the interface unplugged)
  and, after --outage seconds, loaded again. Recovery: from the load to the HUD
  saying "audio ok".
- model: the scene's model file is overwritten with garbage (refused, the show
  runs on), then with another CPPN. Recovery: from the good copy to the HUD
  counting the reload (loaded, warmed and swapped in).

The HUD file is rewritten every 0.25 s, so each time is known to about that.
Run it as `.venv/bin/python -m bench.recovery_bench --repeats 5 --markdown out/recovery.md`.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import yaml

from bench.measure import publish
from live.output.video import VideoWriter

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 120.0  # seconds for a show to start, or a condition to come, on a busy machine
SINK = ["module-null-sink", "sink_name=bench_sink", "rate=48000"]


def camera_clip(path: Path, seconds: float = 1.0, fps: float = 30.0) -> Path:
    """A short clip of a moving square at 160x90: the stand-in ends (and reopens) every `seconds`."""
    with VideoWriter(path, 160, 90, fps) as writer:
        for index in range(round(seconds * fps)):
            picture = np.full((90, 160, 3), 40, np.uint8)
            picture[30:60, (index * 4) % 130:(index * 4) % 130 + 30] = (250, 230, 40)
            writer.write(picture)
    return path


def write_show(folder: Path, scene: dict, **fields) -> Path:
    show = {"name": "recovery", "output": {"width": 160, "height": 90, "fps": 30}, "window": {"width": 160, "height": 90},
            "hold": 0.5, "osc": {"port": 0}, "scenes": [scene], **fields}
    path = folder / "show.yaml"
    path.write_text(yaml.safe_dump(show, sort_keys=False))
    return path


class Show:
    """The installed command running a show, read through its HUD file."""

    def __init__(self, show: Path, env: dict[str, str] | None = None):
        self.status = show.with_suffix(".status")
        self.errors = open(show.with_suffix(".stderr"), "w")  # noqa: SIM115 (open for the show's life; stop() closes it)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "latentstage"), "run", str(show), "--headless", "--seconds", "3600",
             "--status-file", str(self.status)], env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL, stderr=self.errors)

    def hud(self) -> str:
        try:
            return self.status.read_text()
        except FileNotFoundError:
            return ""

    def wait(self, condition: Callable[[str], bool], timeout: float = START_TIMEOUT) -> float:
        """Poll the HUD until `condition` holds; the monotonic time it was first seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the show stopped (exit {self.process.returncode}); see {self.errors.name}")
            if condition(self.hud()):
                return time.monotonic()
            time.sleep(0.01)
        raise SystemExit(f"timed out; the HUD says:\n{self.hud()}")

    def stop(self) -> int:
        self.process.terminate()
        code = self.process.wait(timeout=60)
        self.errors.close()
        return code


def camera(folder: Path, repeats: int, outage: float) -> list[float]:
    device = camera_clip(folder / "camera.mp4")
    away = folder / "unplugged.mp4"
    show = Show(write_show(folder, {"name": "cam", "kind": "pipeline", "source": {
        "kind": "camera", "device": str(device), "width": 160, "height": 90, "fps": 30}}))
    up = re.compile(r"^sources cam \S+ ok$", re.MULTILINE)
    times = []
    try:
        for _ in range(repeats):
            show.wait(lambda hud: up.search(hud) and "scene cam" in hud)
            device.rename(away)  # unplugged: the clip plays out, then no reopen finds it
            show.wait(lambda hud: "sources cam" in hud and not up.search(hud))
            time.sleep(outage)
            away.rename(device)
            back = time.monotonic()
            times.append(show.wait(lambda hud: up.search(hud) and "scene cam" in hud) - back)
    finally:
        show.stop()
    return times


@contextmanager
def pulse_daemon(folder: Path) -> Iterator[dict[str, str]]:
    """A private pulseaudio with the null sink `bench_sink` as its default source's owner; its env."""
    runtime = folder / "pulse"
    runtime.mkdir()
    env = {**os.environ, "PULSE_RUNTIME_PATH": str(runtime), "XDG_RUNTIME_DIR": str(runtime), "HOME": str(runtime),
           "PULSE_SERVER": f"unix:{runtime / 'native'}"}
    daemon = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=false", "--system=false",
         f"--load={' '.join(SINK)}", f"--load=module-native-protocol-unix auth-anonymous=1 socket={runtime / 'native'}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(["pactl", "info"], env=env, capture_output=True, check=False).returncode != 0:
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise SystemExit("pulseaudio did not start")
            time.sleep(0.05)
        subprocess.run(["pactl", "set-default-source", "bench_sink.monitor"], env=env, check=True)
        yield env
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def audio(folder: Path, repeats: int, outage: float) -> list[float]:
    times = []
    with pulse_daemon(folder) as env:
        show = Show(write_show(folder, {"name": "drift", "kind": "cppn", "model": str(REPO / "models" / "cppn-tanh.onnx")},
                               audio={"kind": "input", "device": "pulse"}), env)
        try:
            for _ in range(repeats):
                show.wait(lambda hud: "audio ok" in hud)
                subprocess.run(["pactl", "unload-module", "module-null-sink"], env=env, check=True)
                show.wait(lambda hud: "audio ok" not in hud)
                time.sleep(outage)
                subprocess.run(["pactl", "load-module", *SINK], env=env, check=True, capture_output=True)
                subprocess.run(["pactl", "set-default-source", "bench_sink.monitor"], env=env, check=True)
                back = time.monotonic()
                times.append(show.wait(lambda hud: "audio ok" in hud) - back)
        finally:
            show.stop()
    return times


def model(folder: Path, repeats: int) -> list[float]:
    path = folder / "model.onnx"
    shutil.copyfile(REPO / "models" / "cppn-tanh.onnx", path)
    show = Show(write_show(folder, {"name": "drift", "kind": "cppn", "model": str(path)}))
    times = []
    try:
        show.wait(lambda hud: "scene drift" in hud)
        for repeat in range(repeats):
            path.write_bytes(b"garbage " * 1000)
            show.wait(lambda hud, n=repeat + 1: f"refused {n}" in hud)
            shutil.copyfile(REPO / "models" / ("cppn-sine.onnx" if repeat % 2 == 0 else "cppn-tanh.onnx"), path)
            back = time.monotonic()
            times.append(show.wait(lambda hud, n=repeat + 1: f"models reloaded {n} " in hud) - back)
        show.wait(lambda hud: "health ok" in hud)
    finally:
        show.stop()
    return times


def row(case: str, what: str, times: list[float]) -> str:
    return f"| {case} | {what} | {len(times)} | {statistics.median(times):.2f} | {max(times):.2f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="outages per case")
    parser.add_argument("--outage", type=float, default=15.0,
                        help="seconds each device stays away (long enough for the retry delay to reach its cap)")
    parser.add_argument("--cases", default="camera,audio,model")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    cases = args.cases.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for case in cases:
            (Path(folder) / case).mkdir()
        if "camera" in cases:
            rows.append(row("camera", f"video-file camera moved away for {args.outage:g} s, then back",
                            camera(Path(folder) / "camera", args.repeats, args.outage)))
        if "audio" in cases:
            if shutil.which("pulseaudio") is None:
                raise SystemExit("pulseaudio is not installed: run `bash .ci/setup`")
            rows.append(row("audio", f"PulseAudio null sink unloaded for {args.outage:g} s, then loaded",
                            audio(Path(folder) / "audio", args.repeats, args.outage)))
        if "model" in cases:
            rows.append(row("model", "model file overwritten with garbage, then with another CPPN",
                            model(Path(folder) / "model", args.repeats)))
    lines = [("Recovery of a running show (`latentstage run --headless`, 160x90 at 30 fps), seconds from the input "
              "coming back to the HUD showing it working"), "",
             "| input | outage | times | median s | worst s |", "| --- | --- | ---: | ---: | ---: |", *rows]
    table = "\n".join(lines)
    publish(table, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
