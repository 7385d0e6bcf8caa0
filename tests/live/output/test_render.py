"""A real pyglet window on a real X server (Xvfb): the live loop puts moving pictures on screen."""
import numpy as np
from PIL import Image

from live.output.render import fit_scale
from tests.conftest import DEMO_SHOW, run_cli


def test_the_live_window_shows_non_blank_changing_frames(tmp_path, xvfb_display):
    shots = tmp_path / "shots"
    result = run_cli("run", str(DEMO_SHOW), "--size", "320x180", "--seconds", "5", "--hud",
                     "--screenshots", str(shots), "--screenshot-every", "0.5",
                     env={"DISPLAY": xvfb_display}, timeout=120)
    assert result.returncode == 0, result.stderr
    pictures = [np.asarray(Image.open(path)) for path in sorted(shots.glob("*.png"))]
    assert len(pictures) >= 3, result.stdout + result.stderr
    assert pictures[0].shape == (540, 960, 3)  # the show's window size, read back from the framebuffer
    assert all(picture.std() > 10 for picture in pictures), "a blank frame reached the screen"
    changes = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(pictures, pictures[1:])]
    assert min(changes) > 1, f"the picture froze: {changes}"


def test_fit_modes_keep_or_fill_the_aspect():
    assert fit_scale((1600, 900), (800, 450), "contain") == (1.0, 1.0)
    assert fit_scale((1600, 900), (1000, 1000), "contain") == (1.0, 0.5625)  # letterboxed
    assert fit_scale((1600, 900), (1000, 1000), "cover") == (1600 / 900, 1.0)  # cropped left and right
    assert fit_scale((1600, 900), (1000, 1000), "stretch") == (1.0, 1.0)


def solid_folder(folder, left, right=None, size=(320, 180)):
    """An image folder holding one picture: `left` colour on the left half, `right` on the right."""
    folder.mkdir()
    picture = np.zeros((size[1], size[0], 3), np.uint8)
    picture[:, : size[0] // 2] = left
    picture[:, size[0] // 2:] = right if right is not None else left
    Image.fromarray(picture).save(folder / "picture.png")
    return folder


def test_the_window_mirrors_and_crossfades_by_pixel_values(tmp_path, xvfb_display):
    import yaml

    solid_folder(tmp_path / "split", left=(255, 0, 0), right=(0, 0, 255))
    solid_folder(tmp_path / "green", left=(0, 255, 0))
    show = tmp_path / "show.yaml"
    show.write_text(yaml.safe_dump({
        "output": {"width": 320, "height": 180, "fps": 30},
        "window": {"width": 320, "height": 180, "mirror": True},
        "scenes": [
            {"name": "split", "kind": "pipeline", "source": {"kind": "images", "folder": "split"}},
            {"name": "green", "kind": "pipeline", "source": {"kind": "images", "folder": "green"}},
        ],
        "cues": [{"at": 0, "scene": "split"}, {"at": 1.5, "scene": "green", "fade": 2.0}],
    }))
    shots = tmp_path / "shots"
    result = run_cli("run", str(show), "--seconds", "4.5", "--screenshots", str(shots),
                     "--screenshot-every", "0.1", env={"DISPLAY": xvfb_display}, timeout=120)
    assert result.returncode == 0, result.stderr
    pictures = [np.asarray(Image.open(path)).astype(int) for path in sorted(shots.glob("*.png"))]
    first, last = pictures[0], pictures[-1]
    # mirrored: the picture's red left half is on the right of the screen
    assert first[90, 40].tolist() == [0, 0, 255] and first[90, 280].tolist() == [255, 0, 0]
    assert last[90, 280].tolist() == [0, 255, 0]
    # somewhere mid-fade the right of the screen is red and green at once
    assert any(60 < p[90, 280, 0] < 195 and 60 < p[90, 280, 1] < 195 for p in pictures), \
        [p[90, 280].tolist() for p in pictures]
