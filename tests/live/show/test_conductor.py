"""A show's controls (README "Control: OSC, audio, keys"; `rehearse --audio`, `--osc-script`): music,
OSC scripts and real OSC packets changing what is rendered; no microphone is a normal case."""
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml
from PIL import Image
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import build_msg
from pythonosc.udp_client import SimpleUDPClient

from live.show.conductor import Conductor
from live.show.schema import load_show
from live.show.stage import Stage
from tests.conftest import REPO, run_cli, wait_for
from tests.live.inputs.test_audio import click_track, write_wav
from tests.live.show.test_rehearsal import rendered_frames

VJ_SHOW = REPO / "shows" / "vj.yaml"
WAIT = 30.0  # seconds to wait for something that must come; only a failing test waits that long


def rehearse_vj(tmp_path: Path, name: str, *extra: str) -> list[np.ndarray]:
    frames = tmp_path / name
    result = run_cli("rehearse", str(VJ_SHOW), "-o", str(tmp_path / f"{name}.mp4"), "--size", "160x90",
                     "--seconds", "3", "--frames", str(frames), *extra)
    assert result.returncode == 0, result.stderr
    pictures = rendered_frames(frames)
    assert len(pictures) == 90, len(pictures)  # 3 s at the show's 30 fps: every frame, or zip() would hide it
    return pictures


def test_the_music_drives_the_vj_show_and_rehearses_identically(tmp_path):
    track = write_wav(tmp_path / "clicks.wav", click_track(128.0))
    silent = rehearse_vj(tmp_path, "silent")
    with_music = rehearse_vj(tmp_path, "music", "--audio", str(track))
    again = rehearse_vj(tmp_path, "again", "--audio", str(track))
    assert all(np.array_equal(a, b) for a, b in zip(with_music, again))
    # bass speeds the walk and onsets kick the latent: the pictures leave the silent run's
    differences = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(silent, with_music)]
    assert differences[0] < 1.0 and max(differences[-30:]) > 5.0, differences


def test_an_osc_script_cuts_scenes_and_mirrors_in_rehearsal(tmp_path):
    cut = [{"at": 0.0, "address": "/latentstage/fade", "args": [0.0]},
           {"at": 1.0, "address": "/latentstage/scene", "args": ["bloom"]}]
    (tmp_path / "cut.yaml").write_text(yaml.safe_dump(cut))
    (tmp_path / "mirror.yaml").write_text(yaml.safe_dump(cut + [{"at": 2.0, "address": "/latentstage/mirror",
                                                                 "args": [1]}]))
    plain = rehearse_vj(tmp_path, "plain")
    cutting = rehearse_vj(tmp_path, "cut", "--osc-script", str(tmp_path / "cut.yaml"))
    mirroring = rehearse_vj(tmp_path, "mirror", "--osc-script", str(tmp_path / "mirror.yaml"))
    assert np.array_equal(plain[29], cutting[29])  # before the first message nothing differs
    assert np.abs(plain[31].astype(int) - cutting[31].astype(int)).mean() > 10  # cut to bloom at 1 s
    assert np.array_equal(cutting[59], mirroring[59])  # mirror comes at 2 s
    flipped = np.abs(mirroring[75].astype(int) - cutting[75][:, ::-1].astype(int)).mean()
    assert flipped < 1.0 < np.abs(mirroring[75].astype(int) - cutting[75].astype(int)).mean()


def vj_controls() -> tuple[Stage, Conductor]:
    show = load_show(VJ_SHOW)
    show.osc.port = 0  # any free port
    stage = Stage.build(show, rehearsal=True, warm_up=False)
    return stage, Conductor.build(show, stage.scenes)


def test_real_osc_packets_move_the_director(tmp_path):
    stage, controls = vj_controls()
    director = stage.director
    controls.start()
    try:
        client = SimpleUDPClient(*controls.osc.address)
        client.send_message("/latentstage/fade", 0.0)
        client.send_message("/latentstage/scene/next", [])
        client.send_message("/1/fader1", 0.5)  # a controller's own fader, mapped to fade
        assert wait_for(lambda: controls.osc.applied == 3, timeout=WAIT)
        controls.update(0.5, director)
        zoom = controls.moment(stage.scenes[1], 0.5).values["scale"]
    finally:
        controls.stop()
    assert director.composition_at(0.5).scene == 1  # scene.next went through the bus to the director
    assert controls.bus.get("scene") == "bloom"  # and the bus says what is on screen now
    assert controls.bus.get("fade") == 4.0  # /1/fader1 at 0.5 mapped onto fade's 0..8
    assert 3.0 <= zoom <= 9.0 and controls.bus.get("bloom.scale") == 4.0  # the LFO moves it; the base stays


def test_queries_and_feedback_name_the_scene_on_screen_after_next_and_cues(tmp_path):
    """A controller's labels must follow scene.next and cues; and going back by name must work."""
    stage, controls = vj_controls()
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(WAIT)
    controls.start()
    try:
        client = SimpleUDPClient(*controls.osc.address)
        client.send_message("/1/push1", 1.0)  # mapped to scene.next
        assert wait_for(lambda: controls.bus.input("osc:/1/push1") == 1.0, timeout=WAIT)
        controls.update(1.0, stage.director)
        assert controls.bus.get("scene") == "bloom"
        listener.sendto(build_msg("/latentstage/query", "scene").dgram, controls.osc.address)
        reply = OscMessage(listener.recv(65536))
        assert (reply.address, reply.params) == ("/latentstage/scene", ["bloom"])
        client.send_message("/latentstage/scene", "pulse")  # back to the first scene, by name
        assert wait_for(lambda: controls.bus.get("scene") == "pulse", timeout=WAIT)
        controls.update(2.0, stage.director)
        assert stage.director.composition_at(2.0).scene == 0
    finally:
        controls.stop()
        listener.close()


def test_the_vj_show_runs_live_without_a_microphone(tmp_path):
    """No sound server runs for this process: the live input must degrade to silence with a note on
    the HUD, not stop the show, which keeps drawing new pictures after the note."""
    show = tmp_path / "vj.yaml"
    show.write_text(VJ_SHOW.read_text().replace("port: 9000", "port: 0")
                    .replace("../models/", f"{REPO / 'models'}/"))
    status, stats, shots = tmp_path / "status.txt", tmp_path / "stats.json", tmp_path / "shots"
    run = subprocess.Popen([sys.executable, "-m", "live", "run", str(show), "--headless", "--seconds", "600",
                            "--size", "320x180", "--status-file", str(status), "--stats-json", str(stats),
                            "--screenshots", str(shots), "--screenshot-every", "0.25"],
                           cwd=REPO, env={**os.environ, "PULSE_SERVER": "unix:/nonexistent"},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: status.exists() and "audio no sound" in status.read_text(), timeout=120)
        hud = status.read_text()
        assert "health ok" in hud and "scene pulse" in hud, hud
        noted = sorted(shots.glob("*.png"))
        assert wait_for(lambda: len(list(shots.glob("*.png"))) >= len(noted) + 3, timeout=120)  # still going
        run.send_signal(signal.SIGTERM)
        _, errors = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 0, errors
    assert json.loads(stats.read_text())["new_frames"] > 0
    pictures = sorted(shots.glob("*.png"))
    after = np.asarray(Image.open(pictures[-1]), dtype=int)
    at_note = np.asarray(Image.open(noted[-1] if noted else pictures[0]), dtype=int)
    assert after.std() > 10 and np.abs(after - at_note).mean() > 0, "the picture stopped moving without sound"


def test_a_cue_on_a_beat_handed_over_after_the_frame_it_falls_before_still_fires_and_sets_its_values(tmp_path):
    """MIDI clock's beats come through JACK's cycle: one can reach the show a frame after its own time. The cue
    waiting for it fires at that beat, and the frame that learns of it reports it (event log, replay) and sets
    its values, though the beat is earlier than the frame before. The beats here are a replay's, read back
    from a real event log line by line, as `rehearse --replay` reads them."""
    from live.inputs.audio_analysis import SILENCE
    from live.show.event_log import RecordedBeats, RecordedFrame
    from live.show.tempo import Beat

    model = REPO / "models" / "cppn-tanh.onnx"
    path = tmp_path / "show.yaml"
    path.write_text(yaml.safe_dump({
        "scenes": [{"name": "drift", "kind": "cppn", "model": str(model)}],
        "tempo": {"source": "midi", "midi_in": "tr", "fallback": ["fixed"], "bpm": 90},
        "cues": [{"at": 0, "scene": "drift"},
                 {"go": True, "scene": "drift", "quantise": "beat", "set": {"scale": 3.0}}]}))
    show = load_show(path)
    stage = Stage.build(show, rehearsal=True, warm_up=False)
    beats = RecordedBeats(path)
    controls = Conductor.build(show, stage.scenes, rehearsal=True, tempo_for=lambda config: beats)
    fired = []
    for t, heard in ((1.0, ()), (1.0 + 1 / 30, ()), (1.0 + 2 / 30, (Beat(1.02, False),)), (1.1, ())):
        beats.hear(RecordedFrame(0, t, 0, SILENCE, heard))
        if t == 1.0:
            controls.bus.set("go", source="key")
        controls.update(t, stage.director)
        fired += [(at, cue.scene) for at, cue in controls.fired]
    assert fired == [(0.0, "drift"), (1.02, "drift")]  # the GO cue on the late beat, reported once
    assert controls.bus.get("drift.scale") == 3.0
