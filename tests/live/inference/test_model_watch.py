"""live.inference.model_watch on real model files replaced under a running engine: what is loaded, what is refused."""
from __future__ import annotations

import logging
import shutil
import time

import numpy as np
import pytest

from live.inference.engine import Engine, EngineConfig
from live.inference.model_watch import ModelWatcher
from live.scenes.cppn_math import coordinates
from tests.conftest import REPO, wait_for

POLL = 0.05  # seconds: the watcher looks often, so the test takes moments


def cppn_inputs(width: int, height: int) -> dict[str, np.ndarray]:
    return {"coords": coordinates(width, height), "z": np.zeros((1, 8), np.float32),
            "scale": np.array([6.0], np.float32)}


@pytest.fixture
def running(tmp_path):
    """An engine on a copy of the shipped tanh CPPN, run at 32x18 as a show would, and its watcher."""
    path = tmp_path / "model.onnx"
    shutil.copyfile(REPO / "models" / "cppn-tanh.onnx", path)
    engine = Engine.load(path, EngineConfig(providers="cpu"))
    engine.run(cppn_inputs(32, 18))
    watcher = ModelWatcher(engine, EngineConfig(providers="cpu"), time.monotonic, poll=POLL)
    watcher.start()
    yield path, engine, watcher
    watcher.stop()


def test_a_good_replacement_is_loaded_warmed_at_the_running_shapes_and_handed_over_once(running):
    path, engine, watcher = running
    shutil.copyfile(REPO / "models" / "cppn-sine.onnx", path)
    replacement = []
    assert wait_for(lambda: replacement.append(watcher.take()) or replacement[-1] is not None, 30.0), watcher.problem
    new = replacement[-1]
    assert new is not engine and new.card.arch == "sine" and engine.card.arch == "tanh"
    assert new.input_shapes() == engine.input_shapes()  # warmed at 32x18: the first frame never waits
    sine = new.run(cppn_inputs(32, 18))["image"].copy()
    tanh = engine.run(cppn_inputs(32, 18))["image"]
    assert np.abs(sine - tanh).mean() > 0.05  # another model really runs
    assert watcher.take() is None and watcher.reloads == 1 and watcher.refused == 0 and watcher.problem == ""


def test_each_bad_version_is_refused_once_and_a_good_one_still_comes_through(running, tiny_pix2pix, caplog):
    """Truncated, deleted, and a model of another kind: each refused in one log line naming the file, each
    once however long it stays; the loaded engine runs throughout; then a good copy is taken."""
    path, engine, watcher = running
    caplog.set_level(logging.WARNING, logger="latentstage.models")
    good = (REPO / "models" / "cppn-tanh.onnx").read_bytes()

    path.write_bytes(good[:len(good) // 2])
    assert wait_for(lambda: watcher.refused == 1, 30.0)
    assert watcher.problem.startswith(f"{path}: ") and watcher.problem.endswith("running the model loaded before")
    engine.run(cppn_inputs(32, 18))  # the session read its file when it opened: it runs on

    path.unlink()
    assert wait_for(lambda: watcher.refused == 2, 30.0)
    assert watcher.problem == f"{path}: the file is gone; running the model loaded before"

    shutil.copyfile(tiny_pix2pix, path)
    assert wait_for(lambda: watcher.refused == 3, 30.0)
    assert "not a stand-in for the running model: its kind is 'pix2pix'" in watcher.problem, watcher.problem

    path.write_bytes(good)
    assert wait_for(lambda: watcher.take() is not None, 30.0), watcher.problem
    assert watcher.refused == 3 and watcher.problem == ""  # no bad version was tried twice
    refusals = [record.getMessage() for record in caplog.records if "cannot be used" in record.getMessage()]
    assert len(refusals) == 3 and all(str(path) in message for message in refusals), refusals
