"""A ShaderPicture (live.output.picture): a fragment program and its uniforms, drawn by the renderer into a
layer with no knowledge of what made it; uniforms of one to four components and arrays reach the program."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from live.output.picture import FragmentProgram, ShaderPicture, Uniform
from tests.conftest import REPO


def test_a_program_and_its_uniforms_are_drawn_into_the_layer():
    done = subprocess.run([sys.executable, "-m", "tests.live.output.shader_picture_probe"], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    pixels = np.array(json.loads(done.stdout.splitlines()[-1]))
    assert pixels.shape == (8, 16, 3)
    assert (pixels[0] == 255).all()  # the program's row 0 is the picture's first row
    assert (pixels[1:, :8] == [255, 0, 0]).all()  # tint[0]
    assert (pixels[1:, 8:] == [0, 128, 128]).all()  # tint[1] times level 0.5, rounded


def test_a_uniform_is_whole_items_and_a_picture_needs_no_copy():
    with pytest.raises(ValueError, match="do not make 4-component items"):
        Uniform("tint", 4, (1.0, 0.0, 0.0))
    picture = ShaderPicture(FragmentProgram("", "empty"), (Uniform("level", 1, (0.5,)),), 6, 4)
    assert picture.copy() is picture and picture.shape == (4, 6, 3)
