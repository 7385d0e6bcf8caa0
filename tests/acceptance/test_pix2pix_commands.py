"""Acceptance: the pix2pix path through the installed command, from a video to a rendered video and a show.

README promises checked here:
- `latentstage data pairs VIDEO -o PAIRS`: edge | picture pairs split into train/ and val/ by shots, with
  one-line errors for an empty folder, an unreadable picture and a file that is not a video;
- `latentstage train pix2pix PAIRS -o RUN`: samples, loss plot, checkpoint, held-out triptychs and report,
  and an ONNX model whose card says how its edges are made;
- `latentstage render VIDEO --model M.onnx -o OUT.mp4 [--triptych]`: the same frame count and timing as
  the input, with its sound carried over (copied, or re-encoded when MP4 cannot hold it);
- a show that names only the model file runs camera (a video standing in) -> edges -> pix2pix.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import onnx
import pytest
import yaml
from skimage import data

from tests.acceptance.test_run_options import rehearsed
from tests.conftest import REPO, latentstage
from trainers.common.checkpoint import load_checkpoint
from trainers.pix2pix.demo_footage import camera_move

SOUND_RATE = 22_050


def footage_with_sound(path: Path, sound_codec: str = "aac", fps: int = 10) -> Path:
    """Two camera moves (two shots) at `fps`, with a 440 Hz tone as long as the pictures."""
    rng = np.random.default_rng(0)
    frames = camera_move(data.chelsea(), 14, 64, rng) + camera_move(data.coffee(), 14, 64, rng)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width = video.height = 64
        video.pix_fmt = "yuv420p"
        sound = container.add_stream(sound_codec, rate=SOUND_RATE)
        sound.layout = "mono"
        for index, picture in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode())
        seconds = len(frames) / fps
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * SOUND_RATE)) / SOUND_RATE)).astype(np.float32)
        for start in range(0, len(tone), 1024):
            frame = av.AudioFrame.from_ndarray(tone[None, start:start + 1024], format="flt", layout="mono")
            frame.sample_rate, frame.pts = SOUND_RATE, start
            container.mux(sound.encode(frame))
        container.mux(sound.encode())
    return path


def timeline(path: Path) -> tuple[list[Fraction], str | None, float]:
    """(each video frame's time, the sound's codec or None, the sound's seconds) of a video file."""
    with av.open(str(path)) as container:
        times = [Fraction(frame.pts) * frame.time_base for frame in container.decode(video=0)]
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return times, None, 0.0
        sound = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(audio=0))
        return times, sound.codec_context.name, samples / sound.codec_context.sample_rate


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A folder with footage, its pairs and a tiny trained run (module-wide: training is the slow part)."""
    folder = tmp_path_factory.mktemp("pix2pix")
    footage_with_sound(folder / "footage.mp4")
    made = latentstage("data", "pairs", "footage.mp4", "-o", "pairs", "--size", "40", "--val", "0.25", cwd=folder)
    assert made.returncode == 0, made.stderr
    assert "28 frames in 2 shot(s)" in made.stdout
    run = latentstage("train", "pix2pix", "pairs", "-o", "run", "--steps", "8", "--decay-steps", "4", "--width", "8",
                      "--depth", "3", "--load-size", "40", "--crop-size", "32", "--d-width", "8", "--every", "4",
                      "--threads", "1", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert "held out" in run.stdout and "SSIM" in run.stdout
    return folder


def test_training_leaves_samples_a_report_a_checkpoint_and_a_model_that_says_how_its_edges_are_made(trained):
    run = trained / "run"
    for name in ("samples.png", "loss.png", "pix2pix.pt", "test_sheet.png", "report.md", "pix2pix.onnx"):
        assert (run / name).is_file(), name
    report = json.loads((run / "report.json").read_text())
    assert report["pairs"] == len(list((trained / "pairs/val").iterdir())) == len(list((run / "test").iterdir()))
    assert 0 < report["l1"] < 1 and -1 < report["ssim"] < 1
    card = {prop.key: prop.value for prop in onnx.load(run / "pix2pix.onnx").metadata_props}
    assert card["latentstage.kind"] == "pix2pix" and card["latentstage.input"] == "edges"
    assert card["latentstage.extra.canny_invert"] == "true" and card["latentstage.extra.canny_sigma"] == "0.33"
    assert "latentstage train pix2pix pairs" in card["latentstage.command"]
    assert card["latentstage.extra.heldout_l1"] == f"{report['l1']:.4f}"  # the card carries its held-out metrics


@pytest.mark.parametrize("sound_codec, carried", [("aac", "copied"), ("pcm_s16le", "re-encoded to AAC")])
def test_render_keeps_every_frame_its_time_and_the_sound(trained, tmp_path, sound_codec, carried):
    suffix = ".mp4" if sound_codec == "aac" else ".mkv"  # MP4 cannot hold PCM: the sound is re-encoded
    source = footage_with_sound(tmp_path / f"source{suffix}", sound_codec)
    result = latentstage("render", str(source), "--model", str(trained / "run/pix2pix.onnx"), "-o",
                         str(tmp_path / "out.mp4"), "--triptych", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "rendered 28 frames" in result.stdout and f"sound: {carried}" in result.stdout
    times_in, _, sound_in = timeline(source)
    times_out, codec_out, sound_out = timeline(tmp_path / "out.mp4")
    assert len(times_out) == len(times_in) == 28
    assert max(abs(float(a - b)) for a, b in zip(times_in, times_out)) < 1e-3
    # as long, give or take the AAC encoder's priming and its last frame's padding (1024 samples each)
    assert codec_out == "aac" and sound_out == pytest.approx(sound_in, abs=2 * 1024 / SOUND_RATE)
    with av.open(str(tmp_path / "out.mp4")) as container:
        picture = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert picture.shape == (64, 192, 3)  # edges | output | original
    assert picture[:, :64].mean() > 150  # black lines on white on the left


def test_a_show_naming_only_the_model_runs_video_edges_pix2pix(trained, tmp_path):
    show = tmp_path / "snow.yaml"
    show.write_text(yaml.safe_dump({
        "name": "snow", "output": {"width": 64, "height": 64, "fps": 10},
        "scenes": [{"name": "snow", "kind": "pipeline", "model": str(trained / "run/pix2pix.onnx"),
                    "source": {"kind": "video", "path": str(trained / "footage.mp4"), "loop": True}}],
        "cues": [{"at": 0, "scene": "snow"}]}))
    checked = latentstage("check", str(show), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    frames = rehearsed(show, "snow", 1.0)
    assert len(frames) == 10
    # model output, not edges: edges are black and white, the model's colours lie between
    assert np.mean([(frame.min(axis=2) != frame.max(axis=2)).mean() for frame in frames]) > 0.1


def test_data_prep_refuses_bad_input_in_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken/cat.png").write_bytes(b"not a png at all")
    (tmp_path / "notes.mp4").write_text("not a video")
    for source, message in (("empty", "empty: no pictures"), ("broken", "cat.png: not a readable image"),
                            ("notes.mp4", "notes.mp4: not a readable video"), ("missing.mp4", "no such video")):
        result = latentstage("data", "pairs", source, "-o", "pairs", cwd=tmp_path)
        assert result.returncode == 2, source
        lines = result.stderr.strip().splitlines()
        assert message in lines[-1] and "Traceback" not in result.stderr, result.stderr


def test_torchrun_trains_pix2pix_on_two_processes_as_the_module_docstring_says(trained, tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "trainers.pix2pix.cli", str(trained / "pairs"), "-o", str(tmp_path / "ddp"), "--steps", "4",
               "--width", "8", "--depth", "3", "--load-size", "40", "--crop-size", "32", "--d-width", "8",
               "--every", "0", "--device", "cpu"]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoint = load_checkpoint(tmp_path / "ddp" / "pix2pix.pt", "pix2pix")
    assert checkpoint.step == 4 and len(checkpoint.rng) == 2  # both processes' random states
    assert (tmp_path / "ddp" / "pix2pix.onnx").is_file() and result.stdout.count("held out") == 1  # rank 0 speaks


def test_render_refuses_bad_input_in_one_line_and_writes_nothing(trained, tmp_path):
    model = str(trained / "run/pix2pix.onnx")
    (tmp_path / "notes.mp4").write_text("not a video")
    cases = (
        (["missing.mp4", "--model", model, "-o", "out.mp4"], "missing.mp4: no such video"),
        (["notes.mp4", "--model", model, "-o", "out.mp4"], "notes.mp4: not a readable video"),
        ([str(trained / "footage.mp4"), "--model", str(REPO / "models/cppn-tanh.onnx"), "-o", "out.mp4"],
         "render takes an image model"),
        ([str(trained / "footage.mp4"), "--model", model, "-o", "out.gif"], "renders are written as .mp4"),
    )
    for arguments, message in cases:
        result = latentstage("render", *arguments, cwd=tmp_path)
        assert result.returncode == 2 and message in result.stderr.strip().splitlines()[-1], result.stderr
        assert "Traceback" not in result.stderr and not (tmp_path / "out.mp4").exists()
