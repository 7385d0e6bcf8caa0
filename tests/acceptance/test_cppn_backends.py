"""A CPPN scene's backend through the commands a show designer runs: `rehearse` draws it with the
renderer's GL shader deterministically and like ONNX Runtime; `run`'s HUD says which runs, and auto
keeps ONNX Runtime on a GL renderer that rasterises on the CPU (Mesa's llvmpipe here)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import REPO, latentstage


def cppn_show(folder: Path, backend: str) -> Path:
    show = folder / f"cppn-{backend}.yaml"
    show.write_text(f"""
name: cppn-{backend}
output: {{width: 160, height: 90, fps: 30}}
scenes:
  - name: drift
    kind: cppn
    model: {REPO / 'models' / 'cppn-tanh.onnx'}
    cppn: {{seed: 5, period: 0.5, scale: 5.0, backend: {backend}}}
cues:
  - {{at: 0, scene: drift}}
""")
    return show


def rehearsed(show: Path, out: Path) -> list[np.ndarray]:
    frames = out.with_suffix("")
    result = latentstage("rehearse", str(show), "-o", str(out), "--seconds", "0.5", "--frames", str(frames))
    assert result.returncode == 0, result.stderr
    return [np.asarray(Image.open(path)).astype(int) for path in sorted(frames.glob("frame-*.png"))]


def test_rehearsing_with_the_shader_is_deterministic_and_draws_what_onnx_runtime_draws(tmp_path):
    shader = rehearsed(cppn_show(tmp_path, "shader"), tmp_path / "a.mp4")
    again = rehearsed(cppn_show(tmp_path, "shader"), tmp_path / "b.mp4")
    onnx = rehearsed(cppn_show(tmp_path, "onnx"), tmp_path / "c.mp4")
    assert len(shader) == len(again) == len(onnx) == 15
    assert all(np.array_equal(a, b) for a, b in zip(shader, again))
    assert shader[0].std() > 10 and np.abs(shader[0] - shader[-1]).mean() > 2  # a picture, and it moves
    for ours, theirs in zip(shader, onnx):
        difference = np.abs(ours - theirs)
        assert difference.max() <= 2 and difference.mean() < 0.05


def test_the_hud_says_whether_the_shader_or_onnx_runtime_draws(tmp_path):
    for backend, shown in (("shader", "GL shader"), ("onnx", "CPUExecutionProvider"), ("auto", "CPUExecutionProvider")):
        status = tmp_path / f"status-{backend}.txt"
        result = latentstage("run", str(cppn_show(tmp_path, backend)), "--headless", "--seconds", "1",
                         "--status-file", str(status))
        assert result.returncode == 0, result.stderr
        providers = next(line for line in status.read_text().splitlines() if "providers" in line)
        assert shown in providers and (backend == "shader") == ("GL shader" in providers), providers
