"""The preview (live.show.preview) and the operator desk's cue panel (live.show.operator_desk).

The preview shows what GO (a cue list) or space (a timed show) brings on, as that scene renders alone with
the cue's values; rendering it between the program's frames changes none of the program's frames, bit for bit.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from live.scenes.contract import KeyframeMove, Moment, SceneContext, defaults
from live.scenes.kinds import build_scene
from live.show.conductor import Conductor
from live.show.director import Director
from live.show.operator_desk import cue_lines
from live.show.preview import Preview, upcoming
from live.show.schema import Show, ShowError, parse_show
from live.show.stage import Stage
from tests.conftest import REPO

FPS = 10
PREVIEW = (64, 36)  # (width, height) of the preview's pictures


def scene(name: str, model: str, seed: int, **cppn) -> dict:
    return {"name": name, "kind": "cppn", "model": str(REPO / "models" / model), "cppn": {"seed": seed, **cppn}}


def cue_list(tmp_path: Path, **fields) -> Show:
    """drift at 0; GO moves drift's latent to its keyframe `far`; GO to bloom (a still picture: one
    keyframe) with its scale set."""
    show = {"output": {"width": 96, "height": 54, "fps": FPS},
            "scenes": [scene("drift", "cppn-tanh.onnx", 1, named_keyframes={"far": 3}),
                       scene("bloom", "cppn-sine.onnx", 2, keyframes=1)],
            "cues": [{"at": 0, "scene": "drift"}, {"go": True, "scene": "drift", "keyframe": "far", "fade": 0.4},
                     {"go": True, "scene": "bloom", "fade": 0.3, "set": {"scale": 3.0}}], **fields}
    return parse_show(yaml.safe_dump(show), tmp_path / "show.yaml")


def performed(show: Show, frames: int, preview_every: int | None = None) -> tuple[list[np.ndarray], list]:
    """The program's frames of a rehearsal-like run with GO at frame 5, and the previews rendered every
    `preview_every` frames between them, a little later in show time as the preview's own thread would
    (None: no preview at all)."""
    stage = Stage.build(show, rehearsal=True)
    conductor = Conductor.build(show, stage.scenes, rehearsal=True)
    preview = Preview(stage, conductor, stage.clock, PREVIEW, fps=5.0) if preview_every else None
    shown, previews = [], []
    for index in range(frames):
        t = index / FPS
        if index == 5:
            conductor.bus.set("go", True, source="test")
        layers = conductor.step(stage, t)
        shown.append(np.array(layers.current, copy=True))
        if preview is not None and index % preview_every == 0:
            preview.on_screen = stage.scene_name(layers.composition.scene)
            previews.append((t + 0.03, preview.render(t + 0.03)))
    return shown, previews


def test_the_preview_changes_none_of_the_programs_frames(tmp_path):
    show = cue_list(tmp_path)
    alone, _ = performed(show, 12)
    with_preview, previews = performed(show, 12, preview_every=1)
    assert len(previews) == 12
    for number, (a, b) in enumerate(zip(alone, with_preview)):
        assert np.array_equal(a, b), f"frame {number} differs with a preview drawn beside it"
    assert not np.array_equal(alone[0], alone[-1]), "the program moved (GO to drift's keyframe)"


def test_the_preview_is_the_standby_cues_scene_as_it_renders_alone_with_the_cues_values(tmp_path):
    show = cue_list(tmp_path)
    _, previews = performed(show, 12, preview_every=1)
    bloom = build_scene(show.scenes[1], SceneContext(show.engine, lambda: 0.0, rehearsal=True))
    drift = build_scene(show.scenes[0], SceneContext(show.engine, lambda: 0.0, rehearsal=True))
    first, (t, before_go) = previews[0][0], previews[2]
    assert before_go.title == "GO: cue 2 -> drift, keyframe far"
    moved = KeyframeMove("far", first, 0.0)  # there at once from the first preview, walking on since
    drift.render(Moment(first, defaults(drift.parameters), keyframe=moved), *PREVIEW)
    expected = drift.render(Moment(t, defaults(drift.parameters), keyframe=moved), *PREVIEW)
    assert np.array_equal(before_go.pixels, expected)
    t, after_go = previews[8]
    assert after_go.title == "GO: cue 3 -> bloom"
    expected = bloom.render(Moment(t, {**defaults(bloom.parameters), "scale": 3.0}), *PREVIEW)
    assert np.array_equal(after_go.pixels, expected)
    unset = bloom.render(Moment(t, defaults(bloom.parameters)), *PREVIEW)
    assert not np.array_equal(after_go.pixels, unset), "the cue's scale is in the preview"


def test_what_comes_next_in_a_cue_list_and_in_a_timed_show(tmp_path):
    show = cue_list(tmp_path)
    director = Director(show)
    assert upcoming(show, director, "drift").title == "at 0 s: cue 1 -> drift"  # before the show starts
    director.composition_at(0.0)
    assert upcoming(show, director, "drift").title == "GO: cue 2 -> drift, keyframe far"
    director.go(1.0)
    assert upcoming(show, director, "drift").title == "GO: cue 3 -> bloom"
    director.go(2.0)
    assert upcoming(show, director, "drift") is None  # the list is done: nothing to preview
    timed = parse_show(yaml.safe_dump({"scenes": [scene("a", "cppn-tanh.onnx", 1), scene("b", "cppn-tanh.onnx", 2),
                                                  scene("c", "cppn-sine.onnx", 3)]}), tmp_path / "timed.yaml")
    director = Director(timed)
    assert [upcoming(timed, director, name).scene for name in ("a", "b", "c")] == ["b", "c", "a"]  # space's next
    assert upcoming(timed, director, "c").title == "next scene (space): a"


def test_the_cue_panel_marks_the_current_and_the_standby_cue(tmp_path):
    show = cue_list(tmp_path)
    stage = Stage.build(show, rehearsal=True, warm_up=False)
    stage.director.composition_at(0.5)
    lines = cue_lines(stage, 0.5)
    assert lines[1].startswith(">") and "drift" in lines[1]
    assert lines[2].startswith("SB") and "keyframe far" in lines[2]
    assert lines[3].startswith("  ")
    stage.director.go(1.0)
    lines = cue_lines(stage, 1.5)
    assert lines[2].startswith(">") and lines[3].startswith("SB")


def test_a_show_with_no_program_window_needs_the_operator_window(tmp_path):
    assert cue_list(tmp_path, window={"visible": False}, operator={}).operator.preview_fps == 5.0
    with pytest.raises(ShowError, match="window.visible.*needs an operator window"):
        cue_list(tmp_path, window={"visible": False})
