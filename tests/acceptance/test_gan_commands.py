"""Acceptance: `latentstage gan sample` and `gan walk` as a user runs them, and their one-line refusals.

README promises checked here ("Commands"): a sample grid of N pictures at a truncation; a walk at any size
or aspect; `gan walk --audio SONG` has the song's sound in the MP4 and moves more on the song's onsets than
in its quiet bars; a missing model, a model of another kind, a bad size or aspect are refused in one line
with exit code 2; `check` refuses a GAN file named as a pipeline's model and anything but an SR file as a
GAN scene's upscaler.
"""
from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
import yaml
from PIL import Image

from tests.conftest import REPO, latentstage
from tests.songs import groove, quiet_seconds, write_song


def frames_of(video: Path) -> tuple[list[np.ndarray], list[str]]:
    """Every decoded frame (H, W, 3) uint8 and the kinds of the file's streams."""
    with av.open(str(video)) as container:
        kinds = [stream.type for stream in container.streams]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return frames, kinds


def one_line_refusal(result) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("latentstage:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_gan_sample_writes_a_grid_of_distinct_pictures_and_psi_0_is_the_mean_picture(tmp_path, tiny_gan):
    result = latentstage("gan", "sample", str(tiny_gan), "-o", str(tmp_path / "grid.png"), "--n", "6", "--psi", "0.8")
    assert result.returncode == 0, result.stderr
    grid = np.asarray(Image.open(tmp_path / "grid.png"))
    assert grid.shape == (2 * 64, 3 * 64, 3)  # 6 pictures: rows of ceil(sqrt(6)) = 3
    cells = [grid[r * 64:(r + 1) * 64, c * 64:(c + 1) * 64].astype(int) for r in range(2) for c in range(3)]
    assert min(np.abs(a - b).mean() for i, a in enumerate(cells) for b in cells[i + 1:]) > 5
    assert latentstage("gan", "sample", str(tiny_gan), "-o", str(tmp_path / "mean.png"), "--n", "4",
                       "--psi", "0").returncode == 0
    mean = np.asarray(Image.open(tmp_path / "mean.png"))
    assert np.array_equal(mean[:64, :64], mean[64:, 64:])


def test_gan_sample_draws_each_picture_at_the_aspect_of_a_painting_from_the_manifest(tmp_path, tiny_gan):
    manifest = tmp_path / "manifest.json"  # as `data paintings` writes it (other keys left out)
    manifest.write_text(json.dumps({"paintings": [{"source": "tall.jpg", "aspect": 0.5},
                                                  {"source": "wide.jpg", "aspect": 2.0}]}))
    result = latentstage("gan", "sample", str(tiny_gan), "-o", str(tmp_path / "shapes.png"), "--n", "8",
                         "--aspects", str(manifest))
    assert result.returncode == 0, result.stderr
    grid = np.asarray(Image.open(tmp_path / "shapes.png")).astype(int)
    shapes = set()
    for index in range(8):
        row, column = divmod(index, 3)
        cell = grid[row * 64:(row + 1) * 64, column * 64:(column + 1) * 64].sum(axis=2)
        filled_rows, filled_columns = (cell > 0).any(axis=1).sum(), (cell > 0).any(axis=0).sum()
        shapes.add((int(filled_columns), int(filled_rows)))
    assert shapes == {(32, 64), (64, 32)}, shapes  # each a painting's shape, both drawn
    manifest.write_text("{}")
    refused = latentstage("gan", "sample", str(tiny_gan), "-o", str(tmp_path / "x.png"), "--aspects", str(manifest))
    assert "not a `data paintings` manifest" in one_line_refusal(refused)


def test_gan_sample_and_walk_through_an_upscaler_draw_four_times_larger(tmp_path, tiny_gan, tiny_sr):
    result = latentstage("gan", "sample", str(tiny_gan), "-o", str(tmp_path / "sharp.png"), "--n", "2",
                         "--upscale", str(tiny_sr))
    assert result.returncode == 0, result.stderr
    assert np.asarray(Image.open(tmp_path / "sharp.png")).shape == (256, 2 * 256, 3)
    result = latentstage("gan", "walk", str(tiny_gan), "-o", str(tmp_path / "sharp.mp4"), "--size", "256x256",
                         "--seconds", "0.2", "--fps", "10", "--upscale", str(tiny_sr))
    assert result.returncode == 0, result.stderr
    refused = latentstage("gan", "walk", str(tiny_gan), "-o", str(tmp_path / "x.mp4"), "--upscale", str(tiny_gan))
    assert "gan-tiny.onnx: a gan model, not a super-resolution (sr) model" in one_line_refusal(refused)


def test_gan_walk_writes_the_size_or_aspect_asked_for(tmp_path, tiny_gan):
    result = latentstage("gan", "walk", str(tiny_gan), "-o", str(tmp_path / "wide.mp4"), "--aspect", "16:9",
                         "--seconds", "1", "--fps", "12")
    assert result.returncode == 0, result.stderr
    frames, kinds = frames_of(tmp_path / "wide.mp4")
    assert kinds == ["video"] and len(frames) == 12 and frames[0].shape == (512, 910, 3)
    assert np.abs(frames[0].astype(int) - frames[-1]).mean() > 3  # it walks
    result = latentstage("gan", "walk", str(tiny_gan), "-o", str(tmp_path / "tall.mp4"), "--size", "96x128",
                         "--seconds", "0.5", "--fps", "10", "--fit", "contain")
    assert result.returncode == 0, result.stderr
    frames, _ = frames_of(tmp_path / "tall.mp4")
    assert frames[0].shape == (128, 96, 3) and frames[0][:10].max() < 20  # letterboxed above and below


def test_gan_walk_with_a_song_moves_more_on_its_onsets_than_in_its_quiet_bars(tmp_path, tiny_gan):
    song = write_song(tmp_path / "song.wav", groove(bpm=120.0, quiet_bars=2, loud_bars=2))
    out = tmp_path / "dance.mp4"
    result = latentstage("gan", "walk", str(tiny_gan), "-o", str(out), "--audio", str(song), "--size", "64x64",
                         "--fps", "30")
    assert result.returncode == 0, result.stderr
    assert "sound: song.wav" in result.stdout and "onsets" in result.stdout, result.stdout
    frames, kinds = frames_of(out)
    assert kinds == ["video", "audio"] and len(frames) == 8 * 30  # the song's 8 s
    motion = np.array([np.abs(a.astype(int) - b).mean() for a, b in zip(frames, frames[1:])])  # motion[i]: i -> i+1
    drums = quiet_seconds(120.0, 2)
    quiet = motion[round(0.5 * 30):round((drums - 0.2) * 30)]
    # each beat: the largest step in the tenth of a second after the drum
    beats = [motion[round(b * 30) - 1:round((b + 0.15) * 30)].max() for b in np.arange(drums, 8.0, 0.5)]
    assert np.median(beats) > 3 * np.median(quiet) + 1, (beats, quiet)


@pytest.mark.parametrize("args, says", [
    (["gan", "walk", "missing.onnx", "-o", "out.mp4"], "missing.onnx: no such model file"),
    (["gan", "sample", str(REPO / "models" / "cppn-tanh.onnx"), "-o", "grid.png"],
     "a cppn model, not a GAN generator (kind gan)"),
    (["gan", "walk", "TINY", "-o", "out.mp4", "--size", "641x360"], "each side must be an even number"),
    (["gan", "walk", "TINY", "-o", "out.mp4", "--size", "big"], "write it as WIDTHxHEIGHT"),
    (["gan", "walk", "TINY", "-o", "out.mp4", "--aspect", "0:0"], "give width:height"),
    (["gan", "walk", "TINY", "-o", "out.gif"], "the walk is written as .mp4"),
    (["gan", "walk", "TINY", "-o", "out.mp4", "--audio", "nothing.wav"], "nothing.wav: no such sound file"),
    (["gan", "sample", "TINY", "-o", "grid.png", "--psi", "3"], "truncation runs from 0"),
    (["gan", "walk", "TINY", "-o", "out.mp4", "--beats", "0"], "--beats 0: give a positive length"),
])
def test_bad_input_is_refused_in_one_line(tmp_path, tiny_gan, args, says):
    args = [str(tiny_gan) if arg == "TINY" else arg for arg in args]
    assert says in one_line_refusal(latentstage(*args, cwd=tmp_path))
    assert not list(tmp_path.iterdir()), "a refusal wrote something"


def write_show(folder: Path, scene: dict) -> Path:
    path = folder / "show.yaml"
    path.write_text(yaml.safe_dump({"name": "wrong", "scenes": [scene]}, sort_keys=False))
    return path


def test_check_refuses_a_gan_file_as_a_pipeline_s_model_and_as_an_upscaler(tmp_path, tiny_gan, tiny_sr):
    video = REPO / "shows" / "media" / "snow-walk.mp4"
    pipeline = {"name": "mirror", "kind": "pipeline", "model": str(tiny_gan), "source": {"kind": "video", "path": str(video)}}
    line = one_line_refusal(latentstage("check", str(write_show(tmp_path, pipeline))))
    assert "scenes[0].model: gan-tiny.onnx is a gan model, but scene 'mirror' is a pipeline scene, which runs " \
           "pix2pix or style models" in line
    upscaled = {"name": "painter", "kind": "gan", "model": str(tiny_gan), "upscale": str(tiny_gan)}
    line = one_line_refusal(latentstage("check", str(write_show(tmp_path, upscaled))))
    assert "scenes[0].upscale: gan-tiny.onnx is a gan model, but scene 'painter' is a gan scene, which runs sr " \
           "models as its upscale" in line
    cppn = {"name": "painter", "kind": "gan", "model": str(REPO / "models" / "cppn-tanh.onnx")}
    line = one_line_refusal(latentstage("check", str(write_show(tmp_path, cppn))))
    assert "scenes[0].model: cppn-tanh.onnx is a cppn model, but scene 'painter' is a gan scene, which runs gan" in line
    sr = {"name": "painter", "kind": "gan", "model": str(tiny_sr)}
    line = one_line_refusal(latentstage("check", str(write_show(tmp_path, sr))))
    assert "scenes[0].model: sr-tiny.onnx is a sr model, but scene 'painter' is a gan scene, which runs gan" in line
    sharp = {"name": "painter", "kind": "gan", "model": str(tiny_gan), "upscale": str(tiny_sr)}
    checked = latentstage("check", str(write_show(tmp_path, sharp)))
    assert checked.returncode == 0 and "show.yaml: ok, 1 scenes" in checked.stdout, checked.stderr
