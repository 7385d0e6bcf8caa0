"""Acceptance: a cue moves a CPPN scene's latent to a named keyframe over its fade, through `latentstage
rehearse --frames` as a designer runs it.

README promise checked here ("Shows"): `{scene: drift, keyframe: storm, fade: 1}` glides the scene on screen
from where its walk is to the keyframe named storm, with no crossfade of pixels; the picture ends on the
keyframe's own render; a rehearsal gives the same frames twice; live, a GO over real UDP does the same.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import yaml
from PIL import Image
from pythonosc.udp_client import SimpleUDPClient

from live.inference.engine import Engine, EngineConfig
from live.scenes.contract import Moment, defaults
from live.scenes.cppn import CppnScene, CppnSceneConfig
from tests.acceptance.test_live_osc import osc_port
from tests.acceptance.test_run_options import rehearsed
from tests.acceptance.test_window import START_TIMEOUT, LiveShow, write_show
from tests.conftest import REPO, wait_for

MODEL = REPO / "models" / "cppn-astronaut.onnx"
SCENE = {"seed": 4, "keyframes": 5, "period": 4.0, "wander": 0.5, "named_keyframes": {"storm": 3}}
WIDTH, HEIGHT, FPS = 64, 36, 30


def show(folder: Path, name: str, cues: list[dict]) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "output": {"width": WIDTH, "height": HEIGHT, "fps": FPS},
        "scenes": [{"name": "drift", "kind": "cppn", "model": str(MODEL), "cppn": {**SCENE, "backend": "onnx"}}],
        "cues": cues}))
    return path


def storm_render(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """Keyframe 3 of the scene's walk drawn here, in this process: where the walk is after 3 periods at speed 1."""
    scene = CppnScene("drift", Engine.load(MODEL, EngineConfig(providers="cpu")), CppnSceneConfig(**SCENE))
    return scene.render(Moment(3 * SCENE["period"], defaults(scene.parameters)), width, height).copy()


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_a_keyframe_cue_glides_the_picture_to_the_keyframe_s_render(tmp_path):
    # at 1 s the latent glides from where the walk is to storm over 1 s, and holds there (speed 0)
    to_storm = [{"at": 0, "scene": "drift"},
                {"at": 1.0, "scene": "drift", "keyframe": "storm", "fade": 1.0, "curve": "linear", "set": {"speed": 0}}]
    gliding = rehearsed(show(tmp_path, "glide", to_storm), "glide", 2.5)
    again = rehearsed(show(tmp_path, "glide", to_storm), "again", 2.5)
    drifting = rehearsed(show(tmp_path, "drift", to_storm[:1]), "drift", 2.5)
    storm = storm_render()
    assert len(gliding) == len(drifting) == round(2.5 * FPS)
    assert all(np.array_equal(a, b) for a, b in zip(gliding, again)), "the same rehearsal gave other frames"
    assert all(np.array_equal(a, b) for a, b in zip(gliding[:30], drifting[:30])), "before the cue: the walk"
    # on the way: ever nearer the storm keyframe's picture, and away from where the walk would have gone
    on_the_way = [distance(frame, storm) for frame in gliding[30:61:6]]
    assert all(later < earlier for earlier, later in itertools.pairwise(on_the_way)), on_the_way
    assert distance(gliding[45], storm) > 2 and distance(gliding[45], drifting[45]) > 2, "half way: between"
    # at the end of the fade and after it: the keyframe's own render, held
    assert all(distance(frame, storm) < 1.0 for frame in gliding[60:]), [distance(f, storm) for f in gliding[60:]]
    assert distance(drifting[60], storm) > 5 * max(distance(frame, storm) for frame in gliding[60:]) + 1


def test_live_a_go_over_udp_sends_the_latent_to_the_keyframe_and_holds_it(tmp_path):
    cues = [{"at": 0, "scene": "drift"},
            {"go": True, "scene": "drift", "keyframe": "storm", "fade": 0.5, "set": {"speed": 0}}]
    show = write_show(tmp_path, [{"name": "drift", "kind": "cppn", "model": str(MODEL), "cppn": SCENE}],
                      cues=cues, window={"width": 160, "height": 90, "hud": False})
    storm, shots = storm_render(160, 90), tmp_path / "shots"

    def newest() -> np.ndarray | None:
        """The newest screenshot written whole (the one after it may be half written still)."""
        taken = sorted(shots.glob("frame-*.png"))
        return np.asarray(Image.open(taken[-2]).convert("RGB")) if len(taken) > 1 else None

    with LiveShow(show, "--headless", "--screenshots", str(shots), "--screenshot-every", "0.1") as run:
        run.wait_for_hud(lambda hud: "standby: cue 2 (GO) -> drift, keyframe storm" in hud, START_TIMEOUT)
        assert wait_for(lambda: newest() is not None, START_TIMEOUT), run.errors()
        assert distance(newest(), storm) > 20, "the walk started on the keyframe already"
        SimpleUDPClient("127.0.0.1", osc_port(run)).send_message("/latentstage/go", [])
        run.wait_for_hud(lambda hud: "cue list done" in hud)
        arrived = wait_for(lambda: (shot := newest()) is not None and distance(shot, storm) < 1.0, timeout=30)
        last = newest()
        assert run.stop() == 0, run.errors()
    assert arrived, f"the picture never reached the keyframe's: {distance(last, storm):.1f} levels away"
