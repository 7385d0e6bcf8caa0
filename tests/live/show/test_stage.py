"""The stage's warm-up between frames: a live start shows its first frame before warming the other scenes.

Each scene not yet warmed up or rendered is warmed once, one per call between frames, in show order; the
scene on screen warms by rendering and is not warmed again; a warm-up that fails is a scene's failure on
the HUD, never the show's.
"""
from __future__ import annotations

import time

import yaml

from live.scenes.contract import Moment, SceneBase
from live.show.schema import load_show
from live.show.stage import Stage
from tests.conftest import REPO

SIZE = (64, 36)


def warmable_show(tmp_path, scenes: list[dict]):
    path = tmp_path / "show.yaml"
    path.write_text(yaml.safe_dump({"output": {"width": SIZE[0], "height": SIZE[1], "fps": 10},
                                    "scenes": scenes}))
    return load_show(path)


def cppn(name: str, model: str) -> dict:
    return {"name": name, "kind": "cppn", "model": str(REPO / "models" / model), "cppn": {"backend": "onnx"}}


def warmed(stage: Stage) -> list[str]:
    """The scenes whose engine has run at some size: warmed up (a CPU CPPN renders through its tiles,
    so only a warm-up runs its engine, at a few pixels)."""
    return [scene.name for scene in stage.scenes if scene.engine.input_shapes()]


def test_scenes_warm_up_one_between_frames_and_the_one_on_screen_by_rendering(tmp_path):
    show = warmable_show(tmp_path, [
        cppn("drift", "cppn-tanh.onnx"),
        {"name": "painted", "kind": "pipeline", "model": str(REPO / "models" / "style-cezanne-slim.onnx"),
         "source": {"kind": "pattern"}},
        cppn("bloom", "cppn-sine.onnx"),
    ])
    stage = Stage.build(show, rehearsal=True, warm_up=False)
    stage.warm_up_between_frames()
    stage.frame_at(0.0)  # drift, the first scene, on screen
    assert warmed(stage) == []
    stage.warm_up_next()
    assert warmed(stage) == ["painted"]
    assert stage.scenes[1].engine.input_shapes()[0]["image"][2:] == (SIZE[1], SIZE[0])  # at the render size
    stage.warm_up_next()
    assert warmed(stage) == ["painted", "bloom"]
    stage.warm_up_next()  # none left: drift warmed up by rendering
    assert warmed(stage) == ["painted", "bloom"] and stage.health == {}


def test_all_scenes_warm_up_before_the_first_frame_unless_asked_otherwise(tmp_path):
    show = warmable_show(tmp_path, [cppn("drift", "cppn-tanh.onnx"), cppn("bloom", "cppn-sine.onnx")])
    assert warmed(Stage.build(show, rehearsal=True)) == ["drift", "bloom"]


class FailsToWarmUp(SceneBase):
    """A scene whose model runs out of memory at the render size: its warm-up raises."""

    kind = "broken"
    namespace = ""
    PARAMETERS = ()
    parameters = ()
    standalone = False
    last_output = None

    def __init__(self, name: str):
        self.name = name

    def warm_up(self, width: int, height: int) -> None:
        raise MemoryError(f"cannot allocate {width}x{height}")

    def render(self, moment: Moment, width: int, height: int):
        raise AssertionError("never rendered here")


def test_a_warm_up_that_fails_between_frames_is_the_scene_s_problem_not_the_show_s(tmp_path):
    show = warmable_show(tmp_path, [cppn("drift", "cppn-tanh.onnx"), cppn("bloom", "cppn-sine.onnx")])
    built = Stage.build(show, rehearsal=True, warm_up=False)
    stage = Stage(show, [built.scenes[0], FailsToWarmUp("bloom")], built.idle, time.perf_counter)
    stage.warm_up_between_frames()
    stage.frame_at(0.0)
    stage.warm_up_next()
    assert stage.health == {"bloom": "MemoryError: cannot allocate 64x36"}
