"""Frames into an image model's input and back, as its card says: edges and gray arrive as one channel
and go in as they are, a frame is resampled once each way, an RGB frame into a one-channel model is its luma."""
from __future__ import annotations

import cv2
import numpy as np
from skimage import data

from live.inference.model_card import ModelCard
from live.inference.model_io import ImageModelIO


def card(input: str, **fields) -> ModelCard:
    return ModelCard(kind="pix2pix", input=input, output_layout="NCHW", input_range=(-1.0, 1.0), **fields)


def test_edges_go_into_an_edges_model_as_one_channel():
    edges = cv2.Canny(cv2.cvtColor(data.astronaut()[:128, :256], cv2.COLOR_RGB2GRAY), 50, 150)  # (128, 256)
    tensor = ImageModelIO(card("edges", size_multiple=128)).to_input(edges)
    assert tensor.shape == (1, 1, 128, 256)
    np.testing.assert_array_equal(tensor[0, 0], edges * np.float32(2.0 / 255.0) - 1.0)


def test_one_channel_into_an_rgb_model_fills_each_plane_and_rgb_into_a_gray_model_is_its_luma():
    gray = cv2.cvtColor(data.astronaut()[:96, :160], cv2.COLOR_RGB2GRAY)
    planes = ImageModelIO(card("rgb")).to_input(gray)[0]
    assert planes.shape == (3, 96, 160) and (planes == planes[0]).all()
    rgb = data.astronaut()[:96, :160]
    luma = ImageModelIO(card("gray")).to_input(rgb)[0, 0]
    np.testing.assert_allclose(luma, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) * (2.0 / 255.0) - 1.0, atol=1e-6)


def test_a_frame_off_the_model_s_size_is_resampled_once_in_and_once_out():
    io = ImageModelIO(card("rgb", size_multiple=64, output_range=(-1.0, 1.0)))
    tensor = io.to_input(data.astronaut()[:100, :150])
    assert tensor.shape == (1, 3, 128, 128)  # the nearest multiples of 64
    frame = io.to_frame(tensor, 150, 100)
    assert frame.shape == (100, 150, 3) and frame.dtype == np.uint8
