"""Presence from a camera's own frames: high while a figure crosses the room, low in the empty room whatever its
sensor noise and auto-exposure do, the same numbers for the same frames."""
from __future__ import annotations

import numpy as np

from live.inputs.presence import PresenceEstimator
from tests.room_clip import camera_frame, room, visit_then_empty, with_figure

FPS = 15.0


def levels(frames, fps: float = FPS, **options) -> list[float]:
    estimator = PresenceEstimator(**options)
    return [estimator.note(frame, index / fps) for index, frame in enumerate(frames)]


def test_a_figure_crossing_reads_high_and_the_empty_room_low_through_heavy_noise_and_an_exposure_step():
    walk, still = 2.0, 6.0
    read = levels(visit_then_empty(walk, still, FPS, noise=20.0, exposure_step_at=2.0))
    seconds = np.arange(len(read)) / FPS
    walking = (seconds >= 1.0) & (seconds < 0.5 + walk)  # half a second in: the level has risen
    empty = (seconds >= 0.5 + walk + 3.0) & (seconds < 0.5 + walk + still)  # three seconds after it left
    back = seconds >= 0.5 + walk + still + 0.5
    assert min(np.array(read)[walking]) > 0.8, read
    assert max(np.array(read)[empty]) < 0.1, read  # the exposure step came in the middle of this
    assert min(np.array(read)[back]) > 0.8, read


def test_an_empty_room_under_exposure_flicker_stays_near_zero():
    rng = np.random.default_rng(1)
    empty = room()
    gains = [1.0, 0.8, 1.15, 0.9, 1.25] * 12  # auto-exposure hunting from frame to frame
    read = levels(camera_frame(empty, rng, 8.0, gain) for gain in gains)
    assert max(read) < 0.05, read


def test_a_figure_standing_still_is_present_until_the_background_takes_it_in():
    rng = np.random.default_rng(2)
    empty, standing = room(), with_figure(room(), 0.5)
    frames = [camera_frame(empty, rng) for _ in range(15)] + [camera_frame(standing, rng) for _ in range(150)]
    read = levels(frames, background=2.0)
    assert read[15 + 15] > 0.8  # a second after stepping in, standing still: present
    assert read[-1] < 0.1  # after five background time constants it is part of the room (said in the docs)


def test_the_same_frames_give_the_same_presence_and_a_grey_camera_works_too():
    frames = list(visit_then_empty(1.0, 1.0, FPS))
    assert levels(frames) == levels(frames)
    grey = [frame[..., 1].copy() for frame in frames]
    assert max(levels(grey)) > 0.8
