"""A real pyglet window on a real X server (Xvfb): the live loop puts moving pictures on screen."""
import numpy as np
from PIL import Image

from live.render import fit_scale
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
