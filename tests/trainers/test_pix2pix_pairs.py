"""trainers.pix2pix.pairs: training edges are the live filter's edges, shots stay on one side of the split."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from PIL import Image
from skimage import data

from live.inference.model_card import ModelCard
from live.output.video import VideoWriter
from live.scenes.filters import FilterChain, with_model_inputs
from trainers.pix2pix.demo_footage import camera_move
from trainers.pix2pix.pairs import (
    PairSettings,
    colour_histogram,
    find_shots,
    network_input,
    side_by_side,
    split_by_blocks,
    write_pairs,
)


def edges_card(settings: PairSettings) -> ModelCard:
    """The card a model trained on these pairs gets (the exporter copies the preprocessing onto it)."""
    made = settings.preprocessing()
    return ModelCard(kind="pix2pix", input=made["input"], output_layout="NCHW", input_range=(-1.0, 1.0),
                     output_range=(-1.0, 1.0), extra={k: v for k, v in made.items() if k != "input"})


@pytest.mark.parametrize("sigma", [0.2, 0.33, 0.6])
def test_the_live_chain_makes_exactly_the_training_edges_of_a_frame(sigma):
    frame = data.chelsea()
    settings = PairSettings(sigma=sigma)
    trained_on = network_input(frame, settings)
    live = FilterChain(with_model_inputs([], edges_card(settings))).apply(frame)
    assert trained_on.mean() > 200  # black lines on white: mostly white
    assert live.shape == trained_on.shape  # one channel, as the model takes it
    np.testing.assert_array_equal(live, trained_on)


def test_a_gray_model_gets_the_luma_it_was_trained_on():
    frame = data.astronaut()
    settings = PairSettings(input="gray")
    live = FilterChain(with_model_inputs([], edges_card(settings))).apply(frame)
    np.testing.assert_array_equal(live, network_input(frame, settings))


def test_stabilised_live_edges_boil_less_on_a_still_noisy_scene():
    rng = np.random.default_rng(0)
    still = data.coffee()
    frames = [np.clip(still + rng.normal(0, 6, still.shape), 0, 255).astype(np.uint8) for _ in range(12)]
    card = edges_card(PairSettings())

    def flips(chain: FilterChain) -> float:
        edges = [chain.apply(frame).copy() for frame in frames]
        return float(np.mean([(a != b).mean() for a, b in itertools.pairwise(edges[4:])]))

    raw = FilterChain([{"canny": {"sigma": 0.33, "blur": 3, "invert": True}}])
    assert flips(FilterChain(with_model_inputs([], card))) < 0.5 * flips(raw)


def test_pairs_put_the_input_left_for_a_to_b_and_right_for_b_to_a():
    picture = data.astronaut()[:64, :80]
    a_to_b = side_by_side(picture, PairSettings(direction="AtoB"))
    b_to_a = side_by_side(picture, PairSettings(direction="BtoA"))
    assert a_to_b.shape == (64, 160, 3)
    np.testing.assert_array_equal(a_to_b[:, 80:], picture)
    np.testing.assert_array_equal(b_to_a[:, :80], picture)
    np.testing.assert_array_equal(a_to_b[:, :80], b_to_a[:, 80:])


def test_validation_takes_whole_blocks_and_leaves_a_gap_to_training_in_each_shot():
    shots = [range(50), range(50, 53), range(53, 120)]
    settings = PairSettings(val=0.2, block=10, gap=3)
    split = split_by_blocks(shots, settings)
    val, train = set(split.val), set(split.train)
    assert not val & train and not set(split.dropped) & (val | train)
    assert len(val) >= 0.2 * 120
    for shot in shots:
        for index in shot:
            if index in train:  # no training frame within `gap` of a validation frame of its shot
                near = range(max(shot.start, index - 3), min(shot.stop, index + 4))
                assert not val & set(near), index


def test_shots_are_found_where_the_picture_changes(tmp_path):
    rng = np.random.default_rng(1)
    frames = camera_move(data.astronaut(), 12, 64, rng) + camera_move(data.coffee(), 9, 64, rng)
    assert find_shots([colour_histogram(frame) for frame in frames]) == [range(12), range(12, 21)]


def test_write_pairs_splits_a_video_by_shots_and_writes_a_manifest(tmp_path):
    rng = np.random.default_rng(2)
    video = tmp_path / "two-shots.mp4"
    with VideoWriter(video, 64, 64, 10) as writer:
        for frame in camera_move(data.chelsea(), 30, 64, rng) + camera_move(data.rocket(), 30, 64, rng):
            writer.write(frame)
    manifest = write_pairs(video, tmp_path / "pairs", PairSettings(size=(40, 40), val=0.25, block=8))
    train, val = sorted((tmp_path / "pairs/train").iterdir()), sorted((tmp_path / "pairs/val").iterdir())
    assert manifest["frames"] == 60 and manifest["shots"] == 2
    assert len(train) == manifest["train_pairs"] and len(val) == manifest["val_pairs"] >= 15
    assert len(train) + len(val) + manifest["dropped"] == 60
    assert Image.open(val[0]).size == (80, 40)
    assert json.loads((tmp_path / "pairs/pairs.json").read_text())["preprocessing"]["canny_invert"] == "true"
    assert not (tmp_path / "pairs/.all").exists()
