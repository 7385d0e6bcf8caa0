"""Acceptance: an installation notices the room (README "Installations: presence and attract").

A camera stand-in (a real H.264 clip of a room: a figure walks across, the room stays empty with sensor noise,
the figure walks back) through `latentstage run` in a window under Xvfb: once the room has been still for the
attract time the attract scene glides in and the show composes at the attract rate; the figure's return wakes
it back to the camera's scene. While it is alone on screen its ladder holds it on its cheapest rung. `latentstage rehearse` of the same show and clip attracts and wakes at the same
frames every time, and where the live run did (the live run plays the clip in real time).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.acceptance.test_window import START_TIMEOUT, LiveShow, cppn_scene, new_pictures_on_hud, scene_on_screen, write_show
from tests.conftest import latentstage
from tests.room_clip import write_room_clip

FPS = 15
WALK, STILL = 2.0, 9.0  # seconds of the clip: a figure crossing, the empty room; then the figure crossing back
AFTER = 1.5  # seconds of an empty room before the attract scene
CHANGE = re.compile(r"attract (?:at|woken at) ([\d.]+) s")


def room_show(folder: Path) -> Path:
    clip = write_room_clip(folder / "room.mp4", WALK, STILL, fps=FPS)
    return write_show(folder, [{"name": "mirror", "kind": "pipeline", "source": {"kind": "video", "path": str(clip)}},
                               {**cppn_scene("drift"), "target_fps": 5, "ladder": [{"render_scale": 0.5}]}],
                      output={"width": 160, "height": 90, "fps": FPS},
                      attract={"scene": "drift", "after": AFTER, "fade": 0.5, "fps": 5},
                      mappings=[{"camera": "presence", "to": "drift.scale", "out": [3.0, 9.0]}])


def rehearsed_changes(show: Path, out: Path) -> list[float]:
    result = latentstage("rehearse", str(show), "-o", str(out), "--seconds", str(0.5 + 2 * WALK + STILL + 1))
    assert result.returncode == 0, result.stderr
    return [float(at) for at in CHANGE.findall(result.stderr)]


def test_a_still_room_glides_to_the_attract_scene_at_a_lower_rate_and_the_figure_s_return_wakes_it(tmp_path,
                                                                                                   xvfb_display):
    show = room_show(tmp_path)
    with LiveShow(show, env={"DISPLAY": xvfb_display}) as run:
        hud = run.wait_for_hud(lambda hud: scene_on_screen(hud) == "mirror" and "presence" in hud, START_TIMEOUT)
        hud = run.wait_for_hud(lambda hud: "attract since" in hud and (new_pictures_on_hud(hud) or (0, 99))[1] < 7.5)
        assert scene_on_screen(hud) == "drift", hud
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "mirror" and "attract since" not in hud)
        assert run.stop() == 0, run.errors()
    attract = run.stats()["attract"]
    assert attract["entered"] >= 1 and attract["woke"] >= 1, attract
    entered, woke = attract["changes"][0], attract["changes"][1]
    assert entered["scene"] == "drift" and entered["presence"] < 0.1 and woke["scene"] == "mirror", attract
    assert 0.5 + WALK + AFTER < entered["at"] < 0.5 + WALK + STILL, attract  # after the figure left...
    assert 0.5 + WALK + STILL <= woke["at"] < 0.5 + WALK + STILL + WALK, attract  # ...woken by its return
    assert run.errors().count("attract at") == 1 and run.errors().count("attract woken at") == 1, run.errors()
    ladder = run.stats()["ladder"]["drift"]  # held low in the empty room, let go when woken
    assert ladder["steps_down"] >= 1 and ladder["steps_up"] >= 1 and ladder["rung"] == 0, ladder
    assert "drift: down to rung 1 (render_scale 0.5): held there (forced)" in run.errors(), run.errors()

    changes = rehearsed_changes(show, tmp_path / "one.mp4")
    assert changes == rehearsed_changes(show, tmp_path / "two.mp4")  # the same frames every time
    assert len(changes) == 2, changes
    assert all(abs(at * FPS - round(at * FPS)) < 0.1 for at in changes), changes  # on frames of the show's rate
    for live, rehearsed in zip((entered["at"], woke["at"]), changes):
        assert live == pytest.approx(rehearsed, abs=1.5)  # the same clip, played in real time
