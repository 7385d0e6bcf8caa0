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


@pytest.fixture(scope="session", autouse=True)
def resume_states_kept_in_the_session(tmp_path_factory):
    """Every live run keeps a resume state under $XDG_STATE_HOME: the tests' runs keep theirs in a folder
    of the session, not the home of whoever runs the suite (a test that reads them sets its own)."""
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))


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
def jack_session(tmp_path_factory):
    """A private JACK server on the dummy backend (`jackd -d dummy`, Debian jackd2): real MIDI ports
    with no sound card, one for the session. Yields the variables that name it; tests take it through
    `jack_server`."""
    if shutil.which("jackd") is None:
        pytest.fail("jackd is not installed: run `bash .ci/setup` (apt package jackd2)")
    # JACK keeps 8 server slots per machine in shared memory, and a server that dies uncleanly holds
    # its slot until a server of the same name starts: a few fixed names, the first one free, so test
    # sessions never use them all up, and two sessions at once (another checkout's) never share one.
    server, env = start_jack_server([f"latentstage-test-{slot}" for slot in range(4)],
                                    tmp_path_factory.mktemp("jack") / "jackd.log")
    yield {key: env[key] for key in JACK_ENV}
    server.terminate()  # a clean exit gives its slot back
    server.wait(timeout=10)


JACK_ENV = ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER", "JACK_NO_AUDIO_RESERVATION", "LATENTSTAGE_MIDI_API")


def start_jack_server(names, log_path: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """`jackd -d dummy` under the first of `names` whose slot is free; (the server, the env that names it).
    Stop it with terminate(): a clean exit gives its slot back."""
    for name in names:
        env = {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1",
               "JACK_NO_AUDIO_RESERVATION": "1", "LATENTSTAGE_MIDI_API": "jack"}
        with open(log_path, "w") as log_file:
            # 2048 frames: a 43 ms cycle, so that on a busy machine a client late to its cycle (an xrun,
            # whose MIDI is lost) is rare; the tests wait for effects, never for the cycle
            server = subprocess.Popen(["jackd", "--no-realtime", "-n", name, "-d", "dummy", "-r", "48000", "-p",
                                       "2048"], env=env, stdout=log_file, stderr=subprocess.STDOUT)
        if wait_for(lambda: server.poll() is not None or _jack_answers(env), 20.0, 0.2) and server.poll() is None:
            return server, env
    server.kill()
    server.wait()
    pytest.fail(f"jackd did not start (exit code {server.returncode}):\n{log_path.read_text()[-3000:]}")


@pytest.fixture
def jack_server(jack_session, monkeypatch):
    """The session's JACK server, named in this test's environment (JACK_DEFAULT_SERVER,
    LATENTSTAGE_MIDI_API=jack) so that this process and every one the test starts (the show, a player)
    meet there, even on a machine with an ALSA sequencer. For this test only: a show another test starts
    must not find JACK (PortAudio would take its dummy ports for a sound card). Yields the env."""
    for key, value in jack_session.items():
        monkeypatch.setenv(key, value)
    return dict(os.environ)


def _jack_answers(env: dict[str, str]) -> bool:
    """Whether a JACK client can connect to the server `env` names, asked by a fresh process so that
    this one's environment names the server only once it is up."""
    probe = "import rtmidi; rtmidi.MidiIn(rtmidi.API_UNIX_JACK, 'probe').get_ports()"
    return subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True).returncode == 0


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
