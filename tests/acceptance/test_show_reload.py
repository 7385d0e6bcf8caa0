"""Acceptance: the show file edited while `latentstage run` performs it (the installed command, headless).

README promise checked here ("Shows"): "Save the show file while it runs and a good edit takes effect at
the next frame, models that did not change kept; a broken one is named on the HUD with file, line and key,
and the show runs on as it was." Seen from outside, through the HUD text (--status-file) and the run's
figures (--stats-json); every wait is for a condition.
"""
from __future__ import annotations

import yaml

from tests.acceptance.test_window import (
    START_TIMEOUT,
    LiveShow,
    cppn_scene,
    scene_on_screen,
    write_show,
)


def health_line(hud: str) -> str:
    return next((line for line in hud.splitlines() if line.startswith("health ")), "")


def test_a_broken_edit_keeps_the_show_running_and_a_good_one_changes_it(tmp_path):
    scenes = [cppn_scene("drift"), cppn_scene("bloom", "cppn-sine.onnx", seed=2)]
    show = write_show(tmp_path, scenes)
    good = yaml.safe_load(show.read_text())
    with LiveShow(show, "--headless") as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift" and health_line(hud) == "health ok",
                         START_TIMEOUT)
        show.write_text(show.read_text().replace("scenes:", "scenes: [", 1))  # an unclosed bracket
        hud = run.wait_for_hud(lambda hud: "not valid YAML" in health_line(hud))
        assert f"health {show}:" in health_line(hud) and "the show runs on as it was" in hud
        assert scene_on_screen(hud) == "drift" and "show file reloaded 0 refused 1" in hud

        cued = {**good, "cues": [{"at": 0.0, "scene": "bloom"}]}  # the timed cue is due already: bloom at once
        show.write_text(yaml.safe_dump(cued, sort_keys=False))
        hud = run.wait_for_hud(lambda hud: scene_on_screen(hud) == "bloom")
        assert health_line(hud) == "health ok" and "show file reloaded 1 refused 1" in hud
        assert "bloom: scale 6.00" in hud

        cued["scenes"][1]["cppn"]["scale"] = 3.0  # a parameter's default: bloom is rebuilt with it
        show.write_text(yaml.safe_dump(cued, sort_keys=False))
        hud = run.wait_for_hud(lambda hud: "bloom: scale 3.00" in hud)
        assert scene_on_screen(hud) == "bloom" and "show file reloaded 2 refused 1" in hud
        assert run.stop() == 0, run.errors()
    assert run.stats()["show_file"] == {"reloaded": 2, "refused": 1}
    assert "show file changed but cannot be used" in run.errors() and "reloaded at" in run.errors()
