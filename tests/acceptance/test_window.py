"""Acceptance: `latentstage run` in a real pyglet window under Xvfb, driven by keys sent with xdotool, read
through its HUD text (`--status-file`).

README promises checked here (Commands, Keys, Shows, Control):
- "Keys in a live window: space next scene, 1-9 a scene, `h` HUD, `m` mirror, `f` fullscreen, Esc quit";
- key mappings in a show, `{key: n, to: scene.next}` and on a digit key ("`key` (1 while held)");
- the HUD shows "fps, frame-time p99, capture-to-display latency, dropped frames, scene, providers,
  health", the on-screen scene's parameters, the audio level, and OSC packets "counted (on the HUD)";
- sources report "requested and granted size and fps";
- "When a scene fails (... a model erroring) ... the idle scene shows, with the reason on the HUD".

Every test runs the installed command in its own process and stops it (Esc or SIGTERM) once the
condition it waits for holds; nothing waits a fixed time.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from typing import Self

import numpy as np
import onnx
import pytest
import yaml
from onnx import TensorProto, helper, numpy_helper
from pythonosc.udp_client import SimpleUDPClient

from live.inference.model_card import ModelCard
from tests.conftest import REPO, installed_command, wait_for, write_test_video

START_TIMEOUT = 60.0  # seconds for a fresh process to load its models and show something
CHANGE_TIMEOUT = 30.0  # seconds for a key or a packet to show on the HUD


# --- shows ------------------------------------------------------------------------------------------------

def cppn_scene(name: str, model: str = "cppn-tanh.onnx", seed: int = 1, scale: float = 6.0) -> dict:
    return {"name": name, "kind": "cppn", "model": str(REPO / "models" / model), "cppn": {"seed": seed, "scale": scale}}


def write_show(folder: Path, scenes: list[dict], **fields) -> Path:
    """A small show (160x90 at 30 fps, OSC on a free port) written into `folder`."""
    show = {"name": "acceptance", "output": {"width": 160, "height": 90, "fps": 30},
            "window": {"width": 160, "height": 90}, "osc": {"port": 0}, "scenes": scenes, **fields}
    path = folder / "show.yaml"
    path.write_text(yaml.safe_dump(show, sort_keys=False))
    return path


# --- a running show ---------------------------------------------------------------------------------------

class LiveShow:
    """`latentstage run SHOW` in its own process (the installed command), watched through the HUD text it
    keeps in --status-file; stderr goes to a file, so a chatty run can never block on a full pipe."""

    def __init__(self, show: Path, *options: str, env: dict[str, str] | None = None):
        folder = show.parent
        self.status_path = folder / "status.txt"
        self.stats_path = folder / "stats.json"
        self.stderr_path = folder / "stderr.txt"
        with open(self.stderr_path, "w") as errors:
            self.process = subprocess.Popen(
                [installed_command(), "run", str(show), "--seconds", "600", "--status-file", str(self.status_path),
                 "--stats-json", str(self.stats_path), *options],
                cwd=folder, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=errors, text=True)
        self.stdout = ""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=60)

    def hud(self) -> str:
        try:
            return self.status_path.read_text()
        except FileNotFoundError:
            return ""

    def errors(self) -> str:
        return self.stderr_path.read_text()[-3000:]

    def wait_for_hud(self, condition, timeout: float = CHANGE_TIMEOUT) -> str:
        """The HUD text once `condition(text)` holds; fails with the last text and stderr if it never does."""
        seen = [""]

        def holds() -> bool:
            seen[0] = self.hud()
            if self.process.poll() is not None:
                raise AssertionError(f"the show ended (exit code {self.process.returncode}):\n{self.errors()}")
            return bool(seen[0]) and bool(condition(seen[0]))

        if not wait_for(holds, timeout, 0.05):
            pytest.fail(f"the HUD never showed what was expected; last:\n{seen[0]}\nstderr:\n{self.errors()}")
        return seen[0]

    def wait_for_exit(self, timeout: float = 60.0) -> int:
        self.stdout, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode

    def stop(self) -> int:
        """SIGTERM, as a supervisor stops a show: it ends like Esc, with exit code 0 and its figures written."""
        self.process.send_signal(signal.SIGTERM)
        return self.wait_for_exit()

    def stats(self) -> dict:
        return json.loads(self.stats_path.read_text())


def scene_on_screen(hud: str) -> str | None:
    found = re.search(r"^scene (\S+)", hud, re.MULTILINE)
    return found.group(1) if found else None


def window_line(hud: str) -> str:
    found = re.search(r"^hud \w+ .*$", hud, re.MULTILINE)
    return found.group(0) if found else ""


# --- the window, through xdotool ---------------------------------------------------------------------------

def xdotool(display: str, *args: str) -> subprocess.CompletedProcess:
    if shutil.which("xdotool") is None:
        pytest.fail("xdotool is not installed: run `bash .ci/setup` (apt package xdotool)")
    return subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True,
                          text=True, timeout=30, check=False)


def show_window(display: str, name: str = "^latentstage$") -> str:
    """The id of the show's window (or another, by its `name` pattern: "^latentstage operator$"). Looked
    up afresh for every key: `f` makes pyglet recreate the window, under a new id. The exact name skips
    pyglet's hidden helper window, named after the script."""
    found: list[str] = []

    def one_window() -> bool:
        found[:] = xdotool(display, "search", "--onlyvisible", "--name", name).stdout.split()
        return len(found) == 1

    assert wait_for(one_window, START_TIMEOUT, 0.1), f"no single visible {name} window: {found}"
    return found[0]


def press(display: str, key: str, action: str = "key") -> None:
    """A key stroke (press and release at once, as a quick tap), or `keydown` / `keyup` alone."""
    result = xdotool(display, action, "--window", show_window(display), key)
    assert result.returncode == 0, result.stderr


# --- keys ---------------------------------------------------------------------------------------------------

def test_space_moves_to_the_next_scene_and_digit_keys_pick_a_scene(tmp_path, xvfb_display):
    show = write_show(tmp_path, [cppn_scene("drift"), cppn_scene("bloom", "cppn-sine.onnx", 2, 4.0),
                                 cppn_scene("third", seed=3, scale=3.0)])
    with LiveShow(show, env={"DISPLAY": xvfb_display}) as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift", START_TIMEOUT)
        press(xvfb_display, "space")
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "bloom")
        press(xvfb_display, "1")  # back to the scene that was on screen before space: this once did nothing
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift")
        press(xvfb_display, "3")
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "third")
        press(xvfb_display, "2")
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "bloom")
        press(xvfb_display, "space")
        press(xvfb_display, "space")  # past the last scene: round to the first
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift")
        assert run.stop() == 0, run.errors()


def test_h_m_and_f_toggle_hud_mirror_and_fullscreen_and_esc_quits(tmp_path, xvfb_display):
    show = write_show(tmp_path, [cppn_scene("drift")])
    with LiveShow(show, env={"DISPLAY": xvfb_display}) as run:
        hud = run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift", START_TIMEOUT)
        assert window_line(hud).split() == ["hud", "off", "mirror", "off", "fullscreen", "off", "160x90"]
        press(xvfb_display, "h")
        run.wait_for_hud(lambda hud: "hud on" in window_line(hud))
        press(xvfb_display, "h")
        run.wait_for_hud(lambda hud: "hud off" in window_line(hud))
        press(xvfb_display, "m")
        run.wait_for_hud(lambda hud: "mirror on" in window_line(hud))
        press(xvfb_display, "m")
        run.wait_for_hud(lambda hud: "mirror off" in window_line(hud))
        press(xvfb_display, "f")
        hud = run.wait_for_hud(lambda hud: "fullscreen on" in window_line(hud))
        assert window_line(hud).endswith("1024x768"), hud  # the whole Xvfb screen
        press(xvfb_display, "f")  # and back: the second press once went nowhere
        hud = run.wait_for_hud(lambda hud: "fullscreen off" in window_line(hud))
        assert window_line(hud).endswith("160x90"), hud
        press(xvfb_display, "Escape")
        assert run.wait_for_exit() == 0, run.errors()
    assert "presented" in run.stdout and run.stats()["new_frames"] > 0


def test_a_key_mapping_in_the_show_moves_to_the_next_scene(tmp_path, xvfb_display):
    """`{key: n, to: scene.next}` fires on a quick tap: press and release reach the window together."""
    show = write_show(tmp_path, [cppn_scene("drift"), cppn_scene("bloom", "cppn-sine.onnx", 2, 4.0)],
                      mappings=[{"key": "n", "to": "scene.next"}])
    with LiveShow(show, env={"DISPLAY": xvfb_display}) as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift", START_TIMEOUT)
        press(xvfb_display, "n")
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "bloom")
        press(xvfb_display, "n")
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift")
        assert run.stop() == 0, run.errors()


def test_a_key_mapping_on_a_digit_key_fires(tmp_path, xvfb_display):
    """`{key: "1", to: mirror}`: mirror is on while 1 is held (pyglet calls the key "_1"; shows say "1")."""
    show = write_show(tmp_path, [cppn_scene("drift")], mappings=[{"key": "1", "to": "mirror"}])
    with LiveShow(show, env={"DISPLAY": xvfb_display}) as run:
        hud = run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift", START_TIMEOUT)
        assert "mirror off" in window_line(hud)
        press(xvfb_display, "1", "keydown")
        run.wait_for_hud(lambda hud: "mirror on" in window_line(hud))
        press(xvfb_display, "1", "keyup")
        run.wait_for_hud(lambda hud: "mirror off" in window_line(hud))
        assert run.stop() == 0, run.errors()


# --- what the HUD shows ----------------------------------------------------------------------------------------

def hud_figures(hud: str) -> dict[str, float]:
    """The numbers on the HUD's first three lines."""
    patterns = {"fps": r"^\s*([\d.]+) fps", "frame_p99": r"frame p99\s+([\d.]+) ms",
                "latency_p50": r"latency p50\s+([\d.]+) ms", "latency_p99": r"latency p50.*p99\s+([\d.]+) ms",
                "dropped": r"dropped (\d+)", "step_p50": r"inference step p50\s+([\d.]+) ms"}
    figures = {}
    for name, pattern in patterns.items():
        found = re.search(pattern, hud, re.MULTILINE)
        if found:
            figures[name] = float(found.group(1))
    return figures


def osc_counts(hud: str) -> tuple[int, int] | None:
    found = re.search(r"osc 127\.0\.0\.1:\d+ in (\d+) bad (\d+)", hud)
    return (int(found.group(1)), int(found.group(2))) if found else None


def test_the_hud_shows_the_run_figures_scene_providers_parameters_and_osc_traffic(tmp_path, xvfb_display):
    show = write_show(tmp_path, [cppn_scene("drift", scale=6.0)])
    with LiveShow(show, "--hud", env={"DISPLAY": xvfb_display}) as run:
        hud = run.wait_for_hud(lambda hud: {"fps", "latency_p50"} <= hud_figures(hud).keys()
                               and hud_figures(hud)["fps"] > 0 and hud_figures(hud)["latency_p50"] > 0,
                               START_TIMEOUT)
        figures = hud_figures(hud)
        assert set(figures) == {"fps", "frame_p99", "latency_p50", "latency_p99", "dropped", "step_p50"}, hud
        assert figures["frame_p99"] > 0 and figures["latency_p99"] >= figures["latency_p50"], hud
        assert re.search(r"^scene drift\s+providers CPUExecutionProvider$", hud, re.MULTILINE), hud
        assert re.search(r"^drift: scale 6\.00  speed 1\.00  jitter 0\.00$", hud, re.MULTILINE), hud
        assert "audio off" in hud and window_line(hud).startswith("hud on"), hud
        assert hud.rstrip().endswith("health ok"), hud

        # OSC traffic: the port is on the HUD; good packets count in, bad ones count in and bad
        port = int(re.search(r"osc 127\.0\.0\.1:(\d+)", hud).group(1))
        assert osc_counts(hud) == (0, 0), hud
        client = SimpleUDPClient("127.0.0.1", port)
        client.send_message("/latentstage/cppn/scale", 12.0)
        hud = run.wait_for_hud(lambda hud: osc_counts(hud) == (1, 0) and "scale 12.00*" in hud)
        client.send_message("/latentstage/cppn/scale", 1000.0)  # out of range
        client.send_message("/latentstage/cppn/scale", "big")  # wrong type
        client.send_message("/latentstage/no/such/parameter", 1.0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
            raw.sendto(b"\x00not OSC at all", ("127.0.0.1", port))  # malformed
        hud = run.wait_for_hud(lambda hud: osc_counts(hud) == (5, 4))
        assert "scale 12.00*" in hud and hud.rstrip().endswith("health ok"), hud  # ignored, and the show goes on
        assert run.stop() == 0, run.errors()


def test_the_hud_names_each_source_with_its_granted_size_and_fps(tmp_path, xvfb_display):
    clip = write_test_video(tmp_path / "clip.mp4", frames=30, fps=25.0, size=(96, 64))
    show = write_show(tmp_path, [
        {"name": "pattern", "kind": "pipeline", "source": {"kind": "pattern", "width": 320, "height": 180, "fps": 30},
         "chain": [{"canny": {"sigma": 0.33}}]},
        {"name": "clip", "kind": "pipeline", "source": {"kind": "video", "path": str(clip)}}])
    with LiveShow(show, env={"DISPLAY": xvfb_display}) as run:
        expected = re.compile(r"^sources pattern 320x180@30 ok, clip 96x64@25 ok$", re.MULTILINE)
        hud = run.wait_for_hud(expected.search, START_TIMEOUT)
        assert scene_on_screen(hud) == "pattern" and hud.rstrip().endswith("health ok"), hud
        assert run.stop() == 0, run.errors()


def new_pictures_on_hud(hud: str) -> tuple[float, float] | None:
    """(display fps, new pictures a second) from the HUD's first line."""
    found = re.search(r"^\s*([\d.]+) fps  new pictures\s+([\d.]+)/s", hud, re.MULTILINE)
    return (float(found.group(1)), float(found.group(2))) if found else None


def test_the_hud_tells_new_pictures_a_second_apart_from_the_display_rate(tmp_path, xvfb_display):
    """A source that gives 7 pictures a second, shown at 30 fps: the visitor sees 7 new pictures a second."""
    show = write_show(tmp_path, [
        {"name": "slow", "kind": "pipeline", "source": {"kind": "pattern", "width": 160, "height": 90, "fps": 7}}])

    def steady(hud: str) -> bool:
        rates = new_pictures_on_hud(hud)
        return rates is not None and 5.5 <= rates[1] <= 8.5 and rates[0] >= 12.0

    with LiveShow(show, env={"DISPLAY": xvfb_display}) as run:
        run.wait_for_hud(steady, START_TIMEOUT)
        assert run.stop() == 0, run.errors()
    stats = run.stats()
    assert 5.5 <= stats["new_pictures_fps"] <= 8.5, stats
    assert stats["fps"] >= 12.0 and stats["new_frames"] > stats["new_pictures"], stats


def write_model_for_one_size(path: Path, width: int, height: int) -> Path:
    """A real pix2pix-kind model (edges in, NCHW out) whose card claims any size, but which adds a constant
    of one fixed size: ONNX Runtime runs it at (width, height) and fails at run time at any other."""
    bias = numpy_helper.from_array(np.zeros((1, 1, height, width), np.float32), "bias")
    graph = helper.make_graph(
        [helper.make_node("Add", ["image", "bias"], ["output"])], "fixed_size",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, "height", "width"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, "height", "width"])], [bias])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in ModelCard(kind="pix2pix", input="edges", output_layout="NCHW").to_metadata().items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def test_a_model_failing_at_run_time_is_named_on_the_hud_and_the_idle_scene_takes_over(tmp_path, xvfb_display):
    """The model warms up at the render size (160x90) and loads fine; live frames come at the source's
    320x180 and every run fails inside ONNX Runtime. The show goes on, on the idle scene."""
    model = write_model_for_one_size(tmp_path / "one-size.onnx", 160, 90)
    show = write_show(tmp_path, [
        {"name": "styled", "kind": "pipeline", "model": str(model), "chain": [{"canny": {"sigma": 0.33}}],
         "source": {"kind": "pattern", "width": 320, "height": 180, "fps": 30}},
        cppn_scene("drift")], idle="drift", hold=0.5)
    with LiveShow(show, "--hud", env={"DISPLAY": xvfb_display}) as run:
        hud = run.wait_for_hud(lambda hud: "health styled:" in hud, START_TIMEOUT)
        health = hud.rstrip().splitlines()[-1]
        assert "Add" in health and "broadcast" in health, hud  # the scene, and what ONNX Runtime said
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "idle" and hud_figures(hud).get("fps", 0) > 0)
        assert run.stop() == 0, run.errors()
    stats = run.stats()
    assert stats["new_frames"] > 0 and stats["parameters"].get("drift.scale"), stats  # the idle scene rendered
    # logged once by the show, not once a frame by ONNX Runtime's own logger (a flood over a night)
    errors = run.stderr_path.read_text()
    assert errors.count("scene 'styled':") == 1 and "[E:onnxruntime:" not in errors, errors[-3000:]


def test_the_hud_audio_level_moves_with_sound(tmp_path, xvfb_display, pulse_sink):
    from tests.live.inputs.test_audio import click_track, write_wav

    track = write_wav(tmp_path / "clicks.wav", click_track(128.0, seconds=30.0))
    show = write_show(tmp_path, [cppn_scene("drift")], audio={"kind": "input", "device": "pulse"})

    def level(hud: str) -> float | None:
        found = re.search(r"audio ok\s+level ([\d.]+)", hud)
        return float(found.group(1)) if found else None

    with LiveShow(show, env={**pulse_sink, "DISPLAY": xvfb_display}) as run:
        hud = run.wait_for_hud(lambda hud: level(hud) is not None, START_TIMEOUT)
        assert level(hud) < 0.05, hud  # the sink is silent until the track plays
        player = subprocess.Popen(["paplay", "--device=latentstage_test", str(track)], env=pulse_sink)
        try:
            run.wait_for_hud(lambda hud: (level(hud) or 0.0) > 0.05)
        finally:
            player.kill()
            player.wait()
        assert run.stop() == 0, run.errors()
    assert run.stats()["audio"]["peaks"]["level"] > 0.05
