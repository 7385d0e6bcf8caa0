"""Rehearsal end to end: the CLI renders the bundled show headless (EGL) into an MP4, deterministically."""
from pathlib import Path

import av
import numpy as np
from PIL import Image

from tests.conftest import DEMO_SHOW, REPO, run_cli


def decoded_frames(path: Path) -> tuple[list[np.ndarray], list[float]]:
    with av.open(str(path)) as container:
        frames = [(frame.to_ndarray(format="rgb24"), float(frame.time)) for frame in container.decode(video=0)]
    return [f for f, _ in frames], [t for _, t in frames]


def rendered_frames(folder: Path) -> list[np.ndarray]:
    return [np.asarray(Image.open(path)) for path in sorted(folder.glob("frame-*.png"))]


def rehearse(show: Path, out: Path) -> list[np.ndarray]:
    """One second of the show at 160x90 (models at 80x45): the frames exactly as rendered
    (PNGs); the H.264 file beside them is checked for its frame count."""
    frames = out.with_suffix("")
    result = run_cli("rehearse", str(show), "-o", str(out), "--size", "160x90", "--seconds", "1",
                     "--frames", str(frames))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}: 30 frames" in result.stdout
    assert len(decoded_frames(out)[0]) == 30
    return rendered_frames(frames)


def demo_variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """The demo show with one change, its model paths still pointing at models/."""
    text = DEMO_SHOW.read_text()
    assert old in text
    show = tmp_path / f"{name}.yaml"
    show.write_text(text.replace(old, new).replace("../models/", f"{REPO / 'models'}/"))
    return show


def test_rehearsing_twice_gives_identical_frames_that_move(tmp_path):
    first = rehearse(DEMO_SHOW, tmp_path / "a.mp4")
    second = rehearse(DEMO_SHOW, tmp_path / "b.mp4")
    assert len(first) == len(second) == 30
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert first[0].shape == (90, 160, 3)
    assert first[0].std() > 10, "the first frame is blank"
    assert np.abs(first[0].astype(int) - first[-1].astype(int)).mean() > 2, "the latent did not morph"
    _, times = decoded_frames(tmp_path / "a.mp4")
    assert np.allclose(np.diff(times), 1 / 30, atol=1e-3)


def test_a_crossfade_is_drawn_between_the_two_scenes(tmp_path):
    show = demo_variant(tmp_path, "fade", "{at: 12, scene: bloom, fade: 3}", "{at: 0.2, scene: bloom, fade: 0.6}")
    before, during, after = (frame.astype(float) for frame in
                             (rehearse(show, tmp_path / "fade.mp4")[i] for i in (5, 15, 29)))
    # mid-fade (t=0.5 s, half way) the picture lies between the two scenes, near neither
    assert np.abs(during - before).mean() > 5 and np.abs(during - after).mean() > 5


def test_mirror_flips_the_picture_left_to_right(tmp_path):
    plain = rehearse(DEMO_SHOW, tmp_path / "plain.mp4")[0].astype(int)
    show = demo_variant(tmp_path, "mirror", "fit: contain", "fit: contain\n  mirror: true")
    mirrored = rehearse(show, tmp_path / "mirror.mp4")[0].astype(int)
    difference = np.abs(mirrored - plain[:, ::-1]).mean()
    unflipped = np.abs(mirrored - plain).mean()
    assert difference < 0.25 * unflipped, (difference, unflipped)  # H.264 blurs both a little
