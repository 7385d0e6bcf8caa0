"""Shared fixtures: a real Xvfb display, the repository's paths, and a way to run the CLI."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO_SHOW = REPO / "shows" / "demo.yaml"


@pytest.fixture(scope="session")
def xvfb_display():
    """A real X server for pyglet windows; the DISPLAY name to give subprocesses."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed: run `bash .ci/setup` (apt package xvfb)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        number = reader.readline().strip()  # Xvfb writes the display number once it is ready
    if not number:
        server.kill()
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def wait_for(condition, timeout: float = 3.0, poll: float = 0.02) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return condition()


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`latentstage ARGS` in a fresh process (pyglet's headless switch is per process)."""
    return subprocess.run([sys.executable, "-m", "live", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env={**os.environ, **(env or {})})


def write_test_video(path: Path, frames: int, fps: float = 30.0, size: tuple[int, int] = (96, 64)) -> Path:
    """A real H.264 file: a bright square moving over a dark, slowly changing background."""
    import numpy as np

    from live.output.record import VideoWriter

    width, height = size
    with VideoWriter(path, width, height, fps) as writer:
        for index in range(frames):
            picture = np.full((height, width, 3), (40 + index % 50, 20, 60), np.uint8)
            x = (index * 3) % (width - 16)
            picture[24:40, x:x + 16] = (250, 230, 40)
            writer.write(picture)
    return path


@pytest.fixture(scope="session")
def tiny_pix2pix(tmp_path_factory) -> Path:
    """A small untrained pix2pix generator (edges in, RGB out), exported with the model contract."""
    from exporters.onnx import export
    from trainers.pix2pix.model import Pix2PixConfig, Pix2PixGenerator

    path = tmp_path_factory.mktemp("models") / "pix2pix-tiny.onnx"
    export(Pix2PixGenerator(Pix2PixConfig(in_channels=1, base_channels=8, depth=3)).eval(), path)
    return path
