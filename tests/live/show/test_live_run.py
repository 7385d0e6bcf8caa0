"""The live loop run headless for real: recording, and a bounded soak that keeps memory flat."""
import json
from pathlib import Path

import av
import numpy as np
import yaml

from tests.conftest import run_cli


def pattern_show(tmp_path: Path, model: Path | None = None) -> Path:
    scene = {"name": "pattern", "kind": "pipeline", "chain": [{"canny": {"sigma": 0.33}}],
             "source": {"kind": "pattern", "width": 320, "height": 180, "fps": 30}}
    if model is not None:
        scene["model"] = str(model)
    show = tmp_path / "show.yaml"
    show.write_text(yaml.safe_dump({"output": {"width": 320, "height": 180, "fps": 30}, "scenes": [scene]}))
    return show


def test_recording_writes_every_frame_it_was_given_with_real_timestamps(tmp_path):
    recording = tmp_path / "recording.mp4"
    result = run_cli("run", str(pattern_show(tmp_path)), "--headless", "--seconds", "3",
                     "--record", str(recording), "--stats-json", str(tmp_path / "stats.json"))
    assert result.returncode == 0, result.stderr
    stats = json.loads((tmp_path / "stats.json").read_text())
    written = int(result.stdout.split("recorded ")[1].split(" frames")[0])
    with av.open(str(recording)) as container:
        times = [float(frame.time) for frame in container.decode(video=0)]
    assert len(times) == written and written > 0.5 * stats["presented"]
    assert np.all(np.diff(times) > 0), "timestamps must increase"
    assert 2.0 < times[-1] - times[0] < 3.5  # the file spans the run's real time


def test_a_long_run_keeps_resident_memory_flat(tmp_path, tiny_pix2pix):
    # 75 s of pattern -> canny -> pix2pix -> screen -> recorder, memory sampled every 5 s
    stats_path = tmp_path / "stats.json"
    result = run_cli("run", str(pattern_show(tmp_path, tiny_pix2pix)), "--headless", "--seconds", "75",
                     "--record", str(tmp_path / "soak.mp4"), "--stats-json", str(stats_path), timeout=240)
    assert result.returncode == 0, result.stderr
    samples = json.loads(stats_path.read_text())["resident_mb"]
    settled = [mb for seconds, mb in samples if seconds >= 15]  # after warm-up and the encoder's first GOPs
    assert len(settled) >= 10, samples
    assert max(settled) - settled[0] < 25, f"resident memory grew: {samples}"
