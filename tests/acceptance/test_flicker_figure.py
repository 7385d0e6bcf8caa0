"""Acceptance: the flicker figure on the HUD and in `run --stats-json` (README "Running unattended").

A source shown as it is changes exactly as much as its input (1.0x); a CPPN, with no input, has its output
change alone; the HUD's line names the scene on screen's figure. A scene with a flicker target (a noisy camera's
boiling edges) shows its target and the stabilise it tuned to, and settles near it.
"""
from __future__ import annotations

import re

from tests.acceptance.test_window import START_TIMEOUT, LiveShow, cppn_scene, scene_on_screen, write_show

BARS = {"name": "bars", "kind": "pipeline", "source": {"kind": "pattern", "width": 160, "height": 90, "fps": 10}}


def test_the_hud_and_stats_give_each_scenes_picture_change_against_its_input(tmp_path):
    show = write_show(tmp_path, [BARS, cppn_scene("drift")],
                      cues=[{"at": 0, "scene": "bars"}, {"at": 3, "scene": "drift"}])
    with LiveShow(show, "--headless") as run:
        hud = run.wait_for_hud(lambda text: scene_on_screen(text) == "bars" and "flicker out" in text,
                               timeout=START_TIMEOUT)
        assert "(1.0x)" in hud, hud  # shown at its own size: the picture is the input
        hud = run.wait_for_hud(lambda text: scene_on_screen(text) == "drift" and "flicker out" in text)
        assert " in " not in next(line for line in hud.splitlines() if line.startswith("flicker")), hud
        assert run.stop() == 0
    flicker = run.stats()["flicker"]
    assert flicker["bars"]["ratio"] == 1.0 and flicker["bars"]["input_levels"] > 0.5, flicker
    assert flicker["drift"]["output_levels"] > 0 and "input_levels" not in flicker["drift"], flicker


def test_a_scene_with_a_flicker_target_settles_near_it_in_a_live_run(tmp_path):
    from tests.room_clip import write_room_clip

    target = 2.5  # levels a new picture: about half of what the camera's noise makes its edges boil by
    write_room_clip(tmp_path / "room.mp4", walk=0.0, still=3.0, fps=30, size=(160, 90), empty_first=0.0)
    edges = {"name": "edges", "kind": "pipeline", "source": {"kind": "video", "path": "room.mp4"},
             "chain": [{"canny": {"sigma": 0.33}}], "flicker": {"target": target}}
    figure = re.compile(r"^flicker out (\S+) .*\(target (\S+), stabilise (\S+)\)$", re.MULTILINE)

    def settled(hud: str) -> bool:
        found = figure.search(hud)
        return found is not None and float(found[3]) > 0.3 and abs(float(found[1]) - target) < 0.2 * target

    with LiveShow(write_show(tmp_path, [edges]), "--headless") as run:
        hud = run.wait_for_hud(settled, timeout=START_TIMEOUT)
        assert figure.search(hud)[2] == "2.5", hud
        assert run.stop() == 0
    flicker = run.stats()["flicker"]["edges"]
    assert flicker["target"] == target and flicker["stabilise_range"][0] < 0.1 < 0.3 < flicker["stabilise"], flicker
    assert abs(flicker["last_output_levels"] - target) < 0.3 * target, flicker
