"""Frames into the tensors an image model wants, and its output back into frames, as its card says.

A pix2pix or style model's card gives what its input holds (edges, gray or
RGB), the value ranges in and out, the channel order, the layout and the size
multiple; nothing else is assumed. Buffers are allocated once per size and
reused, so the live loop allocates nothing per frame: the arrays returned are
valid until the next call.
"""
from __future__ import annotations

import cv2
import numpy as np

from live.core.imaging import to_uint8
from live.inference.model_card import CardKind, ModelCard, register_card_kind

# Image models: a picture in (edges, gray or RGB), a picture out, NCHW
PICTURES = ("edges", "gray", "rgb")
register_card_kind(CardKind("pix2pix", PICTURES))
register_card_kind(CardKind("style", PICTURES))


def model_size(width: int, height: int, card: ModelCard) -> tuple[int, int]:
    """(width, height) the model runs at for a frame of this size: its native size if it has
    one, else the frame's size rounded to the nearest multiple it accepts (at least one)."""
    if card.native_size is not None:
        return card.native_size
    m = card.size_multiple
    return max(m, round(width / m) * m), max(m, round(height / m) * m)


class ImageModelIO:
    """Converts uint8 frames (H, W) or (H, W, 3) RGB to a (1, C, h, w) float32 input, and the model's
    output back to (H, W, 3) uint8 RGB: each way with at most one resample, between the frame's size
    and the model's."""

    def __init__(self, card: ModelCard):
        if card.output_layout != "NCHW":
            raise ValueError(f"image models give NCHW output; this card says {card.output_layout}")
        self.card = card
        self._input: np.ndarray | None = None  # (1, C, h, w) float32
        self._output: np.ndarray | None = None  # (H, W, 3) uint8 RGB
        self._scratch: np.ndarray | None = None  # (h, w, 3) float32 at the model's size
        self._model_rgb: np.ndarray | None = None  # (h, w, 3) uint8 at the model's size, when it differs

    @property
    def input_channels(self) -> int:
        return 3 if self.card.input == "rgb" else 1

    def to_input(self, image: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """(H, W) or (H, W, 3) uint8 RGB -> (1, C, h, w) float32 in the card's input range, at the
        model_size of the frame's size times `scale` (resampled once, if the frame is not that size already)."""
        height, width = image.shape[:2]
        size = model_size(max(1, round(width * scale)), max(1, round(height * scale)), self.card)
        if (width, height) != size:
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        channels = self.input_channels
        if self._input is None or self._input.shape != (1, channels, size[1], size[0]):
            self._input = np.empty((1, channels, size[1], size[0]), dtype=np.float32)
        low, high = self.card.input_range
        scale = (high - low) / 255.0
        if image.ndim == 2:  # edges or gray: the one plane, or the same plane in each of an RGB model's
            for plane in range(channels):
                np.multiply(image, scale, out=self._input[0, plane])
        elif channels == 1:  # an RGB frame into a model of one channel: its luma
            np.multiply(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), scale, out=self._input[0, 0])
        else:
            order = (2, 1, 0) if self.card.channel_order == "BGR" else (0, 1, 2)
            for plane, channel in enumerate(order):
                np.multiply(image[..., channel], scale, out=self._input[0, plane])
        self._input += low
        return self._input

    def to_frame(self, output: np.ndarray, width: int, height: int) -> np.ndarray:
        """(1, 3, h, w) in the card's output range -> (height, width, 3) uint8 RGB."""
        planes = output[0]
        if planes.shape[0] == 1:
            planes = np.repeat(planes, 3, axis=0)  # a gray model: the same picture in each channel
        elif self.card.channel_order == "BGR":
            planes = planes[::-1]
        hwc = np.transpose(planes, (1, 2, 0))  # a view: (h, w, 3)
        if self._scratch is None or self._scratch.shape != hwc.shape:
            self._scratch = np.empty(hwc.shape, dtype=np.float32)
        if self._output is None or self._output.shape != (height, width, 3):
            self._output = np.empty((height, width, 3), dtype=np.uint8)
        if hwc.shape[:2] == (height, width):
            return to_uint8(hwc, self.card.output_range, out=self._output, scratch=self._scratch)
        if self._model_rgb is None or self._model_rgb.shape != hwc.shape:
            self._model_rgb = np.empty(hwc.shape, dtype=np.uint8)
        to_uint8(hwc, self.card.output_range, out=self._model_rgb, scratch=self._scratch)
        return cv2.resize(self._model_rgb, (width, height), dst=self._output, interpolation=cv2.INTER_LINEAR)
