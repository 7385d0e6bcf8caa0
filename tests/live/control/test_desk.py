"""The control desk in a show: music, OSC scripts and real OSC packets changing what is rendered."""
import json
import time
from pathlib import Path

import numpy as np
import yaml
from pythonosc.udp_client import SimpleUDPClient

from live.control.desk import Desk
from live.show.director import Director
from live.show.schema import load_show
from tests.conftest import REPO, run_cli
from tests.live.inputs.test_audio import click_track, write_wav
from tests.live.show.test_rehearse import rendered_frames

VJ_SHOW = REPO / "shows" / "vj.yaml"


def rehearse_vj(tmp_path: Path, name: str, *extra: str) -> list[np.ndarray]:
    frames = tmp_path / name
    result = run_cli("rehearse", str(VJ_SHOW), "-o", str(tmp_path / f"{name}.mp4"), "--size", "160x90",
                     "--seconds", "3", "--frames", str(frames), *extra)
    assert result.returncode == 0, result.stderr
    return rendered_frames(frames)


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


def test_real_osc_packets_move_the_director(tmp_path):
    show = load_show(VJ_SHOW)
    show.osc.port = 0  # any free port
    desk = Desk.build(show)
    director = Director(show)
    desk.start()
    try:
        client = SimpleUDPClient(*desk.osc.address)
        client.send_message("/latentstage/fade", 0.0)
        client.send_message("/latentstage/scene/next", [])
        client.send_message("/1/fader1", 0.5)  # a controller's own fader, mapped to fade
        deadline = time.monotonic() + 5.0
        while desk.osc.applied < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        drive = desk.drive_at(0.5, director)
    finally:
        desk.stop()
    assert director.composition_at(0.5).scene == 1  # scene.next went through the bus to the director
    assert desk.bus.get("fade") == 4.0  # /1/fader1 at 0.5 mapped onto fade's 0..8
    assert drive.scale is not None  # the LFO mapping drives the zoom


def test_the_vj_show_runs_live_without_a_microphone(tmp_path):
    # no sound server runs for this process: the live input must degrade to silence, not stop the show
    show = tmp_path / "vj.yaml"
    show.write_text(VJ_SHOW.read_text().replace("port: 9000", "port: 0")
                    .replace("../models/", f"{REPO / 'models'}/"))
    result = run_cli("run", str(show), "--headless", "--seconds", "4", "--size", "320x180",
                     "--stats-json", str(tmp_path / "stats.json"), env={"PULSE_SERVER": "unix:/nonexistent"})
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "stats.json").read_text())["new_frames"] > 10
