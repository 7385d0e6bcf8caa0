"""Acceptance: the flicker figure on the HUD and in `run --stats-json` (README "Running unattended").

A source shown as it is changes exactly as much as its input (1.0x); a CPPN, with no input, has its output
change alone; the HUD's line names the scene on screen's figure.
"""
from __future__ import annotations

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
