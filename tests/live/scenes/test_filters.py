"""Filters on real pictures (scikit-image samples): auto-Canny, gray, fit and the chain."""
from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from skimage import data

from live.inference.model_card import ModelCard
from live.scenes.filters import (
    FilterChain,
    FilterStep,
    auto_canny,
    canny_thresholds,
    fit_to,
    median_level,
    to_gray,
    with_model_inputs,
)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()  # (512, 512, 3) uint8 RGB


def edge_fraction(edges: np.ndarray) -> float:
    return float((edges > 0).mean())


def test_auto_canny_on_a_photo_finds_a_sensible_share_of_edges(astronaut):
    edges = auto_canny(astronaut)
    assert edges.shape == astronaut.shape[:2] and edges.dtype == np.uint8
    assert set(np.unique(edges)) <= {0, 255}
    assert 0.02 <= edge_fraction(edges) <= 0.25


def test_auto_canny_wider_sigma_keeps_more_edges():
    photo = data.camera()  # (512, 512) uint8 gray
    assert edge_fraction(auto_canny(photo, sigma=0.9)) > 1.3 * edge_fraction(auto_canny(photo, sigma=0.1))


def test_auto_canny_blank_and_flat_images_have_no_edges():
    assert auto_canny(np.zeros((64, 80, 3), np.uint8)).max() == 0
    assert auto_canny(np.full((64, 80, 3), 128, np.uint8)).max() == 0


def test_auto_canny_blur_smooths_noise_and_must_be_odd():
    noise = np.random.default_rng(0).integers(0, 256, (128, 128), dtype=np.uint8)
    assert edge_fraction(auto_canny(noise, blur=7)) < edge_fraction(auto_canny(noise, blur=0))
    with pytest.raises(ValueError, match="odd"):
        auto_canny(noise, blur=4)


def test_canny_thresholds_come_from_the_median():
    assert canny_thresholds(100, 0.33) == (67, 133)
    assert canny_thresholds(200, 0.5) == (100, 255)  # clipped to the uint8 range
    gray = np.random.default_rng(1).integers(0, 256, (31, 17), dtype=np.uint8)
    assert median_level(gray) == int(np.median(gray))  # odd count: the exact median


def test_to_gray_gives_luma_and_leaves_gray_alone(astronaut):
    gray = to_gray(astronaut)
    assert gray.shape == (512, 512) and gray.dtype == np.uint8
    assert to_gray(np.full((2, 2, 3), (255, 0, 0), np.uint8))[0, 0] == 76  # ITU-R 601 weight of red
    assert to_gray(gray) is gray


def three_stripes() -> np.ndarray:
    """(100, 200, 3): red left quarter, green middle half, blue right quarter."""
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, :50] = (255, 0, 0)
    image[:, 50:150] = (0, 255, 0)
    image[:, 150:] = (0, 0, 255)
    return image


def test_fit_cover_fills_the_target_with_the_centre():
    covered = fit_to(three_stripes(), 50, 50, "cover")
    assert covered.shape == (50, 50, 3)
    assert (covered == (0, 255, 0)).all()  # the side stripes were cropped away


def test_fit_contain_letterboxes_with_black(astronaut):
    contained = fit_to(astronaut, 200, 100, "contain")
    assert contained.shape == (100, 200, 3)
    assert contained[:, :50].max() == 0 and contained[:, 150:].max() == 0  # the bars
    assert contained[:, 50:150].mean() > 40  # the picture between them
    tall = fit_to(astronaut, 100, 300, "contain")
    assert tall.shape == (300, 100, 3) and tall[:100].max() == 0 and tall[200:].max() == 0


def test_fit_stretch_and_gray_inputs_keep_exact_sizes(astronaut):
    assert fit_to(astronaut, 33, 77, "stretch").shape == (77, 33, 3)
    assert fit_to(to_gray(astronaut), 64, 48, "cover").shape == (48, 64)
    assert fit_to(astronaut, 1024, 600, "cover").shape == (600, 1024, 3)  # enlarging too


def test_filter_chain_runs_steps_in_order_and_edges_stay_one_channel(astronaut):
    chain = FilterChain([{"canny": {"sigma": 0.4}}, {"fit": {"width": 256, "height": 128, "mode": "cover"}},
                         {"gray": {}}])
    assert chain.channels == 1  # decided from the steps, before any frame
    out = chain.apply(astronaut)
    assert out.shape == (128, 256) and out.dtype == np.uint8
    assert np.array_equal(out, fit_to(auto_canny(astronaut, sigma=0.4), 256, 128, "cover"))
    assert np.array_equal(chain.apply(astronaut), out)  # buffers reused, same answer


def test_filter_chain_without_steps_passes_rgb_through(astronaut):
    chain = FilterChain()
    assert chain.channels == 3 and chain.apply(astronaut) is astronaut
    assert FilterChain([{"gray": None}]).apply(astronaut).shape == (512, 512)  # `- gray:` in YAML


def test_the_mirror_step_is_gone_the_renderer_mirrors():
    with pytest.raises(ValidationError, match=r"there is no mirror step; the renderer mirrors the whole picture: "
                                              r"give the show `window: \{mirror: true\}`"):
        FilterChain([{"mirror": {}}])


def test_a_fit_step_before_a_model_fits_the_size_the_model_runs_at():
    card = ModelCard(kind="pix2pix", input="edges", output_layout="NCHW", size_multiple=128)
    steps = with_model_inputs([FilterStep(fit={"width": 250, "height": 140, "mode": "contain"})], card)
    assert [step.name for step in steps] == ["fit", "canny"]  # the card's edges appended after
    assert (steps[0].fit.width, steps[0].fit.height, steps[0].fit.mode) == (256, 128, "contain")
    model_sized = with_model_inputs([FilterStep(fit={"width": 256, "height": 128})], card)
    assert model_sized[0].fit.width == 256 and model_sized[0].fit.height == 128


def test_filter_chain_refuses_unknown_steps_by_name():
    with pytest.raises(ValidationError, match=r"unknown filter step 'blurr'; the steps are: canny, fit, gray"):
        FilterChain([{"gray": {}}, {"blurr": {"size": 3}}])


@pytest.mark.parametrize("steps, message", [
    ([{"canny": {}, "gray": {}}], "one `name: settings` pair"),
    ([{"canny": {"sigmaa": 0.3}}], "sigmaa"),
    ([{"canny": {"sigma": -0.1}}], "greater than or equal to 0"),
    ([{"canny": {"blur": 4}}], "odd"),
    ([{"fit": {"width": 64}}], "height"),
    ([{"fit": {"width": 64, "height": 64, "mode": "crop"}}], "cover"),
    (["gray"], "FilterStep"),
])
def test_filter_chain_reports_bad_settings(steps, message):
    with pytest.raises(ValidationError, match=message):
        FilterChain(steps)
