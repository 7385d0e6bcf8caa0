"""Acceptance: a live run holds its rate by its ladder (README "Hold the rate"), through `latentstage run` under
Xvfb with CPU burners: processes spinning at nice 0 that this test starts and stops.

The scene's target is set from what this machine makes of it right now (a bare render an eighth of the budget: the live step, with its copies, flicker figure and display beside it, takes two or three times that),
so the top rung holds on a quiet machine or a busy one, and thirty-two burners on top take it well past the
budget: the run steps down, holds the lower rung while they spin, and is back at the top once they stop,
with at most two changes in each phase (no oscillation). Rehearsals never step: `rehearse --ladder` shows a
rung, and the frames are a smaller render scaled up.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from live.inference.engine import Engine, EngineConfig
from live.scenes.contract import Moment, defaults
from live.scenes.cppn import CppnScene, CppnSceneConfig
from tests.acceptance.test_window import START_TIMEOUT, LiveShow, write_show
from tests.conftest import REPO, latentstage

SIZE = (480, 270)  # the render size of the scene at the top rung
BURNERS = 32  # at nice 0 on a 2-core machine: the run's threads get a small share of the CPU
PHASE_TIMEOUT = 40.0  # seconds for a step to show on the HUD
WINDOW, DWELL = 1.0, 2.0  # the governor's, short for the test (seconds)


def cppn(**fields) -> dict:
    return {"name": "drift", "kind": "cppn", "model": str(REPO / "models" / "cppn-tanh.onnx"),
            "cppn": {"seed": 1, "backend": "onnx"}, **fields}


def work_seconds_here() -> float:
    """The p50 seconds this machine takes now to draw the scene at the top rung's size."""
    engine = Engine.load(REPO / "models" / "cppn-tanh.onnx", EngineConfig(providers="cpu"))
    scene = CppnScene("drift", engine, CppnSceneConfig(seed=1, backend="onnx"))
    scene.warm_up(*SIZE)
    times = []
    for index in range(15):
        started = time.perf_counter()
        scene.render(Moment(index / 30, defaults(scene.parameters)), *SIZE)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def ladder_state(hud: str) -> tuple[int, int, int] | None:
    """(rung, steps down, steps up) from the HUD's ladder line once the governor has judged, else None."""
    found = re.search(r"^ladder rung (\d+) of \d+ .*p95 \d+ ms.* down (\d+) up (\d+)", hud, re.MULTILINE)
    return tuple(int(group) for group in found.groups()) if found else None


class Burners:
    def __init__(self, count: int):
        spin = "import time\nwhile True: pass"
        self.processes = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count)]

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait(timeout=30)


def test_a_live_run_steps_down_its_ladder_under_load_and_back_up_after_it(tmp_path, xvfb_display):
    budget = 8.0 * work_seconds_here()  # seconds between new pictures the target allows
    target = min(30.0, 1.0 / budget)
    show = write_show(tmp_path, [cppn(target_fps=round(target, 2), ladder=[{"render_scale": 0.25}])],
                      output={"width": SIZE[0], "height": SIZE[1], "fps": 30},
                      window={"width": SIZE[0], "height": SIZE[1], "hud": True},
                      governor={"window": WINDOW, "dwell": DWELL})
    burners = None
    with LiveShow(show, env={"DISPLAY": xvfb_display}) as run:
        # judged, and on the top rung (a start on a busy machine may step down once, and come back)
        calm = ladder_state(run.wait_for_hud(lambda text: (ladder_state(text) or (1,))[0] == 0, START_TIMEOUT))
        burners = Burners(BURNERS)
        try:
            loaded = ladder_state(run.wait_for_hud(lambda text: ladder_state(text)[0] == 1, PHASE_TIMEOUT))
            held_until = time.monotonic() + WINDOW + 2 * DWELL  # it stays down while they spin
            while time.monotonic() < held_until:
                assert ladder_state(run.hud())[1] - calm[1] <= 2, run.hud()
                time.sleep(0.1)
            loaded = ladder_state(run.hud())
        finally:
            burners.stop()
        stopped = ladder_state(run.hud())
        back = ladder_state(run.wait_for_hud(lambda text: ladder_state(text)[0] == 0, PHASE_TIMEOUT))
        settled_until = time.monotonic() + 2 * DWELL
        while time.monotonic() < settled_until:
            time.sleep(0.1)
        settled = ladder_state(run.hud())
        assert run.stop() == 0
    changes_loaded = (loaded[1] + loaded[2]) - (calm[1] + calm[2])
    changes_after = (settled[1] + settled[2]) - (stopped[1] + stopped[2])
    assert loaded[0] == 1 and 1 <= changes_loaded <= 2, (calm, loaded, run.errors())
    assert settled[0] == 0 and 1 <= changes_after <= 2, (stopped, back, settled, run.errors())
    ladder = run.stats()["ladder"]["drift"]
    assert ladder["steps_down"] >= 1 and ladder["steps_up"] >= 1 and ladder["rung"] == 0, ladder
    assert ladder["seconds_on_rung"]["1"] > WINDOW and ladder["seconds_on_rung"]["0"] > WINDOW, ladder
    log = run.errors()
    assert "drift: down to rung 1 (render_scale 0.25): p95" in log and "drift: up to rung 0 (top)" in log, log


def test_rehearse_shows_a_rung_as_the_smaller_render_scaled_up(tmp_path):
    show = write_show(tmp_path, [cppn(target_fps=30, ladder=[{"render_scale": 0.25}])],
                      output={"width": 160, "height": 96, "fps": 30})
    frames = {}
    for rung in (0, 1):
        result = latentstage("rehearse", str(show), "-o", str(tmp_path / f"r{rung}.mp4"), "--seconds", "0.1",
                             "--frames", str(tmp_path / f"frames{rung}"), "--ladder", f"drift={rung}", timeout=120)
        assert result.returncode == 0, result.stderr
        frames[rung] = np.asarray(Image.open(tmp_path / f"frames{rung}" / "frame-000002.png").convert("RGB"), float)
    assert frames[1].shape == frames[0].shape == (96, 160, 3)
    # the same picture at a quarter of the size: close to the top rung's, and smoother (fewer fine edges)
    assert np.abs(frames[1] - frames[0]).mean() < 40
    assert np.abs(np.diff(frames[1], axis=1)).mean() < np.abs(np.diff(frames[0], axis=1)).mean()
    refused = latentstage("rehearse", str(show), "-o", str(tmp_path / "x.mp4"), "--seconds", "0.1",
                          "--ladder", "drift=3", timeout=120)
    assert refused.returncode == 2 and refused.stderr.strip().splitlines()[-1] == \
        "latentstage: --ladder drift=3: scene 'drift' has rungs 0 (the top) to 1, not 3", refused.stderr
