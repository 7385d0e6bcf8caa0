"""Acceptance: MIDI controllers driving `latentstage run` (the installed command, a real window under Xvfb),
with real MIDI ports on a private JACK server (`jackd -d dummy`) and the device played from a second process.

README promises checked here (MIDI):
- "a CC moves a parameter": `{midi: {cc: 70, channel: 1}, to: drift.scale}` changes the scale the HUD shows
  (held, "*") and the picture on screen;
- "MIDI learn": `/latentstage/learn drift.scale`, a control moved, and the mapping is in the show file,
  `latentstage check` accepts it and the running show (hot reload) uses it; `latentstage midi learn` does
  the same with no show running;
- "feedback": values set elsewhere reach the device's own input port;
- "unplugged and back": the HUD says the device is absent, and once it is back its CCs work again;
- "a flood, SysEx garbage and running-status tricks are counted and ignored": the show goes on.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image
from pythonosc.udp_client import SimpleUDPClient

from live.control.midi import QUEUE_LIMIT
from tests.acceptance.test_live_osc import osc_port, scale_on_hud
from tests.acceptance.test_window import CHANGE_TIMEOUT, START_TIMEOUT, LiveShow, cppn_scene, press, write_show
from tests.conftest import latentstage, wait_for
from tests.midi_player import Player

STILL = [{"at": 0, "scene": "drift", "set": {"speed": 0.0}}]  # a still picture: only the controls change it


@pytest.fixture
def display(xvfb_display, jack_server) -> dict[str, str]:
    return {"DISPLAY": xvfb_display}


def midi_show(tmp_path, mappings: list[dict], **midi):
    return write_show(tmp_path, [cppn_scene("drift", scale=6.0)], cues=STILL,
                      midi={"inputs": ["pads"], **midi}, mappings=mappings)


def newest_picture(folder) -> np.ndarray | None:
    """The newest screenshot written whole (the one after it may be half written still)."""
    taken = sorted(folder.glob("frame-*.png"))
    return np.asarray(Image.open(taken[-2]).convert("RGB"), dtype=int) if len(taken) > 1 else None


def midi_line(hud: str) -> str:
    found = re.search(r"midi in .*", hud)
    return found.group(0) if found else ""


def test_a_cc_moves_a_parameter_and_the_picture_changes(tmp_path, display):
    show = midi_show(tmp_path, [{"midi": {"cc": 70, "channel": 1}, "to": "drift.scale", "out": [2.0, 30.0]}])
    shots = tmp_path / "shots"
    with Player("pads") as pads, LiveShow(show, "--screenshots", str(shots), "--screenshot-every", "0.1",
                                          env=display) as run:
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (6.0, False) and "midi in 0" in hud, START_TIMEOUT)
        assert wait_for(lambda: newest_picture(shots) is not None, START_TIMEOUT), run.errors()
        before = newest_picture(shots)
        pads.cc(70, 127)
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (30.0, True))
        assert wait_for(lambda: np.abs(newest_picture(shots) - before).mean() > 10, CHANGE_TIMEOUT), \
            "the picture did not change with the scale"
        assert run.stop() == 0, run.errors()
    assert run.stats()["midi"]["events"] >= 1


def test_midi_learn_writes_a_mapping_that_check_accepts_and_the_running_show_uses(tmp_path, display):
    show = midi_show(tmp_path, [])
    with Player("pads") as pads, LiveShow(show, env=display) as run:
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (6.0, False), START_TIMEOUT)
        SimpleUDPClient("127.0.0.1", osc_port(run)).send_message("/latentstage/learn", "drift.scale")
        run.wait_for_hud(lambda hud: "midi learn: move a control for drift.scale" in hud)
        pads.cc(21, 64, channel=3)
        assert wait_for(lambda: "{midi: {cc: 21, channel: 3}, to: drift.scale}" in show.read_text(), CHANGE_TIMEOUT)
        run.wait_for_hud(lambda hud: "midi learn" not in hud)
        # the hot reload takes the new mapping: the same control now moves the scale over its whole range
        pads.cc(21, 127, channel=3)
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (64.0, True))
        pads.cc(21, 0, channel=3)
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (0.1, True))
        assert run.stop() == 0, run.errors()
    checked = latentstage("check", str(show))
    assert checked.returncode == 0 and "ok, 1 scenes" in checked.stdout, checked.stderr


def test_the_l_key_arms_learn_for_the_parameter_touched_last_by_osc(tmp_path, display):
    show = midi_show(tmp_path, [])
    with Player("pads") as pads, LiveShow(show, env=display) as run:
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (6.0, False), START_TIMEOUT)
        SimpleUDPClient("127.0.0.1", osc_port(run)).send_message("/latentstage/cppn/scale", 12.0)  # touched
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (12.0, True))
        press(display["DISPLAY"], "l")
        run.wait_for_hud(lambda hud: "midi learn: move a control for drift.scale" in hud)
        pads.note(36, 100)
        assert wait_for(lambda: "{midi: {note: 36, channel: 1}, to: drift.scale}" in show.read_text(), CHANGE_TIMEOUT)
        pads.note(36, 0)
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (0.1, True))  # the reloaded show: released pad, bottom
        assert run.stop() == 0, run.errors()


def test_midi_learn_from_the_command_line_with_no_show_running(tmp_path, jack_server):
    import subprocess

    from tests.conftest import installed_command

    show = midi_show(tmp_path, [{"midi": {"cc": 21, "channel": 1}, "to": "drift.speed"}])
    with Player("pads") as pads:
        learning = subprocess.Popen([installed_command(), "midi", "learn", str(show), "drift.scale", "--timeout", "60"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # play the knob until the command has heard it (it opens the device first)
        assert wait_for(lambda: pads.cc(21, 90) or learning.poll() is not None, 90.0, 0.2)
        out, errors = learning.communicate(timeout=30)
    assert learning.returncode == 0, errors
    assert "the control moved now drives drift.scale" in out
    # learned again, the same control moves from drift.speed to drift.scale: one mapping, replaced in place
    assert "{midi: {cc: 21, channel: 1}, to: drift.scale}" in show.read_text()
    assert "drift.speed" not in show.read_text()
    assert latentstage("check", str(show)).returncode == 0
    refused = latentstage("midi", "learn", str(show), "drift.nothing", "--timeout", "1")
    assert refused.returncode == 2 and "midi learn: 'drift.nothing' is not a parameter" in refused.stderr, \
        refused.stderr


def test_feedback_reaches_the_devices_own_port(tmp_path, display):
    show = midi_show(tmp_path, [{"midi": {"cc": 70, "channel": 1}, "to": "drift.scale", "out": [2.0, 10.0]}],
                     feedback="pads feedback")
    with Player("pads") as pads, LiveShow(show, env=display) as run:
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (6.0, False), START_TIMEOUT)
        assert wait_for(lambda: [0xB0, 70, 64] in pads.heard(), CHANGE_TIMEOUT), pads.heard()  # 6 is half of 2..10
        SimpleUDPClient("127.0.0.1", osc_port(run)).send_message("/latentstage/drift/scale", 10.0)
        assert wait_for(lambda: [0xB0, 70, 127] in pads.heard(), CHANGE_TIMEOUT), pads.heard()
        assert run.stop() == 0, run.errors()


def test_a_device_unplugged_and_plugged_back_is_opened_again(tmp_path, display):
    show = midi_show(tmp_path, [{"midi": {"cc": 70}, "to": "drift.scale", "out": [2.0, 10.0]}])
    with Player("pads") as pads, LiveShow(show, env=display) as run:
        run.wait_for_hud(lambda hud: "midi in" in hud and "absent" not in hud, START_TIMEOUT)
        pads.command(unplug=True)
        run.wait_for_hud(lambda hud: "MIDI 'pads' absent" in hud)
        pads.command(plug=True)
        run.wait_for_hud(lambda hud: "midi in" in hud and "absent" not in hud)
        pads.cc(70, 0)
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (2.0, True))
        assert run.stop() == 0, run.errors()
    assert "MIDI 'pads' (pads-player:pads) went away" in run.errors()


def test_a_flood_and_garbage_are_counted_and_the_show_goes_on(tmp_path, display):
    show = midi_show(tmp_path, [{"midi": {"cc": 70}, "to": "drift.scale", "out": [2.0, 10.0]}])
    with Player("pads") as pads, LiveShow(show, env=display) as run:
        run.wait_for_hud(lambda hud: "midi in 0" in hud, START_TIMEOUT)
        pads.command(flood=[[0xB0, 71], 4 * QUEUE_LIMIT])
        for garbage in ([0xF0, 0x7E, 0x7F, 0x06, 0x01, 0xF7], [0xF0, 1, 2], [0xB0, 70], [0xF7], [70, 64], [0xF4],
                        [0xF5, 1]):
            pads.send(*garbage)
        pads.cc(70, 127)
        hud = run.wait_for_hud(lambda hud: scale_on_hud(hud) == (10.0, True))
        assert re.search(r"malformed [1-9]", midi_line(hud)), midi_line(hud)
        assert run.stop() == 0, run.errors()
    counts = run.stats()["midi"]
    assert counts["received"] > QUEUE_LIMIT and counts["malformed"] >= 3 and counts["ignored"] >= 1, counts
    assert run.stats()["fps"] > 5, run.stats()
    assert "malformed bytes" in run.errors()


def test_a_night_played_on_midi_replays_to_the_same_frames(tmp_path, display):
    """`run --record-events` journals MIDI's raw inputs and writes like OSC's; `rehearse --replay` (no
    device at all) gives the screenshots' frames again, bit for bit."""
    from tests.acceptance.test_event_replay import entries, same_as_replayed

    show = midi_show(tmp_path, [{"midi": {"cc": 70, "channel": 1}, "to": "drift.scale", "out": [2.0, 10.0]},
                                {"midi": {"note": 36}, "to": "mirror"}])
    log, shots = tmp_path / "night.log", tmp_path / "shots"
    with Player("pads") as pads, LiveShow(show, "--record-events", str(log), "--screenshots", str(shots),
                                          "--screenshot-every", "0.1", env=display) as run:
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (6.0, False), START_TIMEOUT)
        for step in range(5):  # a fader pushed up, each move in the log before the next
            pads.cc(70, 30 * step)
            assert wait_for(lambda step=step: sum(e.get("name") == "midi:pads/cc/1/70" for e in entries(log)) > step)
        pads.note(36, 100)  # the mirror while the pad is held
        run.wait_for_hud(lambda hud: scale_on_hud(hud) == (round(2.0 + 8.0 * 120 / 127, 2), True) and "mirror on" in hud)
        taken = len(list(shots.glob("*.png")))
        assert wait_for(lambda: len(list(shots.glob("*.png"))) >= max(taken + 5, 10), 60)  # a busy machine shoots fewer
        assert run.stop() == 0, run.errors()
    recorded = entries(log)
    assert any(e["event"] == "control" and e["source"] == "midi" for e in recorded)
    replay = latentstage("rehearse", str(show), "--replay", str(log), "-o", str(tmp_path / "replay.mp4"),
                         "--frames", str(tmp_path / "replayed"))
    assert replay.returncode == 0, replay.stderr
    assert same_as_replayed(tmp_path, recorded) >= 10
    assert len({Image.open(path).tobytes() for path in shots.glob("*.png")}) >= 3, "the night moved"


def test_midi_list_names_the_ports_with_their_indexes_or_says_what_to_start(jack_server):
    with Player("list pads"):
        listed = latentstage("midi", "list")
    assert listed.returncode == 0, listed.stderr
    assert "MIDI through JACK" in listed.stdout
    inputs, outputs = listed.stdout.split("outputs (midi.feedback")
    assert re.search(r"^  \d+  list pads-player:list pads$", inputs, re.MULTILINE), listed.stdout
    assert re.search(r"^  \d+  list pads-player-feedback:list pads feedback$", outputs, re.MULTILINE), listed.stdout
    nothing = latentstage("midi", "list", env={"JACK_DEFAULT_SERVER": "no-server-here"})
    assert nothing.returncode == 2
    assert nothing.stderr.strip() == ("latentstage: no MIDI here: no JACK server is running "
                                      "(start one: jackd -d dummy, or with your sound card)")
