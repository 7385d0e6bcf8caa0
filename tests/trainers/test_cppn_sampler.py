"""cppn-tensorflow's Sampler workflow on our CPPN: stills at 1080p, reinit with a recorded seed,
morphing GIFs that play at the asked rate, numpy latents everywhere."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from tests.conftest import REPO
from tests.onnx_graph import card_of
from trainers.cppn.model import CPPN, CPPNConfig
from trainers.cppn.sample import centisecond_delays
from trainers.cppn.sampler import Sampler


def gif_delays_ms(path) -> list[int]:
    with Image.open(path) as gif:
        return [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]


def test_the_sampler_workflow_of_a_cppn_tensorflow_user(tmp_path):
    """As a user runs it: a script against the installed package, in its own process."""
    script = textwrap.dedent("""
        import sys
        from trainers.cppn.sampler import Sampler
        out = sys.argv[1]
        gray = Sampler(z_dim=8, c_dim=1, scale=10.0, net_size=16)
        z = gray.generate_z()
        gray.save_png(gray.generate(z, x_dim=1920, y_dim=1080, scale=10.0), out + "/gray.png")
        colour = Sampler(z_dim=8, c_dim=3, scale=8.0, net_size=16, seed=5)
        colour.save_png(colour.generate(colour.generate_z(), x_dim=1920, y_dim=1080, scale=8.0), out + "/colour.png")
        first_seed = colour.seed
        new_seed = colour.reinit()
        colour.save_png(colour.generate(z, 64, 48, 8.0), out + "/reinit.png")
        Sampler(c_dim=3, scale=8.0, net_size=16, seed=new_seed).save_png(
            Sampler(c_dim=3, scale=8.0, net_size=16, seed=new_seed).generate(z, 64, 48, 8.0), out + "/again.png")
        colour.export(out + "/reinit.onnx", z)
        n = colour.save_anim_gif(z, colour.generate_z(), out + "/morph.gif", n_frame=7, duration=1 / 30,
                                 duration1=0.5, duration2=1.0, x_dim=48, y_dim=32, scale=8.0, reverse=True)
        print(first_seed, new_seed, n)
    """)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                          cwd=REPO, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    first_seed, new_seed, frames_written = map(int, done.stdout.split())
    with Image.open(tmp_path / "gray.png") as gray, Image.open(tmp_path / "colour.png") as colour:
        assert (gray.size, gray.mode, colour.size, colour.mode) == ((1920, 1080), "L", (1920, 1080), "RGB")
        assert np.asarray(gray).std() > 5 and np.asarray(colour).std() > 5
    assert first_seed == 5 and new_seed != 5
    # reinit's seed names the picture, and the export's card says so
    assert np.array_equal(np.asarray(Image.open(tmp_path / "reinit.png")), np.asarray(Image.open(tmp_path / "again.png")))
    assert card_of(tmp_path / "reinit.onnx").seed == new_seed
    # z1, 7 between, z2, then 7 back and z1 again: 2 * 7 + 3 frames, ends held as cppn-tensorflow does
    assert frames_written == 17
    delays = gif_delays_ms(tmp_path / "morph.gif")
    assert len(delays) == 17
    assert delays[0] == 500 and delays[8] == 1000 and delays[-1] == 500
    # 2.4667 s to the nearest centisecond: the middle frames' rounding spread (3 cs each would give 2.42 s)
    assert sum(delays) == 10 * round(100 * (0.5 + 14 / 30 + 1.0 + 0.5)) == 2470
    assert set(delays[1:8]) == {30, 40}


@pytest.mark.parametrize("fps", [30, 60, 24, 7])
def test_gif_delays_keep_the_total_duration_right(fps):
    delays = centisecond_delays([1 / fps] * (3 * fps))
    assert sum(delays) == 300  # three seconds exactly
    assert max(delays) - min(delays) <= 1
    assert centisecond_delays([0.5, 1 / 30, 1 / 30, 1 / 30, 1.0]) == [50, 3, 4, 3, 100]


def test_numpy_latents_work_wherever_torch_ones_do():
    model = CPPN(CPPNConfig(net_size=8, depth=2))
    z = np.linspace(-1, 1, 8)  # float64, flat: as numpy hands them out
    from_numpy = model.render(20, 10, z)
    assert torch.equal(from_numpy, model.render(20, 10, torch.from_numpy(z).float().reshape(1, -1)))
    sampler = Sampler(c_dim=3, net_size=8, seed=1)
    assert sampler.generate(z, 20, 10, 10.0).shape == (10, 20, 3)
    assert sampler.generate(torch.from_numpy(z), 20, 10, 10.0).shape == (10, 20, 3)
