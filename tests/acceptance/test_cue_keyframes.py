"""Acceptance: a cue moves a CPPN scene's latent to a named keyframe over its fade, through `latentstage
rehearse --frames` as a designer runs it.

README promise checked here ("Shows"): `{scene: drift, keyframe: storm, fade: 1}` glides the scene on screen
from where its walk is to the keyframe named storm, with no crossfade of pixels; the picture ends on the
keyframe's own render; a rehearsal gives the same frames twice.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import yaml

from live.inference.engine import Engine, EngineConfig
from live.scenes.contract import Moment, defaults
from live.scenes.cppn import CppnScene, CppnSceneConfig
from tests.acceptance.test_run_options import rehearsed
from tests.conftest import REPO

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


def storm_render() -> np.ndarray:
    """Keyframe 3 of the scene's walk drawn here, in this process: where the walk is after 3 periods at speed 1."""
    scene = CppnScene("drift", Engine.load(MODEL, EngineConfig(providers="cpu")), CppnSceneConfig(**SCENE))
    return scene.render(Moment(3 * SCENE["period"], defaults(scene.parameters)), WIDTH, HEIGHT).copy()


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
