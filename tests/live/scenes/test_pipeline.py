"""Pipeline scenes end to end (README "Shows": pipeline scenes, sources, `hold` and the idle scene):
sources through filters and models, failure, fallback and recovery."""
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from live.show.schema import parse_show
from live.show.stage import IDLE, Stage
from tests.conftest import run_cli, wait_for, write_test_video
from tests.live.show.test_rehearsal import rendered_frames


def show_from(tmp_path: Path, data: dict):
    path = tmp_path / "show.yaml"
    path.write_text(yaml.safe_dump(data))
    return parse_show(path.read_text(), path)


def test_a_stalled_camera_falls_back_to_idle_and_recovers_by_itself(tmp_path):
    # A file-backed camera stand-in: the "camera" runs out after a second (EOF stops the
    # frames like an unplugged cable), then reconnects by reopening the file. The test renders
    # frames until the camera is back rather than for a fixed time.
    write_test_video(tmp_path / "camera.mp4", frames=30)
    show = show_from(tmp_path, {
        "hold": 0.2,
        "output": {"width": 96, "height": 64, "fps": 30},
        "scenes": [{"name": "mirror", "kind": "pipeline", "source": {
            "kind": "camera", "device": str(tmp_path / "camera.mp4"), "stall_timeout": 0.4,
            "backoff_start": 1.2, "backoff_max": 1.2}}],
    })
    stage = Stage.build(show)
    stage.start()
    shown, problems = [], set()
    started = time.perf_counter()

    def back_on_the_camera() -> bool:
        """Render the next frame; whether the camera has shown, failed over to idle, and come back."""
        layers = stage.frame_at(time.perf_counter() - started)  # seconds of show time, as a live run does
        shown.append(layers.composition.scene)
        problems.update(stage.health.values())
        camera_then_idle = 0 in shown and IDLE in shown[shown.index(0):]
        return camera_then_idle and shown[-1] == 0

    try:
        # a frame every 30 ms until the camera is back, however long the reconnect takes here
        assert wait_for(back_on_the_camera, timeout=120, poll=0.03), \
            [scene for i, scene in enumerate(shown) if i == 0 or scene != shown[i - 1]]
        health_when_back = stage.health
    finally:
        stage.stop()
    assert problems, "the failure never reached the HUD's health"
    assert health_when_back == {}  # recovered: nothing left to report


def test_a_pipeline_rehearses_identically_with_edges_and_a_model(tmp_path, tiny_pix2pix):
    write_test_video(tmp_path / "clip.mp4", frames=20)
    show = tmp_path / "show.yaml"
    show.write_text(yaml.safe_dump({
        "output": {"width": 96, "height": 64, "fps": 10},
        "scenes": [
            {"name": "edges", "kind": "pipeline", "source": {"kind": "video", "path": "clip.mp4"},
             "chain": [{"canny": {"sigma": 0.33, "blur": 0}}]},
            {"name": "snow", "kind": "pipeline", "source": {"kind": "video", "path": "clip.mp4"},
             "chain": [{"canny": {"sigma": 0.33}}], "model": str(tiny_pix2pix)},
        ],
        "cues": [{"at": 0, "scene": "edges"}, {"at": 1, "scene": "snow"}],
    }))
    outputs = []
    for name in ("a", "b"):
        result = run_cli("rehearse", str(show), "-o", str(tmp_path / f"{name}.mp4"), "--seconds", "2",
                         "--frames", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        outputs.append(rendered_frames(tmp_path / name))
    first, second = outputs
    assert len(first) == len(second) == 20 and all(np.array_equal(a, b) for a, b in zip(first, second))
    edges = first[3]
    assert 0.005 < (edges.max(axis=2) > 128).mean() < 0.3, "edges: a few bright lines on black"
    assert not np.array_equal(first[3], first[6]), "the square moves"
    assert np.abs(first[15].astype(int) - edges.astype(int)).mean() > 10, "the model changed the picture"


@pytest.mark.parametrize("source, expected", [
    ("source: {kind: video, path: nowhere.mp4}", ":4: scenes[0].source.path: scene 'cam' names nowhere.mp4"),
    ("source:\n      kind: camera\n      devise: 0", ":6: scenes[0].source.devise: unknown key"),  # through the union
])
def test_source_errors_name_the_scene_line_and_key(tmp_path, source, expected):
    (tmp_path / "show.yaml").write_text(f"scenes:\n  - name: cam\n    kind: pipeline\n    {source}\n")
    result = run_cli("check", str(tmp_path / "show.yaml"))
    assert result.returncode == 2
    assert expected in result.stderr
