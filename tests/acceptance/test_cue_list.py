"""Acceptance: a theatre cue list rehearsed with the operator's GO presses standing in as an OSC script.

README promises checked here: "cues fire at a show time, on GO (space or /latentstage/go) or a wait after the
cue before them", "the HUD shows the cue on standby" (a live window under Xvfb, space sent with xdotool, GO
over real UDP); a rehearsal that presses GO at the same times gives the same frames; cues on the beat; cue sets.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from pythonosc.udp_client import SimpleUDPClient

from tests.acceptance.test_live_osc import osc_port
from tests.acceptance.test_run_options import rehearsed
from tests.acceptance.test_window import (
    START_TIMEOUT,
    LiveShow,
    cppn_scene,
    press,
    scene_on_screen,
    write_show,
)
from tests.conftest import REPO

SECONDS = 3.0  # at 30 fps; GO at 1 s fades to the pix2pix scene over 2 s


def theatre(folder: Path) -> Path:
    show = folder / "theatre.yaml"
    show.write_text((REPO / "shows" / "theatre.yaml").read_text().replace("../models/", f"{REPO / 'models'}/")
                    .replace("path: media/", f"path: {REPO / 'shows' / 'media'}/"))
    return show


def presses(path: Path, *times: float) -> Path:
    path.write_text(yaml.safe_dump([{"at": at, "address": "/latentstage/go", "args": []} for at in times]))
    return path


def test_go_fires_the_standby_cue_at_the_press_and_replays_identically(tmp_path):
    show = theatre(tmp_path)
    waiting = rehearsed(show, "no-go", SECONDS, "--size", "160x90")
    script = presses(tmp_path / "go.yaml", 1.0)
    pressed = rehearsed(show, "go", SECONDS, "--size", "160x90", "--osc-script", str(script))
    again = rehearsed(show, "go-again", SECONDS, "--size", "160x90", "--osc-script", str(script))
    assert len(waiting) == len(pressed) == round(SECONDS * 30)
    assert all(np.array_equal(a, b) for a, b in zip(pressed, again)), "the same presses gave other frames"
    assert all(np.array_equal(a, b) for a, b in zip(waiting[:30], pressed[:30])), "before GO: the preset"
    difference = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(waiting, pressed)]
    assert all(d > 10 for d in difference[75:]), "after GO and its fade: the next cue's scene"
    assert 0 < difference[45] < difference[75]  # half a second after GO the fade has begun, not finished


def test_a_cue_on_the_beat_fires_on_a_kick_of_the_music(tmp_path):
    from tests.live.inputs.test_audio import RATE, write_wav
    from tests.live.inputs.test_audio_beats import drum_loop

    write_wav(tmp_path / "kicks.wav", drum_loop({"kick": 0.8}, seconds=8.0, bpm=120.0, rate=RATE))
    models = REPO / "models"
    show = {"name": "on-the-beat", "output": {"width": 64, "height": 36, "fps": 30},
            "audio": {"kind": "file", "path": "kicks.wav"}, "tempo": {"source": "audio"},
            "scenes": [{"name": "a", "kind": "cppn", "model": str(models / "cppn-tanh.onnx")},
                       {"name": "b", "kind": "cppn", "model": str(models / "cppn-sine.onnx")}],
            "cues": [{"at": 0, "scene": "a"}, {"go": True, "scene": "b", "quantise": "beat"}]}
    path = tmp_path / "beat.yaml"
    path.write_text(yaml.safe_dump(show))
    waiting = rehearsed(path, "no-go", 6.0)
    pressed = rehearsed(path, "go", 6.0, "--osc-script", str(presses(tmp_path / "go.yaml", 4.1)))
    changed = next(index for index, (a, b) in enumerate(zip(waiting, pressed)) if not np.array_equal(a, b))
    at = changed / 30
    kick = round(at * 2) / 2  # kicks every 0.5 s from 0
    assert at >= 4.1 and 0 <= at - kick < 0.15, f"the cut came at {at:.3f} s, the nearest kick at {kick} s"


def test_a_cue_glides_its_scenes_parameter_to_the_value_it_sets(tmp_path):
    models = REPO / "models"

    def show(name: str, scale: float, cues: list[dict]) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({
            "name": name, "output": {"width": 64, "height": 36, "fps": 30},
            "scenes": [{"name": "a", "kind": "cppn", "model": str(models / "cppn-tanh.onnx"),
                        "cppn": {"scale": scale}}], "cues": cues}))
        return path

    zoomed = [{"at": 0, "scene": "a"}, {"at": 1.0, "scene": "a", "set": {"scale": 4.0}, "ramp": 1.0}]
    gliding = rehearsed(show("glide", 8.0, zoomed), "glide", 2.5)
    still = rehearsed(show("still", 8.0, [{"at": 0, "scene": "a"}]), "still", 2.5)
    there = rehearsed(show("there", 4.0, [{"at": 0, "scene": "a"}]), "there", 2.5)
    assert all(np.array_equal(a, b) for a, b in zip(gliding[:31], still[:31])), "before the cue: as it was"
    assert not np.array_equal(gliding[45], still[45]) and not np.array_equal(gliding[45], there[45])  # on the way
    assert all(np.array_equal(a, b) for a, b in zip(gliding[61:], there[61:])), "after the ramp: the value set"


def test_live_space_and_osc_go_fire_the_standby_cue_the_hud_names(tmp_path, xvfb_display):
    cues = [{"at": 0, "scene": "drift"}, {"go": True, "scene": "bloom"}, {"go": True, "scene": "third"}]
    show = write_show(tmp_path, [cppn_scene("drift"), cppn_scene("bloom", "cppn-sine.onnx", 2, 4.0),
                                 cppn_scene("third", seed=3, scale=3.0)], cues=cues, window={"hud": True})
    with LiveShow(show, env={"DISPLAY": xvfb_display}) as run:
        run.wait_for_hud(lambda hud: "standby: cue 2 (GO) -> bloom" in hud and scene_on_screen(hud) == "drift",
                         START_TIMEOUT)
        press(xvfb_display, "space")  # GO from the keyboard
        run.wait_for_hud(lambda hud: "standby: cue 3 (GO) -> third" in hud and scene_on_screen(hud) == "bloom")
        SimpleUDPClient("127.0.0.1", osc_port(run)).send_message("/latentstage/go", [])  # GO from a desk
        run.wait_for_hud(lambda hud: "cue list done" in hud and scene_on_screen(hud) == "third")
        assert run.stop() == 0, run.errors()


def test_an_auto_follow_cue_cuts_when_the_cue_before_it_has_faded_in(tmp_path):
    models = REPO / "models"
    path = tmp_path / "follow.yaml"
    path.write_text(yaml.safe_dump({
        "name": "follow", "output": {"width": 64, "height": 36, "fps": 30},
        "scenes": [{"name": "a", "kind": "cppn", "model": str(models / "cppn-tanh.onnx")},
                   {"name": "b", "kind": "cppn", "model": str(models / "cppn-sine.onnx")}],
        "cues": [{"at": 0, "scene": "a"}, {"go": True, "scene": "b", "fade": 1.0},
                 {"follow": True, "scene": "a"}]}))
    pressed = rehearsed(path, "go", 3.0, "--osc-script", str(presses(tmp_path / "go.yaml", 0.5)))
    still = rehearsed(path, "no-go", 3.0)
    same = [np.array_equal(a, b) for a, b in zip(pressed, still)]
    assert all(same[:15]) and not any(same[16:45]), "GO at 0.5 s fades b in over a second"
    assert all(same[46:]), "then the follow cue cuts back to a, as the show was without GO"
