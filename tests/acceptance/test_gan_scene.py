"""Acceptance: a `gan` scene through `latentstage run` and `rehearse`, as a performer and a designer use it.

README promises checked here ("Shows", the gan kind): live, in a real window under Xvfb, the music through
a PulseAudio null sink moves the walk (a mapping from the level to gan.speed; silence holds the picture);
truncation and speed over real UDP; `rehearse` gives the same frames twice and a song moves them; a cue
glides the latent to a named keyframe and the picture ends on that keyframe's own render.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import yaml
from PIL import Image
from pythonosc.udp_client import SimpleUDPClient

from live.inference.engine import EngineConfig
from live.inference.gan_generator import GanGenerator
from live.scenes.contract import Moment, defaults
from live.scenes.gan import GanScene, GanSceneConfig
from tests.acceptance.test_live_osc import osc_port
from tests.acceptance.test_run_options import rehearsed
from tests.acceptance.test_window import START_TIMEOUT, LiveShow, write_show
from tests.conftest import wait_for
from tests.songs import groove, write_song

SCENE = {"seed": 3, "keyframes": 4, "period": 2.0, "named_keyframes": {"storm": 2}}
WIDTH, HEIGHT, FPS = 64, 36, 30
LEVEL_TO_SPEED = {"audio": "level", "to": "gan.speed", "out": [0.0, 4.0]}


def painter(model: Path, **settings) -> dict:
    return {"name": "painter", "kind": "gan", "model": str(model), "gan": {**SCENE, **settings}}


def rehearsal_show(folder: Path, name: str, model: Path, cues: list[dict] | None = None,
                   mappings: list[dict] | None = None) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "output": {"width": WIDTH, "height": HEIGHT, "fps": FPS}, "scenes": [painter(model)],
        "cues": cues or [{"at": 0, "scene": "painter"}], "mappings": mappings or []}))
    return path


def render_here(model: Path, t: float, width: int, height: int, **values) -> np.ndarray:
    """The scene's picture at t, drawn in this process."""
    scene = GanScene("painter", GanGenerator.load(model, EngineConfig(providers="cpu")), GanSceneConfig(**SCENE))
    return scene.render(Moment(t, {**defaults(scene.parameters), **values}), width, height).copy()


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def motion(frames: list[np.ndarray]) -> list[float]:
    return [distance(a, b) for a, b in zip(frames, frames[1:])]


def test_rehearse_gives_the_same_frames_twice_and_a_song_moves_the_walk(tmp_path, tiny_gan):
    song = write_song(tmp_path / "song.wav", groove(quiet_bars=0, loud_bars=2))
    show = rehearsal_show(tmp_path, "dance", tiny_gan, mappings=[LEVEL_TO_SPEED])
    first = rehearsed(show, "first", 2.0, "--audio", str(song))
    again = rehearsed(show, "again", 2.0, "--audio", str(song))
    silent = rehearsed(show, "silent", 2.0)
    assert len(first) == len(again) == 2 * FPS
    assert all(np.array_equal(a, b) for a, b in zip(first, again)), "the same rehearsal gave other frames"
    assert max(motion(silent)) == 0, "silence (speed 0) moved the picture"
    assert sum(motion(first)) > 20 * FPS * 0.1, motion(first)


def test_a_show_whose_sound_is_a_file_dances_to_it_and_its_preview_carries_it(tmp_path, tiny_gan):
    song = write_song(tmp_path / "song.flac", groove(quiet_bars=0, loud_bars=1))
    show = rehearsal_show(tmp_path, "own", tiny_gan, mappings=[LEVEL_TO_SPEED])
    text = yaml.safe_load(show.read_text())
    show.write_text(yaml.safe_dump({**text, "audio": {"kind": "file", "path": str(song)}}))
    frames = rehearsed(show, "own", 1.0)
    assert sum(motion(frames)) > 20 * FPS * 0.1, motion(frames)
    with av.open(str(tmp_path / "own.mp4")) as preview:
        assert [stream.type for stream in preview.streams] == ["video", "audio"]


def test_a_cue_glides_the_picture_to_the_named_keyframe(tmp_path, tiny_gan):
    cues = [{"at": 0, "scene": "painter"},
            {"at": 0.5, "scene": "painter", "keyframe": "storm", "fade": 1.0, "set": {"speed": 0}}]
    frames = rehearsed(rehearsal_show(tmp_path, "glide", tiny_gan, cues), "glide", 2.0)
    storm = render_here(tiny_gan, 2 * SCENE["period"], WIDTH, HEIGHT)  # keyframe 2 at speed 1
    before, midway = frames[14], frames[30]  # at 0.47 s, the walk's; at 1.0 s, half way along the glide
    assert distance(before, storm) > 5 and distance(midway, storm) > 1 and distance(midway, before) > 1
    # from the end of the fade (1.5 s) on: the keyframe's own render, held
    assert all(distance(frame, storm) < 1.0 for frame in frames[45:]), [distance(f, storm) for f in frames[45:]]


def screenshots(folder: Path) -> list[np.ndarray]:
    """The screenshots written whole (the newest may be half written), oldest first."""
    return [np.asarray(Image.open(path).convert("RGB")) for path in sorted(folder.glob("frame-*.png"))[:-1]]


def test_live_the_music_through_the_null_sink_moves_the_walk(tmp_path, tiny_gan, xvfb_display, pulse_sink):
    song = write_song(tmp_path / "song.wav", groove(quiet_bars=0, loud_bars=16))
    show = write_show(tmp_path, [painter(tiny_gan)], audio={"kind": "input", "device": "pulse"},
                      mappings=[LEVEL_TO_SPEED], window={"width": 160, "height": 90, "hud": False})
    shots = tmp_path / "shots"

    def still(count: int = 4) -> bool:
        taken = screenshots(shots)[-count:]
        return len(taken) == count and max(motion(taken)) == 0

    with LiveShow(show, "--screenshots", str(shots), "--screenshot-every", "0.1",
                  env={**pulse_sink, "DISPLAY": xvfb_display}) as run:
        run.wait_for_hud(lambda hud: "painter: speed 0.00" in hud, START_TIMEOUT)
        assert wait_for(still, START_TIMEOUT), "the silent sink left the walk moving"
        held = len(screenshots(shots))
        player = subprocess.Popen(["paplay", "--device=latentstage_test", str(song)], env=pulse_sink)
        try:
            run.wait_for_hud(lambda hud: "painter: speed 0.00" not in hud)
            moving = wait_for(lambda: len(screenshots(shots)) > held + 4 and max(motion(screenshots(shots)[held:])) > 2,
                              30.0)
        finally:
            player.kill()
            player.wait()
        assert run.stop() == 0, run.errors()
    assert moving, "the music never moved the picture"
    assert run.stats()["parameters"]["painter.speed"][1] > 0.5, run.stats()["parameters"]


def test_live_truncation_and_speed_over_udp(tmp_path, tiny_gan):
    show = write_show(tmp_path, [painter(tiny_gan)], window={"width": 160, "height": 90, "hud": False})
    shots = tmp_path / "shots"
    mean = render_here(tiny_gan, 0.0, 160, 90, truncation=0.0)  # psi 0: the mean picture wherever the walk is
    with LiveShow(show, "--headless", "--screenshots", str(shots), "--screenshot-every", "0.1") as run:
        run.wait_for_hud(lambda hud: "painter: speed 1.00  truncation 0.70" in hud, START_TIMEOUT)
        client = SimpleUDPClient("127.0.0.1", osc_port(run))
        client.send_message("/latentstage/gan/speed", 0.0)
        client.send_message("/latentstage/painter/truncation", 0.0)
        run.wait_for_hud(lambda hud: "painter: speed 0.00*  truncation 0.00*" in hud)  # * set by a controller
        arrived = wait_for(lambda: len(taken := screenshots(shots)) > 0 and distance(taken[-1], mean) < 1.0, 30.0)
        last = screenshots(shots)[-1]
        assert run.stop() == 0, run.errors()
    assert arrived, f"truncation 0 never showed the mean picture: {distance(last, mean):.1f} levels away"
    assert distance(mean, render_here(tiny_gan, 0.0, 160, 90)) > 5  # psi 0.7 looks otherwise
