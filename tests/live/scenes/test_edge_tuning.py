"""A pipeline scene's flicker target (README "Running unattended": flicker): its Canny steps' stabilise tuned
from its own pictures, through a real H.264 clip of a noisy camera, real Canny and (for rehearsal) a real model."""
from pathlib import Path

import numpy as np
import pytest
import yaml

from live.core.imaging import change
from live.scenes.edge_tuning import DEAD_BAND, MOST, EdgeTuner
from live.show.preflight import preflight
from live.show.schema import ShowError, load_show
from live.show.stage import Stage
from tests.conftest import run_cli
from tests.live.show.test_rehearsal import rendered_frames
from tests.room_clip import write_room_clip

FPS = 15
SIZE = (160, 90)
TARGET = 2.5  # levels a new picture: about half of what this camera's noise makes the edges boil by


def show_file(folder: Path, clip: Path, flicker: float | None, stabilise: float = 0.0, **scene) -> Path:
    block = {"name": "edges", "kind": "pipeline", "source": {"kind": "video", "path": clip.name},
             "chain": [{"canny": {"sigma": 0.33, "stabilise": stabilise}}], **scene}
    if flicker is not None:
        block["flicker"] = {"target": flicker}
    path = folder / f"show-{flicker}.yaml"
    path.write_text(yaml.safe_dump({"output": {"width": SIZE[0], "height": SIZE[1], "fps": FPS}, "scenes": [block]}))
    return path


def rehearsed(show: Path, seconds: float) -> tuple[list[float], list[float]]:
    """The scene's output change and the stabilise it ran with, for each new picture of a rehearsal."""
    stage = Stage.build(load_show(show), rehearsal=True)
    changes, stabilised, previous = [], [], None
    for index in range(round(seconds * FPS)):
        picture = stage.frame_at(index / FPS, copy=True).current
        if previous is not None:
            changes.append(change(previous, picture))
        previous = picture
        tuning = stage.scene(0).flicker_tuning
        stabilised.append(tuning[1] if tuning is not None else 0.0)
    return changes, stabilised


@pytest.fixture(scope="module")
def noisy_room(tmp_path_factory) -> Path:
    """An empty room through a camera with sensor noise (std 6 levels): its faint edges boil."""
    return write_room_clip(tmp_path_factory.mktemp("clips") / "room.mp4", walk=0.0, still=6.0, fps=FPS, size=SIZE,
                           empty_first=0.0)


def test_a_boiling_scene_settles_near_its_target_with_stabilise_rising(noisy_room):
    untuned, _ = rehearsed(show_file(noisy_room.parent, noisy_room, None), 6.0)
    tuned, stabilised = rehearsed(show_file(noisy_room.parent, noisy_room, TARGET), 6.0)
    settled = slice(-2 * FPS, None)  # the last two seconds
    assert np.mean(untuned[settled]) > 1.6 * TARGET, np.mean(untuned[settled])  # it boils well above the target
    assert abs(np.mean(tuned[settled]) - TARGET) < 0.25 * TARGET, np.mean(tuned[settled])
    assert stabilised[0] < 0.05 < 0.3 < stabilised[-1] <= MOST, stabilised[::FPS]
    rising = stabilised[:2 * FPS]
    assert all(later >= earlier for earlier, later in zip(rising, rising[1:])), rising  # at first
    assert max(stabilised[settled]) - min(stabilised[settled]) < 0.1, stabilised[settled]  # settled: no pumping


def test_a_visitor_walking_through_does_not_raise_stabilise_and_the_still_room_after_does(tmp_path):
    clip = write_room_clip(tmp_path / "visit.mp4", walk=2.0, still=3.0, fps=FPS, size=SIZE, empty_first=1.0)
    changes, stabilised = rehearsed(show_file(tmp_path, clip, TARGET), 6.0)
    walk = slice(FPS + 3, 3 * FPS)  # the figure crossing (a few pictures in: the running figure follows)
    assert min(changes[walk]) > 1.5 * TARGET, changes[walk]  # the output moves well above the target...
    assert max(stabilised[walk]) - min(stabilised[walk]) < 0.015, stabilised[walk]  # ...and is not steadied
    assert stabilised[-1] > stabilised[3 * FPS] + 0.2, stabilised[::FPS]  # the boiling still room is


def test_a_still_clean_picture_lets_stabilise_fall(tmp_path):
    clip = write_room_clip(tmp_path / "still.mp4", walk=0.0, still=5.0, fps=FPS, size=SIZE, noise=0.0)
    changes, stabilised = rehearsed(show_file(tmp_path, clip, TARGET, stabilise=0.6), 5.0)
    assert np.mean(changes) < TARGET * (1 - DEAD_BAND)  # nothing boils: no reason to smear
    assert stabilised[-1] < 0.05 and stabilised == sorted(stabilised, reverse=True), stabilised[::FPS]


def test_the_tuner_moves_a_step_a_picture_only_outside_its_dead_band():
    tuner = EdgeTuner(target=4.0, stabilise=0.5)
    picture = np.zeros((8, 8, 3), np.uint8)
    for level in (0, 4, 0, 4):  # 4 levels a picture: on target
        tuner.note(picture + level)
    assert tuner.stabilise == 0.5 and tuner.level == 4.0
    for level in (30, 0, 30, 0, 30):  # boiling: a step up a picture, never past MOST
        tuner.note(picture + level)
    assert 0.5 < tuner.stabilise <= 0.5 + 5 * 0.011
    tuner.note(np.zeros((4, 4, 3), np.uint8))  # another size: compared with nothing, no step
    assert tuner.stabilise <= 0.5 + 5 * 0.011


def test_rehearsing_a_tuned_scene_twice_gives_the_same_frames(tmp_path, noisy_room, tiny_pix2pix):
    clip = tmp_path / noisy_room.name
    clip.symlink_to(noisy_room)
    show = show_file(tmp_path, clip, TARGET, model=str(tiny_pix2pix))
    runs = []
    for name in ("a", "b"):
        result = run_cli("rehearse", str(show), "-o", str(tmp_path / f"{name}.mp4"), "--seconds", "2",
                         "--frames", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        runs.append(rendered_frames(tmp_path / name))
    first, second = runs
    assert len(first) == len(second) == 2 * FPS and all(np.array_equal(a, b) for a, b in zip(first, second))


def test_check_refuses_a_target_with_no_edges_to_tune(tmp_path, noisy_room):
    clip = tmp_path / noisy_room.name
    clip.symlink_to(noisy_room)
    path = show_file(tmp_path, clip, TARGET)
    data = yaml.safe_load(path.read_text())
    data["scenes"][0]["chain"] = [{"gray": None}]
    path.write_text(yaml.safe_dump(data))
    result = run_cli("check", str(path))
    assert result.returncode == 2 and "scenes[0].flicker: a flicker target tunes" in result.stderr, result.stderr
    data["scenes"][0].update(chain=[{"canny": {}}], flicker={"target": -1.0})
    path.write_text(yaml.safe_dump(data))
    result = run_cli("check", str(path))
    assert result.returncode == 2 and "scenes[0].flicker.target:" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_target_on_a_model_is_checked_against_the_edges_its_card_brings(tmp_path, noisy_room, tiny_pix2pix):
    from exporters.onnx import export
    from trainers.pix2pix.model import Pix2PixConfig, Pix2PixGenerator

    clip = tmp_path / noisy_room.name
    clip.symlink_to(noisy_room)
    preflight(load_show(show_file(tmp_path, clip, TARGET, model=str(tiny_pix2pix), chain=[])))  # its card: edges
    rgb_model = tmp_path / "rgb.onnx"  # a pix2pix that eats the picture itself: no edges to tune
    export(Pix2PixGenerator(Pix2PixConfig(in_channels=3, base_channels=4, depth=2)).eval(), rgb_model)
    with pytest.raises(ShowError, match=r"show-2.5.yaml:\d+: scenes\[0\].flicker: a flicker target tunes"):
        preflight(load_show(show_file(tmp_path, clip, TARGET, model=str(rgb_model), chain=[])))


def test_a_resumed_scene_carries_on_with_the_stabilise_it_had_tuned(noisy_room):
    show = load_show(show_file(noisy_room.parent, noisy_room, TARGET))
    before = Stage.build(show, rehearsal=True)
    for index in range(FPS):
        before.frame_at(index / FPS)
    state = before.scene(0).resume_state()
    after = Stage.build(show, rehearsal=True).scene(0)
    assert after.flicker_tuning == (TARGET, 0.0)
    after.resume(state)
    assert after.flicker_tuning == before.scene(0).flicker_tuning and state["stabilise"] > 0.05, state
