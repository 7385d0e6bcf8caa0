"""Acceptance: `latentstage run SHOW --record-events LOG`, then `latentstage rehearse SHOW --replay LOG`.

README promise checked here: "every control event (OSC, keys, GO, the sound's features and beats, cue
firings, reloads) goes into an append-only log as it happens, and `rehearse --replay LOG` renders the
night again, frame for frame". The live run hears a drum loop through a real PulseAudio null sink, takes
fader moves and a GO over real UDP, and saves screenshots of its window (Xvfb); the replay's frames at
the screenshots' frames must be the same pictures, bit for bit, crossfades included.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import yaml
from PIL import Image
from pythonosc.udp_client import SimpleUDPClient

from tests.acceptance.test_live_osc import osc_port
from tests.acceptance.test_window import START_TIMEOUT, LiveShow, cppn_scene, scene_on_screen, write_show
from tests.conftest import latentstage, wait_for


def night(folder: Path) -> Path:
    """A cue list over two CPPN scenes, a fader on the first one's zoom and the bass on its speed."""
    return write_show(
        folder, [cppn_scene("drift"), cppn_scene("bloom", "cppn-sine.onnx", 2, 4.0)],
        audio={"kind": "input", "device": "pulse"},
        cues=[{"at": 0, "scene": "drift"}, {"go": True, "scene": "bloom", "fade": 0.5}],
        mappings=[{"osc": "/1/fader1", "to": "drift.scale", "out": [2.0, 10.0]},
                  {"audio": "bass", "to": "drift.speed", "out": [0.5, 4.0]}])


def entries(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_a_recorded_night_replays_to_the_same_frames(tmp_path, pulse_sink, xvfb_display):
    from tests.live.inputs.test_audio import RATE, write_wav
    from tests.live.inputs.test_audio_beats import drum_loop

    show, log = night(tmp_path), tmp_path / "night.log"
    track = write_wav(tmp_path / "loop.wav", drum_loop({"kick": 0.8, "hat": 0.3}, seconds=20.0, rate=RATE))
    player = None
    with LiveShow(show, "--record-events", str(log), "--screenshots", str(tmp_path / "shots"),
                  "--screenshot-every", "0.1", env={**pulse_sink, "DISPLAY": xvfb_display}) as run:
        try:
            run.wait_for_hud(lambda hud: "audio ok" in hud, START_TIMEOUT)
            player = subprocess.Popen(["paplay", "--device=latentstage_test", str(track)], env=pulse_sink)
            run.wait_for_hud(lambda hud: float(re.search(r"bass (\d+\.\d+)", hud)[1]) > 0.1)  # the loop is heard
            desk = SimpleUDPClient("127.0.0.1", osc_port(run))
            for step in range(6):  # a fader pushed up, each move seen on the HUD before the next
                desk.send_message("/1/fader1", step / 5)
                assert wait_for(lambda step=step: sum(e.get("name") == "osc:/1/fader1" for e in entries(log)) > step)
            desk.send_message("/latentstage/go", [])
            run.wait_for_hud(lambda hud: "cue list done" in hud)
            assert wait_for(lambda: len(list((tmp_path / "shots").glob("*.png"))) >= 25, 60)
            assert run.stop() == 0, run.errors()
        finally:
            if player is not None:
                player.kill()
                player.wait()

    recorded = entries(log)
    assert recorded[0]["event"] == "start" and recorded[-1]["event"] == "stop"
    frames = [entry for entry in recorded if entry["event"] == "frame"]
    assert any(entry.get("audio", [0])[0] > 0.1 for entry in frames), "the loop's level was logged"
    assert sum(entry["event"] == "control" and entry["source"].startswith("osc") for entry in recorded) >= 1  # GO
    assert [entry["scene"] for entry in recorded if entry["event"] == "cue"] == ["drift", "bloom"]

    replay = latentstage("rehearse", str(show), "--replay", str(log), "-o", str(tmp_path / "replay.mp4"),
                         "--frames", str(tmp_path / "replayed"))
    assert replay.returncode == 0, replay.stderr
    assert same_as_replayed(tmp_path, recorded) >= 25
    pictures = {Image.open(path).tobytes() for path in (tmp_path / "shots").glob("*.png")}
    assert len(pictures) >= 10, "the night moved: the screenshots are different pictures"


def same_as_replayed(folder: Path, recorded: list[dict]) -> int:
    """How many screenshots the replay in `folder` gave again, bit for bit (fails on the first that differs)."""
    shots = [entry for entry in recorded if entry["event"] == "screenshot"]
    for shot in shots:
        live = np.asarray(Image.open(folder / "shots" / shot["file"]))
        again = np.asarray(Image.open(folder / "replayed" / f"frame-{shot['frame']:06d}.png"))
        assert np.array_equal(live, again), f"{shot['file']} (frame {shot['frame']}) is not the replay's"
    return len(shots)


def test_a_show_file_edited_during_the_night_is_edited_in_the_replay_at_the_same_frame(tmp_path):
    show = write_show(tmp_path, [cppn_scene("drift"), cppn_scene("bloom", "cppn-sine.onnx", 2, 4.0)],
                      cues=[{"at": 0, "scene": "drift"}])
    log, shots = tmp_path / "night.log", tmp_path / "shots"
    with LiveShow(show, "--headless", "--record-events", str(log), "--screenshots", str(shots),
                  "--screenshot-every", "0.1") as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift", START_TIMEOUT)
        desk = SimpleUDPClient("127.0.0.1", osc_port(run))
        desk.send_message("/latentstage/drift/scale", 3.0)  # a performer's value: it carries over the edit
        run.wait_for_hud(lambda hud: "drift: scale 3.00*" in hud)
        edited = yaml.safe_load(show.read_text())
        edited["cues"][0]["fade"] = 0.6
        edited["cues"].append({"at": 0, "scene": "bloom", "fade": 0.6})  # due already: fades to bloom at once
        show.write_text(yaml.safe_dump(edited, sort_keys=False))
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "bloom" and "show file reloaded 1" in hud)
        desk.send_message("/latentstage/scene", "drift")  # on the new show's control bus
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift")
        taken = len(list(shots.glob("*.png")))
        assert wait_for(lambda: len(list(shots.glob("*.png"))) >= taken + 10, 60)  # through the fade back
        assert run.stop() == 0, run.errors()

    recorded = entries(log)
    reloads = [entry for entry in recorded if entry["event"] == "reload"]
    assert len(reloads) == 1 and "bloom" in reloads[0]["show_text"]
    assert {entry["bus"] for entry in recorded if entry["event"] == "control"} == {0, 1}
    replay = latentstage("rehearse", str(show), "--replay", str(log), "-o", str(tmp_path / "replay.mp4"),
                         "--frames", str(tmp_path / "replayed"))
    assert replay.returncode == 0, replay.stderr
    assert "as it was that night" in replay.stdout  # the file now is the edited one; the night began without it
    assert same_as_replayed(tmp_path, recorded) >= 10  # the wait above saw ten after the switch back


def test_an_event_log_cut_short_still_replays_and_garbage_is_refused_in_one_line(tmp_path):
    show = write_show(tmp_path, [cppn_scene("drift")], cues=[{"at": 0, "scene": "drift"}])
    log = tmp_path / "night.log"
    with LiveShow(show, "--headless", "--record-events", str(log)) as run:
        run.wait_for_hud(lambda hud: "scene drift" in hud, START_TIMEOUT)
        assert wait_for(lambda: log.read_text().count('"event":"frame"') >= 10)
        assert run.stop() == 0, run.errors()
    text = log.read_text()
    frames = text.count('"event":"frame"')
    log.write_text(text[:text.rindex('"event":"frame"') + 10])  # killed while writing the last frame's line
    replay = latentstage("rehearse", str(show), "--replay", str(log), "-o", str(tmp_path / "cut.mp4"))
    assert replay.returncode == 0, replay.stderr
    assert f"wrote {tmp_path / 'cut.mp4'}: {frames - 1} frames" in replay.stdout

    problems = {
        "garbage.log": b"\x89PNG\r\n\x1a\n\x00\x00",
        "not-json.log": b"hello\n",
        "no-start.log": b'{"event":"frame","frame":0,"t":0.0,"controls":0}\n',
        "bad-frame.log": log.read_bytes().splitlines(keepends=True)[0] + b'{"event":"frame","t":"soon"}\n',
        "empty.log": b"",
    }
    for name, content in problems.items():
        (tmp_path / name).write_bytes(content)
        refused = latentstage("rehearse", str(show), "--replay", str(tmp_path / name), "-o", str(tmp_path / "x.mp4"))
        lines = refused.stderr.strip().splitlines()
        assert refused.returncode == 2 and len(lines) == 1 and name in lines[0], (name, refused.stderr)
        assert "Traceback" not in refused.stderr
    killed = tmp_path / "killed.log"  # SIGKILL mid-run: no stop line, maybe a torn one; what was written replays
    with LiveShow(show, "--headless", "--record-events", str(killed)) as run:
        assert wait_for(lambda: killed.exists() and killed.read_text().count('"event":"frame"') >= 10, START_TIMEOUT)
        run.process.kill()
        run.wait_for_exit()
    assert '"event":"stop"' not in killed.read_text()
    replay = latentstage("rehearse", str(show), "--replay", str(killed), "-o", str(tmp_path / "killed.mp4"))
    assert replay.returncode == 0 and "frames" in replay.stdout, replay.stderr
    mixed = latentstage("rehearse", str(show), "--replay", str(log), "--osc-script", str(log), "-o", "x.mp4")
    assert mixed.returncode == 2 and "leave out --osc-script" in mixed.stderr
    unwritable = latentstage("run", str(show), "--headless", "--seconds", "1", "--record-events",
                             str(tmp_path / "no" / "such" / "folder.log"))
    assert unwritable.returncode == 2 and "cannot write the event log" in unwritable.stderr
    assert yaml.safe_load(show.read_text())["scenes"][0]["name"] == "drift"  # the show file is left as it was
