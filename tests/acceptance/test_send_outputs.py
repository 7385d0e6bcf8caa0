"""Acceptance: `latentstage run --send ...` and a show's `output.send` hand the picture to other programs, received
as OBS or VLC would in processes of their own (tests/picture_receiver.py: PyAV for the stream, cyndilib for NDI).

README promises checked here ("Send the picture to other tools"):
- a UDP stream and an NDI source carry the program picture (the HUD is not in it) at the show's frame rate, and a
  receiver that is killed and started again gets pictures again; the HUD has a line per output;
- a show's virtual camera with no v4l2loopback device is a HUD line, the show goes on; `--send vcam` is refused in
  one line (exit 2), as is a protocol PyAV's FFmpeg lacks (srt) and a target that is no output;
- a TCP receiver that never reads holds up nothing: frames are dropped and counted, memory stays flat.

NDI finds sources by mDNS, which needs multicast; loopback here has none, so every process gets an NDI config
naming 127.0.0.1 as a host to ask directly (NDI's "extra IPs", as NDI Access Manager writes them).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from live.cli import main
from tests.acceptance.test_window import START_TIMEOUT, LiveShow, write_show
from tests.conftest import REPO, latentstage, wait_for
from tests.live.output.test_render import solid_folder

COLOUR = (200, 60, 30)  # the show's one flat picture


@pytest.fixture
def ndi_env(tmp_path) -> dict[str, str]:
    folder = tmp_path / "ndi"
    folder.mkdir()
    (folder / "ndi-config.v1.json").write_text(json.dumps({"ndi": {"networks": {"ips": "127.0.0.1"}}}))
    return {"NDI_CONFIG_DIR": str(folder)}


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Receiver:
    """tests/picture_receiver.py in its own process; its pictures read from the file it writes."""

    def __init__(self, folder: Path, name: str, *args: str, env: dict[str, str] | None = None):
        self.path = folder / f"{name}.jsonl"
        with open(self.path, "w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "tests.picture_receiver", *args],
                                            cwd=REPO, stdout=out, stderr=subprocess.DEVNULL,
                                            env={**os.environ, **(env or {})})

    def pictures(self) -> list[dict]:
        lines = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
        return [line for line in lines if "at" in line]

    def wait_for_pictures(self, count: int, run: LiveShow) -> list[dict]:
        if not wait_for(lambda: len(self.pictures()) >= count or run.process.poll() is not None, START_TIMEOUT):
            pytest.fail(f"{self.path.name}: {len(self.pictures())} pictures, {count} expected; HUD:\n{run.hud()}")
        assert run.process.poll() is None, run.errors()
        return self.pictures()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


def rate(pictures: list[dict]) -> float:
    """Pictures a second as they arrived, leaving out the first ten (a decoder finding its feet)."""
    steady = pictures[10:]
    return (len(steady) - 1) / (steady[-1]["at"] - steady[0]["at"])


def check_program_picture(pictures: list[dict], size: tuple[int, int]) -> None:
    """The show's flat picture, whole: no HUD over it (the run has --hud on), at the window's size."""
    for picture in pictures[-5:]:
        assert (picture["width"], picture["height"]) == size, picture
        assert all(abs(got - want) <= 6 for got, want in zip(picture["mean"], COLOUR)), picture
        assert picture["spread"] <= 12, picture  # the HUD's text and backing would spread it over 100 levels


def test_stream_and_ndi_carry_the_picture_through_receivers_killed_and_restarted(tmp_path, xvfb_display, ndi_env):
    solid_folder(tmp_path / "flat", COLOUR, size=(160, 90))
    show = write_show(tmp_path, [{"name": "flat", "kind": "pipeline", "source": {"kind": "images", "folder": "flat"}}],
                      output={"width": 160, "height": 90, "fps": 30, "send": [{"vcam": True}]})
    port = free_port()
    stream, ndi = f"udp://127.0.0.1:{port}", "latentstage-test"
    receivers = [Receiver(tmp_path, "udp-1", "stream", stream), Receiver(tmp_path, "ndi-1", "ndi", ndi, env=ndi_env)]
    try:
        with LiveShow(show, "--hud", "--send", stream, "--send", f"ndi:{ndi}",
                      env={"DISPLAY": xvfb_display, **ndi_env}) as run:
            hud = run.wait_for_hud(lambda hud: f"NDI {ndi}: 1 receiver," in hud, START_TIMEOUT)
            assert f"{stream}: sending," in hud
            # the show's own vcam: no v4l2loopback here, said on the HUD while everything else goes on
            assert "vcam: not sending: no virtual camera here: 'v4l2loopback' backend: No v4l2 loopback device found at " \
                "/dev/video[0-99], " in hud, hud
            for receiver in receivers:
                check_program_picture(receiver.wait_for_pictures(60, run), (160, 90))
            shown_fps = float(run.hud().split(" fps")[0])
            for receiver in receivers:  # every picture shown reaches each receiver
                assert rate(receiver.pictures()) >= 0.8 * shown_fps, (receiver.path.name, shown_fps)
                receiver.kill()
            run.wait_for_hud(lambda hud: f"NDI {ndi}: 0 receivers," in hud)
            receivers = [Receiver(tmp_path, "udp-2", "stream", stream),
                         Receiver(tmp_path, "ndi-2", "ndi", ndi, env=ndi_env)]
            for receiver in receivers:
                check_program_picture(receiver.wait_for_pictures(30, run), (160, 90))
            assert run.stop() == 0, run.errors()
    finally:
        for receiver in receivers:
            receiver.kill()
    outputs = run.stats()["outputs"]
    presented = run.stats()["presented"]
    for label in (stream, f"NDI {ndi}"):
        figures = outputs[label]
        assert figures["errors"] == 0 and figures["sent"] > 90, (label, figures)
        assert figures["sent"] + figures["dropped"] <= presented <= figures["sent"] + figures["dropped"] + 1
    assert outputs["vcam"]["sent"] == 0 and outputs["vcam"]["errors"] >= 1, outputs["vcam"]
    assert f"sent {outputs[stream]['sent']} frames to {stream}" in run.stdout


def test_outputs_that_cannot_work_here_are_refused_in_one_line(tmp_path, capsys):
    """Refused before anything opens: the installed command for the virtual camera, the rest in this process."""
    show = write_show(tmp_path, [{"name": "drift", "kind": "cppn", "model": str(REPO / "models" / "cppn-tanh.onnx")}])
    result = latentstage("run", str(show), "--headless", "--seconds", "1", "--send", "vcam")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.strip().splitlines() == [
        "latentstage: vcam: no virtual camera here: 'v4l2loopback' backend: No v4l2 loopback device found at "
        "/dev/video[0-99] (Linux: sudo modprobe v4l2loopback exclusive_caps=1)"]
    for target, reason in [
        ("srt://127.0.0.1:9000", "srt://127.0.0.1:9000: this FFmpeg (PyAV "),  # the wheels have no libsrt
        ("rtsp://127.0.0.1:554/x", "--send rtsp://127.0.0.1:554/x: 'rtsp://127.0.0.1:554/x': a stream goes to udp://"),
        ("udp://127.0.0.1", "--send udp://127.0.0.1: 'udp://127.0.0.1': give the receiver's host and port"),
        ("nowhere", "--send nowhere: 'nowhere': send to udp://HOST:PORT"),
    ]:
        assert main(["run", str(show), "--headless", "--seconds", "1", "--send", target]) == 2, target
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"latentstage: {reason}"), (target, lines)


def resident_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def test_a_tcp_receiver_that_never_reads_costs_dropped_frames_not_memory(tmp_path):
    """A peer that accepts and never reads: the encoder's writes block, the sender holds one frame and the
    show drops the rest, counted; resident memory stays flat while a hundred 1280x720 frames (2.7 MB each)
    go by, where a queue would grow by 270 MB."""
    port = free_port(socket.SOCK_STREAM)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # accepted connections inherit it
    server.bind(("127.0.0.1", port))
    server.listen(8)
    accepted: list[socket.socket] = []
    server.settimeout(0.5)

    def accept_and_never_read() -> None:
        while server.fileno() >= 0:
            try:
                accepted.append(server.accept()[0])
            except OSError:  # a timeout, or the server closed
                continue

    threading.Thread(target=accept_and_never_read, daemon=True).start()
    show = write_show(tmp_path, [{"name": "drift", "kind": "cppn", "model": str(REPO / "models" / "cppn-tanh.onnx"),
                                  "cppn": {"seed": 3, "scale": 9.0}}],
                      output={"width": 1280, "height": 720, "fps": 30, "render_scale": 0.25})
    # small socket buffers on both sides (FFmpeg's URL option here), so the peer holds up the writes at once
    target = f"tcp://127.0.0.1:{port}?send_buffer_size=8192"

    def dropped(hud: str) -> int:
        line = next((line for line in hud.splitlines() if line.startswith(target)), "")
        return int(line.split(", ")[-1].split()[0]) if line else -1

    try:
        with LiveShow(show, "--headless", "--send", target) as run:
            hud = run.wait_for_hud(lambda hud: dropped(hud) >= 30, START_TIMEOUT)
            before, dropped_before = resident_mb(run.process.pid), dropped(hud)
            hud = run.wait_for_hud(lambda hud: dropped(hud) >= dropped_before + 100, START_TIMEOUT)
            after = resident_mb(run.process.pid)
            assert run.stop() == 0, run.errors()
    finally:
        server.close()
        for connection in accepted:
            connection.close()
    assert after - before < 60, f"resident memory went from {before:.0f} to {after:.0f} MB"
    figures = run.stats()["outputs"][target]
    assert figures["dropped"] >= dropped_before + 100 and figures["sent"] + figures["dropped"] >= 130, figures
    assert figures["errors"] >= 1, figures  # writes that blocked past the timeout: the output was opened again
