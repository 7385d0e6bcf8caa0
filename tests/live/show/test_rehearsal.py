"""Rehearsal end to end (README "Commands": `latentstage rehearse`; "Shows": crossfades, mirror): the CLI
renders the bundled show headless (EGL) into an MP4, deterministically, crossfades drawn pixel by pixel."""
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from live.show.director import Director
from live.show.schema import parse_show
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
    """The demo show with one change, its model and media paths still pointing into the repository."""
    text = DEMO_SHOW.read_text()
    assert old in text
    show = tmp_path / f"{name}.yaml"
    show.write_text(text.replace(old, new).replace("../models/", f"{REPO / 'models'}/")
                    .replace("path: media/", f"path: {REPO / 'shows' / 'media'}/"))
    return show


@pytest.fixture(scope="module")
def demo_frames(tmp_path_factory) -> list[np.ndarray]:
    """The bundled demo's first second as rendered (only `drift` is on screen until 12 s)."""
    folder = tmp_path_factory.mktemp("demo")
    return rehearse(DEMO_SHOW, folder / "demo.mp4")


def test_rehearsing_twice_gives_identical_frames_that_move(tmp_path, demo_frames):
    first = demo_frames
    second = rehearse(DEMO_SHOW, tmp_path / "b.mp4")
    assert len(first) == len(second) == 30
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert first[0].shape == (90, 160, 3)
    assert first[0].std() > 10, "the first frame is blank"
    assert np.abs(first[0].astype(int) - first[-1].astype(int)).mean() > 2, "the latent did not morph"
    _, times = decoded_frames(tmp_path / "b.mp4")
    assert np.allclose(np.diff(times), 1 / 30, atol=1e-3)


def test_a_crossfade_is_drawn_between_the_two_scenes(tmp_path, demo_frames):
    """Each frame of a 0.6 s fade from drift to bloom is, pixel by pixel, the mix of the two scenes
    at that moment that the director gives (smooth, not linear), to within 8-bit rounding."""
    fade = demo_variant(tmp_path, "fade", "{at: 12, scene: bloom, fade: 3}", "{at: 0.2, scene: bloom, fade: 0.6}")
    fading = rehearse(fade, tmp_path / "fade.mp4")
    bloom = rehearse(demo_variant(tmp_path, "bloom", "{at: 0, scene: drift}", "{at: 0, scene: bloom}"),
                     tmp_path / "bloom.mp4")  # bloom alone from the start: its picture at each t
    drift = demo_frames  # drift alone during the first second
    director = Director(parse_show(fade.read_text(), fade))
    assert len(fading) == len(bloom) == len(drift) == 30
    in_fade = [index for index in range(30) if director.composition_at(index / 30).previous is not None]
    assert in_fade == list(range(6, 24)), in_fade  # 0.2 s <= t < 0.8 s
    measured = {}
    for index in range(30):
        got, before, after = (frames[index].astype(float) for frames in (fading, drift, bloom))
        if index not in in_fade:  # outside the fade one scene or the other
            assert np.abs(got - (before if index < 6 else after)).max() <= 1, index
            continue
        # each pixel lies between the two scenes' pixels (give or take 8-bit rounding)
        low, high = np.minimum(before, after), np.maximum(before, after)
        outside = np.maximum(low - got, got - high).max()
        assert outside <= 1, f"frame {index}: a pixel lies {outside:.0f} levels outside the two scenes"
        # and where the scenes differ, it sits as far from drift towards bloom as the director says
        apart = np.abs(after - before) >= 32
        assert apart.mean() > 0.2, index  # enough of the picture to measure the mix on
        measured[index] = float(np.median((got - before)[apart] / (after - before)[apart]))
        mix = director.composition_at(index / 30).mix
        assert measured[index] == pytest.approx(mix, abs=0.02), (index, measured[index], mix)
    # the smooth curve, not a straight ramp: bloom shows less than linear early on, more late
    linear = {index: (index / 30 - 0.2) / 0.6 for index in measured}
    assert measured[11] < linear[11] - 0.05 and measured[20] > linear[20] + 0.05, (measured, linear)


def test_mirror_flips_the_picture_left_to_right(tmp_path, demo_frames):
    plain = demo_frames[0].astype(int)
    show = demo_variant(tmp_path, "mirror", "fit: contain", "fit: contain\n  mirror: true")
    mirrored = rehearse(show, tmp_path / "mirror.mp4")[0].astype(int)
    assert np.abs(mirrored - plain).mean() > 5, "the picture is symmetric: a flip would not show"
    assert np.abs(mirrored - plain[:, ::-1]).max() <= 1  # the PNGs are exact: at most GL rounding
