"""A real pyglet window on a real X server (Xvfb) (README "Commands": `latentstage run`; "Shows": mirror,
crossfades drawn by the GPU): the live loop puts moving pictures on screen. Each run goes on until
the screenshots show what the test looks for, then is stopped with SIGTERM (as Esc would)."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from live.output.render import fit_scale
from tests.conftest import DEMO_SHOW, REPO, wait_for


def run_until(show: Path, shots: Path, display: str, enough, *options: str) -> list[np.ndarray]:
    """Run the show in a window, taking screenshots, until enough(pictures so far) holds; stop it as
    a supervisor would (SIGTERM) and return every screenshot (int RGB)."""
    run = subprocess.Popen([sys.executable, "-m", "live", "run", str(show), "--seconds", "600",
                            "--screenshots", str(shots), *options], cwd=REPO,
                           env={**os.environ, "DISPLAY": display}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    loaded: dict[Path, np.ndarray] = {}

    def complete() -> list[np.ndarray]:
        """The screenshots written so far; the newest may still be being written, so it waits."""
        for path in sorted(shots.glob("*.png"))[:-1]:
            if path not in loaded:
                loaded[path] = np.asarray(Image.open(path).convert("RGB"), dtype=int)
        return [loaded[path] for path in sorted(loaded)]

    try:
        assert wait_for(lambda: run.poll() is None and enough(complete()), timeout=120, poll=0.2), \
            run.communicate(timeout=60) if run.poll() is not None else "not enough screenshots"
        run.send_signal(signal.SIGTERM)
        _, errors = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 0, errors
    return [np.asarray(Image.open(path).convert("RGB"), dtype=int) for path in sorted(shots.glob("*.png"))]


def distinct(pictures: list[np.ndarray]) -> int:
    return len({picture.tobytes() for picture in pictures})


def test_the_live_window_shows_non_blank_changing_frames(tmp_path, xvfb_display):
    pictures = run_until(DEMO_SHOW, tmp_path / "shots", xvfb_display, lambda so_far: distinct(so_far) >= 4,
                         "--size", "320x180", "--hud", "--screenshot-every", "0.5")
    assert pictures[0].shape == (540, 960, 3)  # the show's window size, read back from the framebuffer
    assert all(picture.std() > 10 for picture in pictures), "a blank frame reached the screen"
    changes = [np.abs(a - b).mean() for a, b in zip(pictures, pictures[1:])]
    assert len(changes) >= 3 and np.median(changes) > 1, f"the picture froze: {changes}"


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
    def faded_to_green(so_far: list[np.ndarray]) -> bool:  # the cue at 1.5 s and its 2 s fade are over
        return any(picture[90, 280].tolist() == [0, 255, 0] for picture in so_far)

    pictures = run_until(show, tmp_path / "shots", xvfb_display, faded_to_green, "--screenshot-every", "0.1")
    first, last = pictures[0], pictures[-1]
    # mirrored: the picture's red left half is on the right of the screen
    assert first[90, 40].tolist() == [0, 0, 255] and first[90, 280].tolist() == [255, 0, 0]
    assert last[90, 280].tolist() == [0, 255, 0]
    # somewhere mid-fade the right of the screen is red and green at once
    assert any(60 < p[90, 280, 0] < 195 and 60 < p[90, 280, 1] < 195 for p in pictures), \
        [p[90, 280].tolist() for p in pictures]
