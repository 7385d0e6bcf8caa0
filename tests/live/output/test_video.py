"""live.output.video: real H.264 files from the VideoWriter, decoded with PyAV."""
from __future__ import annotations

import numpy as np
import pytest

from live.output.video import VideoWriter, check_even_size, even_size, rgb_frame
from tests.live.output.video_files import assert_same_pictures, decoded_pictures, decoded_times, gradient


def test_rehearsal_writer_stamps_frames_at_an_exact_rate(tmp_path):
    with VideoWriter(tmp_path / "rehearsal.mp4", 64, 48, fps=24) as writer:
        for index in range(12):
            writer.write(gradient(48, 64, 10 * index))
    assert writer.frames_written == 12
    np.testing.assert_allclose(decoded_times(tmp_path / "rehearsal.mp4"), np.arange(12) / 24, atol=1e-6)


def test_frames_written_in_place_come_back_as_filled(tmp_path):
    frame, pixels = rgb_frame(48, 32)
    want = [gradient(32, 48, 60 * index) for index in range(3)]
    with VideoWriter(tmp_path / "reused.mp4", 48, 32, fps=25) as writer:
        for picture in want:
            pixels[:] = picture  # one frame refilled each time: the writer must not keep it
            writer.write_frame(frame)
    assert_same_pictures(want, decoded_pictures(tmp_path / "reused.mp4"))


def test_a_writer_takes_timestamps_only_in_timestamped_mode(tmp_path):
    with VideoWriter(tmp_path / "exact.mp4", 32, 32, fps=30) as writer:
        with pytest.raises(ValueError, match="exact-rate"):
            writer.write(gradient(32, 32, 0), at=0.5)
        writer.write(gradient(32, 32, 0))
    with VideoWriter(tmp_path / "vfr.mp4", 32, 32, fps=30, timestamped=True) as writer:
        with pytest.raises(ValueError, match="needs `at`"):
            writer.write(gradient(32, 32, 0))
        writer.write(gradient(32, 32, 0), at=0.0)


@pytest.mark.parametrize("width, height", [(641, 480), (640, 361)])
def test_odd_sizes_are_refused_with_a_clear_message(tmp_path, width, height):
    with pytest.raises(ValueError, match=f"even width and height, got {width}x{height}"):
        VideoWriter(tmp_path / "odd.mp4", width, height, fps=30)
    assert not (tmp_path / "odd.mp4").exists()


@pytest.mark.parametrize("size, even", [((640, 480), (640, 480)), ((641, 480), (640, 480)),
                                        ((640, 361), (640, 360)), ((41, 31), (40, 30))])
def test_even_size_drops_the_odd_row_and_column_and_passes_the_check(size, even):
    assert even_size(*size) == even
    check_even_size(*even)
