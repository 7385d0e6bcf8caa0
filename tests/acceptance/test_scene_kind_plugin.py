"""Acceptance (README "Architecture", adding a scene kind): a kind written from the scene contract alone,
one module (tests/live/scenes/stripes_kind.py) plus one registry entry (an entry point in the group
`latentstage.scene_kinds`), runs through `latentstage rehearse` in a fresh process, and its frames are
the pictures it rendered, pixel for pixel."""
from __future__ import annotations

import ast
import os
import subprocess
import sys

import numpy as np
import yaml
from PIL import Image

from tests.conftest import REPO
from tests.live.scenes import stripes_kind
from tests.live.scenes.stripes_kind import stripes

FPS = 10
SIZE = (64, 36)  # (width, height); the render size too, so the frames are the kind's pixels 1:1


def registered(folder):
    """A folder on the path that registers the kind, as an installed package's metadata would."""
    dist = folder / "stripes_kind-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: stripes-kind\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(
        "[latentstage.scene_kinds]\nstripes = tests.live.scenes.stripes_kind:StripesScene\n")
    return folder


def test_the_test_kind_is_written_from_the_contract_alone():
    tree = ast.parse((REPO / "tests" / "live" / "scenes" / "stripes_kind.py").read_text())
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert {module for module in modules if module.startswith("live")} == {"live.scenes.contract"}


def test_a_kind_registered_by_an_entry_point_rehearses_end_to_end(tmp_path):
    show = {"name": "stripes", "output": {"width": SIZE[0], "height": SIZE[1], "fps": FPS},
            "scenes": [{"name": "bars", "kind": "stripes", "count": 6}],
            # its own parameter set by a cue, through the bus and the moment into its render
            "cues": [{"at": 0, "scene": "bars"}, {"at": 1.0, "scene": "bars", "set": {"speed": 3.0}}]}
    path = tmp_path / "stripes.yaml"
    path.write_text(yaml.safe_dump(show))
    frames = tmp_path / "frames"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(registered(tmp_path / "site")), str(REPO)])}
    done = subprocess.run([sys.executable, "-m", "live", "rehearse", str(path), "-o", str(tmp_path / "out.mp4"),
                           "--seconds", "2", "--frames", str(frames)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    pngs = sorted(frames.glob("frame-*.png"))
    assert len(pngs) == 2 * FPS
    for index, png in enumerate(pngs):
        t = index / FPS
        speed = 3.0 if t >= 1.0 else 1.0
        # the walk of the stripes is a function of t and the speed on screen at t
        expected = stripes(t, 6, speed, *SIZE)
        assert np.array_equal(np.asarray(Image.open(png).convert("RGB")), expected), f"frame {index} at {t} s"
    checked = subprocess.run([sys.executable, "-m", "live", "check", str(path)], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0 and "ok, 1 scenes" in checked.stdout, checked.stdout + checked.stderr


def test_without_its_entry_point_the_kind_is_unknown_to_a_show(tmp_path):
    path = tmp_path / "stripes.yaml"
    path.write_text(yaml.safe_dump({"scenes": [{"name": "bars", "kind": "stripes"}]}))
    done = subprocess.run([sys.executable, "-m", "live", "check", str(path)], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 2 and "there is no kind 'stripes' here" in done.stderr, done.stderr
    assert stripes_kind.StripesScene.kind == "stripes"
