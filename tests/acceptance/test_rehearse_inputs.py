"""Acceptance: a sound file standing in for the audio input in `latentstage rehearse --audio`.

README promises checked here:
- "`rehearse ... [--audio WAV]` ... a sound file stands in for the audio input", "(`--audio`: WAV, FLAC or a
  video's sound track) through the same analysis": each drives the vj show's audio mappings (the frames leave
  a silent rehearsal's), a lossless FLAC of the same sound gives the WAV's frames exactly, and "same show,
  inputs and seed, same frames": two rehearsals with one file give identical PNGs;
- bad input is one clear line and exit code 2 (the CLI's own rule): a file that is not audio is refused.

The sounds are made here: a click track (tests.live.inputs.test_audio) written as WAV with the standard
library's `wave`, as FLAC and as an MP4 with an H.264 picture and an AAC sound track with PyAV.
"""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import yaml

from tests.acceptance.test_run_options import rehearsed
from tests.conftest import REPO, latentstage, write_test_video
from tests.live.inputs.test_audio import RATE, click_track, write_wav

SECONDS = 1.0  # of the vj show at 30 fps; the first click comes at 0.25 s


def encode_sound(path: Path, signal: np.ndarray, codec: str, with_picture: bool = False) -> Path:
    """`signal` ((n,) float32 in [-1, 1], mono at RATE) encoded with PyAV: "flac" into .flac, or "aac" into an
    .mp4 that also has a moving H.264 picture, as a phone's video would."""
    pcm = (np.clip(signal, -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w") as container:
        picture = None
        if with_picture:
            picture = container.add_stream("libx264", rate=30)
            picture.width, picture.height, picture.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream(codec, rate=RATE)
        sound.layout = "mono"
        sample_format = sound.codec_context.format.name  # flac: s16; aac: fltp
        block = sound.codec_context.frame_size or 1024
        for start in range(0, len(pcm), block):
            chunk = pcm[start:start + block][None]  # (1, samples): one channel
            if sample_format.startswith("flt"):
                chunk = chunk.astype(np.float32) / 32767
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format=sample_format, layout="mono")
            frame.sample_rate, frame.pts = RATE, start
            container.mux(sound.encode(frame))
        container.mux(sound.encode(None))
        if picture is not None:
            for index in range(round(len(pcm) / RATE * 30)):
                pixels = np.full((48, 64, 3), index * 4 % 256, np.uint8)
                container.mux(picture.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
            container.mux(picture.encode(None))
    return path


@pytest.fixture(scope="module")
def vj_show(tmp_path_factory) -> Path:
    """The bundled vj show, its models named by absolute path, in a folder of its own."""
    show = tmp_path_factory.mktemp("vj") / "vj.yaml"
    show.write_text((REPO / "shows" / "vj.yaml").read_text().replace("../models/", f"{REPO / 'models'}/"))
    return show


@pytest.fixture(scope="module")
def sounds(vj_show) -> dict[str, Path]:
    clicks = click_track(128.0, seconds=3.0)
    folder = vj_show.parent
    return {"wav": write_wav(folder / "clicks.wav", clicks),
            "flac": encode_sound(folder / "clicks.flac", clicks, "flac"),
            "mp4": encode_sound(folder / "clicks.mp4", clicks, "aac", with_picture=True)}


@pytest.fixture(scope="module")
def silent(vj_show) -> list[np.ndarray]:
    return rehearsed(vj_show, "silent", SECONDS, "--size", "160x90")


@pytest.fixture(scope="module")
def with_sound(vj_show, sounds):
    """kind -> the frames of a rehearsal with that file, rehearsed once per module on first use."""
    frames: dict[str, list[np.ndarray]] = {}

    def rehearse(kind: str) -> list[np.ndarray]:
        if kind not in frames:
            frames[kind] = rehearsed(vj_show, kind, SECONDS, "--size", "160x90", "--audio", str(sounds[kind]))
        return frames[kind]

    return rehearse


def test_the_sound_files_are_what_they_claim(sounds):
    with av.open(str(sounds["flac"])) as container:
        assert [stream.codec_context.name for stream in container.streams] == ["flac"]
    with av.open(str(sounds["mp4"])) as container:
        assert sorted(stream.codec_context.name for stream in container.streams) == ["aac", "h264"]


@pytest.mark.parametrize("kind", ["wav", "flac", "mp4"])
def test_a_sound_file_drives_the_vj_show_and_rehearses_identically(vj_show, sounds, silent, with_sound, kind):
    frames = with_sound(kind)
    again = rehearsed(vj_show, f"{kind}-again", SECONDS, "--size", "160x90", "--audio", str(sounds[kind]))
    assert len(frames) == len(again) == len(silent) == round(SECONDS * 30)
    assert all(np.array_equal(a, b) for a, b in zip(frames, again)), "the same file gave other frames"
    # bass speeds the latent walk and onsets kick it: after the first click the pictures leave the silent run's
    differences = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(silent, frames)]
    assert differences[0] < 1.0 and max(differences) > 5.0, differences


def test_a_flac_of_the_same_sound_gives_exactly_the_wavs_frames(with_sound):
    assert all(np.array_equal(a, b) for a, b in zip(with_sound("wav"), with_sound("flac")))


@pytest.mark.parametrize("name, reason", [("notes.txt", "Invalid data found"), ("silent.mp4", "no audio track")])
def test_a_file_that_is_not_sound_is_refused_with_one_line_and_exit_code_2(vj_show, name, reason):
    folder = vj_show.parent
    sound = folder / name
    if name.endswith(".mp4"):
        write_test_video(sound, frames=10)  # a real video, without a sound track
    else:
        sound.write_text("set list: 1. intro 2. drop\n")
    out = folder / f"refused-{name}.mp4"
    result = latentstage("rehearse", str(vj_show), "-o", str(out), "--size", "160x90", "--seconds", "1",
                         "--audio", str(sound), cwd=folder)
    assert result.returncode == 2, result.stderr
    said = [line for line in result.stderr.splitlines() if line.startswith("latentstage:")]
    assert said == [result.stderr.strip().splitlines()[-1]], result.stderr  # one line, the last one
    assert said[0].startswith(f"latentstage: {sound}: cannot use it as the rehearsal's sound: ") and reason in said[0]
    assert "Traceback" not in result.stderr and not out.exists()


def test_the_preview_carries_the_songs_sound_and_a_contact_sheet(vj_show, sounds):
    folder = vj_show.parent
    out = folder / "with-song.mp4"
    result = latentstage("rehearse", str(vj_show), "-o", str(out), "--size", "160x90", "--seconds", "1",
                         "--audio", str(sounds["wav"]), cwd=folder)
    assert result.returncode == 0, result.stderr
    assert f"sound from {sounds['wav']}; contact sheet {out.with_suffix('.png')}" in result.stdout
    with av.open(str(out)) as container:
        sound = container.streams.audio[0]
        assert sound.codec_context.name == "aac"  # the WAV's PCM, re-encoded: MP4 holds no PCM
        samples = sum(frame.samples for frame in container.decode(audio=0))
    assert samples / RATE == pytest.approx(1.0, abs=0.1)  # the song's first second, not all three
    assert out.with_suffix(".png").stat().st_size > 1000


def test_a_video_stands_in_for_the_camera(tmp_path):
    show = tmp_path / "mirror.yaml"
    show.write_text((REPO / "shows" / "mirror.yaml").read_text().replace("../models/", f"{REPO / 'models'}/"))
    clip = write_test_video(tmp_path / "visitor.mp4", frames=30, size=(160, 96))
    written = yaml.safe_load(show.read_text())  # the same show with the clip written in as its source
    written["scenes"][0]["source"] = {"kind": "video", "path": str(clip)}
    by_hand = tmp_path / "by-hand.yaml"
    by_hand.write_text(yaml.safe_dump(written))
    idle = rehearsed(show, "no-camera", 0.5, "--size", "160x90")
    stood_in = rehearsed(show, "clip", 0.5, "--size", "160x90", "--camera", str(clip))
    assert len(stood_in) == len(idle) == 15
    assert all(np.array_equal(a, b) for a, b in zip(stood_in, rehearsed(by_hand, "by-hand", 0.5, "--size", "160x90")))
    assert all(np.abs(a.astype(int) - b.astype(int)).mean() > 10 for a, b in zip(stood_in, idle)), "the idle scene"
    refused = latentstage("rehearse", str(show), "-o", str(tmp_path / "x.mp4"), "--camera", "missing.mp4",
                          cwd=tmp_path)
    assert refused.returncode == 2 and "missing.mp4: no such video to stand in for the camera" in refused.stderr
