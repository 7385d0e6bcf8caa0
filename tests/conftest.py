"""Shared fixtures: a real Xvfb display, a real PulseAudio null sink, the repository's paths, and a way to run the CLI."""
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


def installed_command() -> str:
    """The `latentstage` script pip installed beside this Python, as a user runs it."""
    script = Path(sys.executable).parent / "latentstage"
    if not script.exists():
        pytest.fail(f"{script} is missing: run `bash .ci/setup` (it installs the package)")
    return str(script)


def latentstage(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
                cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run the installed `latentstage` command to the end; its output as text."""
    return subprocess.run([installed_command(), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env={**os.environ, **(env or {})})


def write_test_video(path: Path, frames: int, fps: float = 30.0, size: tuple[int, int] = (96, 64)) -> Path:
    """A real H.264 file: a bright square moving over a dark, slowly changing background."""
    import numpy as np

    from live.output.video import VideoWriter

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


@pytest.fixture(scope="session")
def pulse_sink(tmp_path_factory):
    """A private PulseAudio daemon with a null sink `latentstage_test`; yields the env that reaches it.

    What works here (Debian 12, as root, no D-Bus, no X): `pulseaudio -n` (no default
    script) with `--daemonize=no --exit-idle-time=-1 --use-pid-file=false
    --system=false`, loading module-null-sink and module-native-protocol-unix with
    `auth-anonymous=1` on a socket in a private runtime dir (PULSE_RUNTIME_PATH,
    XDG_RUNTIME_DIR and HOME all point there, so nothing under /root is touched).
    Running as root only prints a warning. Clients find it through PULSE_SERVER,
    which this fixture sets for the whole session: ALSA's pulse plugin
    (libasound2-plugins) reads it when PortAudio opens the "pulse" device, and
    paplay (pulseaudio-utils) reads it too. The null sink's monitor is the default
    source. D-Bus warnings in the log are harmless."""
    for program in ("pulseaudio", "pactl", "paplay"):
        if shutil.which(program) is None:
            pytest.fail(f"{program} is not installed: run `bash .ci/setup` (apt packages pulseaudio, pulseaudio-utils)")
    runtime = tmp_path_factory.mktemp("pulse")
    socket = runtime / "native"
    env = {**os.environ, "PULSE_RUNTIME_PATH": str(runtime), "XDG_RUNTIME_DIR": str(runtime), "HOME": str(runtime),
           "PULSE_SERVER": f"unix:{socket}"}
    log_path = runtime / "pulseaudio.log"
    with open(log_path, "w") as log_file:
        daemon = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=false", "--system=false",
             "--load=module-null-sink sink_name=latentstage_test rate=48000",
             f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}", "--log-target=stderr"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT)

    def answers() -> bool:
        return daemon.poll() is None and subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0

    if not wait_for(answers, 15.0):
        daemon.kill()
        daemon.wait()
        pytest.fail(f"pulseaudio did not start (exit code {daemon.returncode}):\n{log_path.read_text()[-3000:]}")
    subprocess.run(["pactl", "set-default-source", "latentstage_test.monitor"], env=env, check=True)
    previous = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = env["PULSE_SERVER"]
    yield env
    if previous is None:
        del os.environ["PULSE_SERVER"]
    else:
        os.environ["PULSE_SERVER"] = previous
    daemon.terminate()
    try:
        daemon.wait(timeout=10)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()


@pytest.fixture(scope="session")
def tiny_gan(tmp_path_factory) -> Path:
    """An untrained 64x64 GAN generator (z 16, w 16, narrow), exported by the GAN exporter with its card."""
    import torch

    from exporters.gan import export_gan
    from trainers.gan.model import GanConfig, Generator

    torch.manual_seed(0)
    config = GanConfig(resolution=64, z_dim=16, w_dim=16, mapping_layers=2, channel_base=256, channel_max=16)
    path = tmp_path_factory.mktemp("models") / "gan-tiny.onnx"
    export_gan(Generator(config), path, provenance={"command": "tests/conftest.py tiny_gan"})
    return path


@pytest.fixture(scope="session")
def tiny_sr(tmp_path_factory) -> Path:
    """A small untrained 4x super-resolution network (kind sr), exported with its card."""
    import torch

    from exporters.onnx import export
    from trainers.sr.model import SRConfig, SRNetwork

    torch.manual_seed(5)
    path = tmp_path_factory.mktemp("models") / "sr-tiny.onnx"
    export(SRNetwork(SRConfig(width=8, blocks=1)), path)
    return path
