"""Acceptance: `latentstage run SHOW --operator` and `--no-program`, a real operator window under Xvfb.

README promises checked here (Program and preview): the operator window shows the preview of what GO brings
on (the standby cue's scene, the pixels it renders alone), the program and the cue list; GO pressed in the
operator window moves the cue list and the program changes, and the night replays bit for bit with the
operator window open; the operator window runs alone (the program rendered off screen) and Esc in it quits.
Xvfb here gives pyglet one screen (its Xinerama heads are not listed: pyglet reads RandR), so both windows
open on it; a screen index the display does not have is refused in one line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from live.output.operator_window import Layout, OperatorConfig
from live.scenes.contract import Moment, SceneContext, defaults
from live.scenes.kinds import build_scene
from live.show.schema import load_show
from tests.acceptance.test_event_replay import entries, same_as_replayed
from tests.acceptance.test_window import (START_TIMEOUT, LiveShow, cppn_scene, scene_on_screen, show_window,
                                         write_show, xdotool)
from tests.conftest import latentstage, wait_for

OPERATOR = {"width": 640, "height": 400}  # the operator window's size in these shows


def cue_list(folder: Path) -> Path:
    """drift at 0, GO to bloom (a still picture: one keyframe), GO back to drift."""
    bloom = cppn_scene("bloom", "cppn-sine.onnx", 2, 4.0)
    bloom["cppn"]["keyframes"] = 1
    return write_show(folder, [cppn_scene("drift"), bloom], operator=OPERATOR,
                      cues=[{"at": 0, "scene": "drift"}, {"go": True, "scene": "bloom"}, {"go": True, "scene": "drift"}])


def operator_window(display: str) -> str:
    return show_window(display, "^latentstage operator$")


def preview_of(shot: Path) -> np.ndarray:
    """The preview's part of an operator screenshot, (H, W, 3) uint8, top row first."""
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    layout = Layout((pixels.shape[1], pixels.shape[0]), 160 / 90)
    x, y, width, height = layout.preview
    top = pixels.shape[0] - (y + height)
    return pixels[top:top + height, x:x + width]


def newest(folder: Path) -> Path | None:
    shots = sorted(folder.glob("*.png"))
    return shots[-1] if shots else None


def test_the_preview_shows_the_standby_scene_and_go_in_the_operator_window_moves_the_cues(tmp_path, xvfb_display):
    show_path = cue_list(tmp_path)
    show = load_show(show_path)
    size = Layout((OPERATOR["width"], OPERATOR["height"]), 160 / 90).preview_size
    bloom = build_scene(show.scenes[1], SceneContext(show.engine.replaced(providers="cpu"), lambda: 0.0, True))
    bloom_alone = bloom.render(Moment(0.0, defaults(bloom.parameters)), *size)  # still: the same at any t
    log, shots = tmp_path / "night.log", tmp_path / "shots"
    with LiveShow(show_path, "--operator", "--record-events", str(log), "--screenshots", str(shots),
                  "--screenshot-every", "0.2", env={"DISPLAY": xvfb_display}) as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift" and "standby: cue 2" in hud, START_TIMEOUT)
        window = operator_window(xvfb_display)

        def previews_bloom() -> bool:
            shot = newest(shots / "operator")
            return shot is not None and np.abs(preview_of(shot).astype(int) - bloom_alone).max() <= 1

        assert wait_for(previews_bloom, 30, 0.1), "the preview never showed bloom as it renders alone"
        assert xdotool(xvfb_display, "key", "--window", window, "space").returncode == 0
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "bloom" and "standby: cue 3 (GO) -> drift" in hud)
        assert wait_for(lambda: not previews_bloom(), 30, 0.1), "the preview moved on to the next standby cue"
        taken = len(list(shots.glob("*.png")))
        assert wait_for(lambda: len(list(shots.glob("*.png"))) >= taken + 3, 30)
        assert run.stop() == 0, run.errors()

    recorded = entries(log)
    assert [entry["scene"] for entry in recorded if entry["event"] == "cue"] == ["drift", "bloom"]
    assert any(entry["event"] == "control" and entry["source"] == "key" for entry in recorded)  # GO, by key
    replay = latentstage("rehearse", str(show_path), "--replay", str(log), "-o", str(tmp_path / "replay.mp4"),
                         "--frames", str(tmp_path / "replayed"))
    assert replay.returncode == 0, replay.stderr
    assert same_as_replayed(tmp_path, recorded) >= 5  # the operator window took nothing from the program
    programs = [np.asarray(Image.open(path)) for path in sorted(shots.glob("*.png"))]
    assert not np.array_equal(programs[0], programs[-1]), "the program changed with GO"


def test_the_operator_window_runs_alone_and_esc_in_it_quits(tmp_path, xvfb_display):
    show_path = cue_list(tmp_path)
    shots = tmp_path / "shots"
    with LiveShow(show_path, "--no-program", "--screenshots", str(shots), "--screenshot-every", "0.2",
                  env={"DISPLAY": xvfb_display}) as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift", START_TIMEOUT)
        window = operator_window(xvfb_display)
        shown = xdotool(xvfb_display, "search", "--onlyvisible", "--name", "^latentstage$").stdout.split()
        assert shown == [], "no program window on screen"
        assert wait_for(lambda: newest(shots / "operator") is not None and newest(shots) is not None, 30)
        program = np.asarray(Image.open(newest(shots)))
        assert program.shape == (90, 160, 3) and program.std() > 10, "the program renders off screen"
        assert xdotool(xvfb_display, "key", "--window", window, "Escape").returncode == 0
        assert run.wait_for_exit() == 0, run.errors()

    refused = latentstage("run", str(show_path), "--operator-screen", "3", "--seconds", "1",
                          env={"DISPLAY": xvfb_display})
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 2 and "operator screen 3 asked for, but the display has 1" in lines[-1], refused.stderr
    assert "Traceback" not in refused.stderr
    assert OperatorConfig().screen is None  # by default: the second screen where there is one
