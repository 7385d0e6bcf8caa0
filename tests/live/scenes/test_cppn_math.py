import numpy as np
import pytest

from live.scenes.cppn_math import coordinates, keyframes, latent_at, lerp, slerp, walk


def test_coordinates_span_the_unit_square_with_radius():
    grid = coordinates(5, 3)
    assert grid.shape == (3, 5, 3) and grid.dtype == np.float32
    assert grid[0, 0, :2].tolist() == [-1, -1] and grid[-1, -1, :2].tolist() == [1, 1]
    assert np.allclose(grid[..., 2], np.hypot(grid[..., 0], grid[..., 1]))
    assert not grid.flags.writeable  # cached and shared: nobody may change it


def test_keep_aspect_keeps_the_short_axis_in_unit_range():
    grid = coordinates(32, 18, keep_aspect=True)
    assert np.isclose(grid[..., 1].max(), 1.0) and np.isclose(grid[..., 0].max(), 32 / 18)


def test_slerp_keeps_the_norm_where_lerp_sags():
    a, b = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    assert np.isclose(np.linalg.norm(slerp(a, b, 0.5)), 1.0)
    assert np.isclose(np.linalg.norm(lerp(a, b, 0.5)), np.sqrt(0.5))
    assert np.allclose(slerp(a, b, 0.0), a) and np.allclose(slerp(a, b, 1.0), b)
    assert np.allclose(slerp(a, a, 0.3), a)  # parallel: no great circle, falls back to lerp


def test_latent_at_loops_through_the_keyframes_every_period():
    frames = keyframes(seed=4, count=3, z_dim=6)
    assert np.allclose(latent_at(frames, 0.0, period=2.0), frames[0])
    assert np.allclose(latent_at(frames, 4.0, period=2.0), frames[2])
    assert np.allclose(latent_at(frames, 6.0, period=2.0), frames[0])  # back to the start


def test_walk_counts():
    frames = keyframes(seed=1, count=4, z_dim=2)
    assert len(walk(frames, 10)) == 3 * 10 + 1
    assert len(walk(frames, 10, loop=True)) == 4 * 10


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="period"):
        latent_at(keyframes(0, 2, 2), 1.0, period=0)
    with pytest.raises(ValueError, match="interpolation"):
        walk(keyframes(0, 2, 2), 3, how="cubic")
