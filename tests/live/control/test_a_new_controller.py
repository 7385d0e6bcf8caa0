"""README's "add a controller" recipe, proved: a controller written from the interface alone (tape_controller.py)
and one entry in live.show.controllers drive a parameter through a real `latentstage rehearse`, and the frames
change as the parameter says. The conductor starts, polls, shows and stops it like the bundled ones."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import yaml
from PIL import Image

from live.show.conductor import Conductor
from live.show.schema import load_show
from live.show.stage import Stage
from tests.conftest import REPO
from tests.live.control.tape_controller import TapeController

FPS = 10


def write_show(tmp_path):
    show = {"output": {"width": 64, "height": 36, "fps": FPS},
            "scenes": [{"name": "drift", "kind": "cppn", "model": str(REPO / "models" / "cppn-tanh.onnx")}]}
    path = tmp_path / "show.yaml"
    path.write_text(yaml.safe_dump(show))
    return path


def rehearsed_frames(tmp_path, name: str, tape=None) -> list[np.ndarray]:
    frames = tmp_path / name
    command = ["rehearse", str(write_show(tmp_path)), "-o", str(tmp_path / f"{name}.mp4"), "--seconds", "2",
               "--frames", str(frames)]
    if tape is not None:
        prefix = [sys.executable, "-m", "tests.live.control.tape_controller", str(tape)]
    else:
        prefix = [sys.executable, "-m", "live"]
    done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return [np.asarray(Image.open(png)) for png in sorted(frames.glob("frame-*.png"))]


def test_a_controller_from_the_recipe_mirrors_a_rehearsal_from_its_own_second_on(tmp_path):
    tape = tmp_path / "tape.txt"
    tape.write_text("1.0 mirror true\n")
    plain = rehearsed_frames(tmp_path, "plain")
    taped = rehearsed_frames(tmp_path, "taped", tape)
    assert len(plain) == len(taped) == 2 * FPS
    for index, (before, after) in enumerate(zip(plain, taped)):
        if index < FPS:  # before the tape's second: untouched
            assert np.array_equal(after, before), index
        else:  # from it on: the same picture, flipped left-right
            assert not np.array_equal(after, before) and np.array_equal(after, before[:, ::-1]), index


def test_the_conductor_polls_shows_and_stops_a_new_controller_and_goes_on_without_a_broken_one(tmp_path):
    show = load_show(write_show(tmp_path))
    stage = Stage.build(show, rehearsal=True)
    tape = tmp_path / "tape.txt"
    tape.write_text("0.5 drift.scale 3.5\n0.2 hud true\n")
    conductor = Conductor.build(show, stage.scenes, rehearsal=True)
    conductor.add(TapeController(tape))
    conductor.add(TapeController(tmp_path / "no-such-tape.txt"))
    conductor.start()
    try:
        conductor.step(stage, 0.3)
        assert conductor.bus.get("hud") is True and conductor.bus.get("drift.scale") != 3.5
        conductor.step(stage, 0.6)
        assert conductor.bus.get("drift.scale") == 3.5 and conductor.rendered["drift"].values["scale"] == 3.5
        status = conductor.hud_lines(None)[0]
    finally:
        conductor.stop()
    assert "tape 2/2" in status and "tape off: [Errno 2] No such file or directory" in status
    assert [type(controller) for controller in conductor.controllers] == [TapeController]
