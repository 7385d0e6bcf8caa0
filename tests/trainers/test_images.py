"""trainers.common.images and plots: sample grids and loss curves as real PNG files."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from trainers.common.images import image_grid, save_png, to_uint8
from trainers.common.plots import save_loss_plot

REPO = Path(__file__).resolve().parents[2]


def test_a_grid_lays_images_out_row_by_row_with_gaps():
    tiles = [np.full((4, 6, 3), value, np.uint8) for value in (10, 20, 30)]
    grid = image_grid(tiles, columns=2, gap=1)
    assert grid.shape == (2 * 4 + 1, 2 * 6 + 1, 3)
    assert grid[0, 0, 0] == 10 and grid[0, 7, 0] == 20 and grid[5, 0, 0] == 30
    assert grid[4, :, :].max() == 0 and grid[5:, 7:].max() == 0  # the gap row, the empty last cell


def test_a_grid_mixes_float_tensors_and_uint8_arrays():
    grid = image_grid([torch.ones(2, 3, 1), np.zeros((2, 3, 1), np.uint8)], columns=5)
    assert grid.shape == (2, 6, 1) and grid.dtype == np.uint8
    assert grid[:, :3].min() == 255 and grid[:, 3:].max() == 0
    with pytest.raises(ValueError, match="share one shape"):
        image_grid([np.zeros((2, 2, 3)), np.zeros((3, 2, 3))], columns=2)


def test_to_uint8_rounds_floats_and_passes_bytes_through():
    np.testing.assert_array_equal(to_uint8(np.array([[[0.0, 0.5, 1.2]]])), [[[0, 128, 255]]])
    pixels = np.arange(6, dtype=np.uint8).reshape(1, 2, 3)
    assert to_uint8(pixels) is pixels


@pytest.mark.parametrize("channels, mode", [(1, "L"), (3, "RGB")])
def test_save_png_writes_gray_or_rgb(tmp_path, channels, mode):
    image = torch.rand(10, 20, channels)
    with Image.open(save_png(image, tmp_path / "deep" / "picture.png")) as png:
        assert (png.format, png.mode, png.size) == ("PNG", mode, (20, 10))
        np.testing.assert_array_equal(np.asarray(png).reshape(10, 20, channels), to_uint8(image))


def test_a_loss_plot_is_a_real_png_and_handles_negative_and_nan_values(tmp_path):
    losses = {"generator": [2.0 / (step + 1) for step in range(50)],
              "discriminator": [math.sin(step / 5) for step in range(49)] + [math.nan]}
    path = save_loss_plot(losses, tmp_path / "loss.png", title="gan")
    with Image.open(path) as plot:
        assert plot.format == "PNG" and plot.size == (600, 350)
        assert np.asarray(plot.convert("L")).std() > 10
    with Image.open(save_loss_plot({}, tmp_path / "empty.png", title="nothing")) as empty:
        assert empty.size == (600, 350)


def test_plotting_needs_no_pyplot_and_switches_no_backend(tmp_path):
    # dict.__getitem__ reads the backend setting as it is: rcParams["backend"] would resolve it, importing pyplot
    script = ("import sys, matplotlib; backend = lambda: dict.__getitem__(matplotlib.rcParams, 'backend'); "
              "before = backend(); from trainers.common.plots import save_loss_plot; "
              f"save_loss_plot({{'mse': [1.0, 0.5]}}, {str(tmp_path / 'loss.png')!r}, 'fresh process'); "
              "print('matplotlib.pyplot' in sys.modules, backend() == before)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={**os.environ, "MPLBACKEND": ""})
    assert result.stdout.split() == ["False", "True"], result.stderr
    assert (tmp_path / "loss.png").is_file()
