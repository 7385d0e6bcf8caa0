"""Rehearsal end to end: the CLI renders the bundled show headless (EGL) into an MP4, deterministically."""
from pathlib import Path

import av
import numpy as np

from tests.conftest import DEMO_SHOW, run_cli


def decoded_frames(path: Path) -> tuple[list[np.ndarray], list[float]]:
    with av.open(str(path)) as container:
        frames = [(frame.to_ndarray(format="rgb24"), float(frame.time)) for frame in container.decode(video=0)]
    return [f for f, _ in frames], [t for _, t in frames]


def rehearse(out: Path, *extra: str) -> list[np.ndarray]:
    result = run_cli("rehearse", str(DEMO_SHOW), "-o", str(out), "--size", "160x90", "--seconds", "1", *extra)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}: 30 frames" in result.stdout
    return decoded_frames(out)[0]


def test_rehearsing_twice_gives_identical_frames_that_move(tmp_path):
    first = rehearse(tmp_path / "a.mp4")
    second = rehearse(tmp_path / "b.mp4")
    assert len(first) == len(second) == 30
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert first[0].shape == (90, 160, 3)
    assert first[0].std() > 10, "the first frame is blank"
    assert np.abs(first[0].astype(int) - first[-1].astype(int)).mean() > 2, "the latent did not morph"
    _, times = decoded_frames(tmp_path / "a.mp4")
    assert np.allclose(np.diff(times), 1 / 30, atol=1e-3)


def test_a_crossfade_is_drawn_between_the_two_scenes(tmp_path):
    show = tmp_path / "fade.yaml"
    show.write_text(DEMO_SHOW.read_text().replace("{at: 12, scene: bloom, fade: 3}", "{at: 0.2, scene: bloom, fade: 0.6}")
                    .replace("../models/", str(DEMO_SHOW.parent.parent / "models") + "/"))
    result = run_cli("rehearse", str(show), "-o", str(tmp_path / "fade.mp4"), "--size", "160x90", "--seconds", "1")
    assert result.returncode == 0, result.stderr
    frames, _ = decoded_frames(tmp_path / "fade.mp4")
    before, during, after = (frames[i].astype(float) for i in (5, 15, 29))
    # mid-fade (t=0.5 s, half way) the picture lies between the two scenes, near neither
    assert np.abs(during - before).mean() > 5 and np.abs(during - after).mean() > 5


def test_mirror_flips_the_picture_left_to_right(tmp_path):
    plain = rehearse(tmp_path / "plain.mp4")
    show = tmp_path / "mirror.yaml"
    show.write_text(DEMO_SHOW.read_text().replace("fit: contain", "fit: contain\n  mirror: true")
                    .replace("../models/", str(DEMO_SHOW.parent.parent / "models") + "/"))
    result = run_cli("rehearse", str(show), "-o", str(tmp_path / "mirror.mp4"), "--size", "160x90", "--seconds", "1")
    assert result.returncode == 0, result.stderr
    mirrored, _ = decoded_frames(tmp_path / "mirror.mp4")
    difference = np.abs(mirrored[0].astype(int) - plain[0][:, ::-1].astype(int)).mean()
    unflipped = np.abs(mirrored[0].astype(int) - plain[0].astype(int)).mean()
    assert difference < 0.25 * unflipped, (difference, unflipped)  # H.264 blurs both a little
