"""Acceptance: capture to show, through `latentstage run` and a real OSC message over UDP, then `check` and
`latentstage rehearse` of the edited file, as a performer and a designer use it.

README promise checked here ("Capture to show"): `/latentstage/capture` writes the scene on screen (its latent
and the values the performer holds) into the running show's file as a named keyframe and a GO cue after the
current one; the HUD says so; the running show reloads it without a jump; the `c` key in the window (Xvfb)
captures again without replacing the first; `check` accepts the file; a rehearsal that presses GO on that cue
reaches the captured keyframe exactly: its frames are the live screenshots of the captured picture, bit for
bit.
"""
from __future__ import annotations

from pathlib import Path

import json
import re

import numpy as np
import yaml
from PIL import Image
from pythonosc.udp_client import SimpleUDPClient

from live.scenes.cppn_math import latent_at_position, keyframes
from live.show.schema import load_show
from tests.acceptance.test_cue_list import presses
from tests.acceptance.test_live_osc import osc_port
from tests.acceptance.test_run_options import rehearsed
from tests.acceptance.test_window import START_TIMEOUT, LiveShow, cppn_scene, press, scene_on_screen, write_show
from tests.conftest import latentstage, wait_for


def test_a_capture_mid_run_is_a_keyframe_and_cue_that_check_accepts_and_a_rehearsal_reaches_exactly(tmp_path,
                                                                                                   xvfb_display):
    show = write_show(tmp_path, [cppn_scene("drift", seed=2), cppn_scene("bloom", "cppn-sine.onnx", 2, 4.0)],
                      cues=[{"at": 0, "scene": "drift"}, {"go": True, "scene": "bloom"}])
    shots = tmp_path / "shots"
    with LiveShow(show, "--screenshots", str(shots), "--screenshot-every", "0.1", env={"DISPLAY": xvfb_display}) as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift", START_TIMEOUT)
        desk = SimpleUDPClient("127.0.0.1", osc_port(run))
        desk.send_message("/latentstage/drift/speed", 0.0)  # the performer stops the walk on a look they like
        desk.send_message("/latentstage/cppn/scale", 4.0)  # and zooms in
        run.wait_for_hud(lambda hud: "drift: scale 4.00*  speed 0.00*" in hud)
        desk.send_message("/latentstage/capture", [])
        hud = run.wait_for_hud(lambda hud: "show file reloaded 1" in hud and "captured keyframe" in hud)
        assert f"captured keyframe capture-1 into {show}: cue 2 (GO) glides drift back to it" in hud, hud
        assert scene_on_screen(hud) == "drift" and "drift: scale 4.00*  speed 0.00*" in hud  # held over the reload
        press(xvfb_display, "c")  # again, from the window: a second keyframe, the first kept
        hud = run.wait_for_hud(lambda hud: "show file reloaded 2" in hud and "captured keyframe capture-2" in hud)
        taken = len(list(shots.glob("*.png")))
        assert wait_for(lambda: len(list(shots.glob("*.png"))) >= taken + 3, 30)  # the captured look, reloaded
        assert run.stop() == 0, run.errors()
    live = sorted(shots.glob("*.png"))[-1]

    edited = load_show(show)
    held = {"speed": 0.0, "scale": 4.0}
    assert [(cue.scene, cue.keyframe, cue.set) for cue in edited.cues] == [  # each after the cue that fired last
        ("drift", None, {}), ("drift", "capture-2", held), ("drift", "capture-1", held), ("bloom", None, {})]
    named = edited.scenes[0].cppn.named_keyframes
    assert named["capture-1"] == named["capture-2"]  # the walk stood still through the reload: no jump
    # the numbers are the live walk's latent where it stood (its resume state says where), bit for bit
    state = json.loads(Path(re.search(r"resume state: (\S+\.json)", run.stderr_path.read_text())[1]).read_text())
    walk = state["scenes"]["drift"]["walk"]
    assert walk["glide"] is None and walk["departure"] is None  # stood still on its path since the capture
    stood = latent_at_position(keyframes(2, 5, 8), walk["position"])  # seed 2, 5 keyframes of cppn-tanh's 8
    assert np.array_equal(np.asarray(named["capture-1"], np.float32), stood)
    assert yaml.safe_load(show.read_text())["cues"][3] == {"go": True, "scene": "bloom"}  # the rest as written
    checked = latentstage("check", str(show))
    assert checked.returncode == 0, checked.stderr

    # GO at 0.5 s (cue 2, capture-2): the walk glides from where it is to the captured latent over the 1 s fade,
    # then holds there
    frames = rehearsed(show, "rehearsed", 2.0, "--osc-script", str(presses(tmp_path / "go.yaml", 0.5)))
    captured = np.asarray(Image.open(live))
    assert np.array_equal(frames[-1], captured), "the rehearsal's last frame is not the captured picture"
    assert np.array_equal(frames[50], captured)  # reached by the end of the glide (1.5 s) and held
    assert not np.array_equal(frames[30], captured)  # on the way there at 1 s
