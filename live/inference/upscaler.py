"""Super-resolution of frames through an "sr" model file, tile by tile, so memory stays bounded.

An sr file (GAN-CONTRACT.md) takes (N, 3, h, w) RGB in [0, 1] at any size and
gives (N, 3, s*h, s*w), s being its card's `scale`. A 1024 x 1024 picture run
whole would hold every layer's activations at that size (32 channels: 134 MB a
layer) and a 4096 x 4096 float output; instead the frame is cut into tiles of
`tile` input pixels, each run with `margin` pixels of the picture around it (more
than the network's reach, so the stitched result matches a whole-image run), and
only each tile's own part of the output is kept. Every tile window has the same
shape (windows at the picture's edge slide inwards), so the engine keeps one set
of buffers. Memory is then one tile's activations plus the 8-bit output.

This module registers the "sr" card kind: its card must give `scale`.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from live.core.imaging import to_uint8
from live.inference.engine import Engine, EngineConfig, EngineError, read_card
from live.inference.model_card import CardKind, register_card_kind

KIND = "sr"
register_card_kind(CardKind(KIND, ("rgb",), required=("scale",), describe=lambda card: f"scale=x{card.scale:g}"))

DEFAULT_TILE = 256  # input pixels a side: ~11 MB of activations a layer at width 32, a 1024-pixel output tile
DEFAULT_MARGIN = 8  # input pixels of context each side; the shipped network reaches 6 (bicubic 2 more)


class Upscaler:
    """(H, W, 3) uint8 RGB -> (s*H, s*W, 3) uint8 RGB through an sr model, tiled. Build it with Upscaler.load."""

    def __init__(self, engine: Engine, tile: int = DEFAULT_TILE, margin: int = DEFAULT_MARGIN):
        if tile < 1 or margin < 0:
            raise ValueError(f"tile must be at least 1 and margin 0 or more, got {tile} and {margin}")
        self.engine = engine
        self.scale = int(engine.card.scale)
        self.tile = tile
        self.margin = margin
        self._input_name = engine.input_names[0]
        self._output_name = engine.output_names[0]
        self._output: np.ndarray | None = None  # (s*H, s*W, 3) uint8, reused while the size holds

    @classmethod
    def load(cls, path: str | Path, config: EngineConfig | None = None, tile: int = DEFAULT_TILE,
             margin: int = DEFAULT_MARGIN) -> Upscaler:
        """The sr model in `path`; any other kind of model is refused (EngineError, one line)."""
        path = Path(path)
        card = read_card(path)  # refused before a session opens
        if card.kind != KIND:
            raise EngineError(f"{path}: a {card.kind} model, not a super-resolution ({KIND}) model")
        if card.scale != int(card.scale) or card.scale < 2:
            raise EngineError(f"{path}: its card's scale {card.scale!r} is not a whole number of 2 or more")
        return cls(Engine.load(path, config), tile, margin)

    def upscale(self, frame: np.ndarray) -> np.ndarray:
        """The frame `scale` times larger each way, in a buffer reused by the next call at the same size."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got {frame.dtype} {frame.shape}")
        height, width = frame.shape[:2]
        s = self.scale
        if self._output is None or self._output.shape != (s * height, s * width, 3):
            self._output = np.empty((s * height, s * width, 3), dtype=np.uint8)
        rows = _windows(height, self.tile, self.margin)
        columns = _windows(width, self.tile, self.margin)
        for top, bottom, window_top, window_bottom in rows:
            for left, right, window_left, window_right in columns:
                window = frame[window_top:window_bottom, window_left:window_right]
                planes = np.ascontiguousarray(window.transpose(2, 0, 1)[None], dtype=np.float32)
                planes *= 1.0 / 255.0
                made = self.engine.run({self._input_name: planes})[self._output_name][0]  # (3, s*h, s*w)
                inner = made[:, s * (top - window_top):s * (bottom - window_top),
                             s * (left - window_left):s * (right - window_left)]
                to_uint8(inner.transpose(1, 2, 0), out=self._output[s * top:s * bottom, s * left:s * right])
        return self._output


def upscale_to(upscaler: Upscaler, frame: np.ndarray, scale: int) -> np.ndarray:
    """The frame `scale` times larger each way: the model's own scale directly, a smaller one by
    running the model and shrinking its output by area averaging. A larger scale than the model's
    is refused (ValueError): upscaling a picture further would only blur it."""
    if scale == upscaler.scale:
        return upscaler.upscale(frame)
    if not 1 <= scale < upscaler.scale:
        raise ValueError(f"--scale {scale}: this model upscales {upscaler.scale}x, so 1 to {upscaler.scale} only")
    size = (frame.shape[1] * scale, frame.shape[0] * scale)
    return cv2.resize(upscaler.upscale(frame), size, interpolation=cv2.INTER_AREA)


def _windows(length: int, tile: int, margin: int) -> list[tuple[int, int, int, int]]:
    """(start, end, window start, window end) along one axis: tiles of `tile` pixels covering 0..length,
    each in a window of tile + 2*margin pixels (all the same, slid inside the picture; the whole axis when
    it is shorter)."""
    span = min(length, tile + 2 * margin)
    windows = []
    for start in range(0, length, tile):
        end = min(start + tile, length)
        window_start = min(max(0, start - margin), length - span)  # holds the tile whole: span >= tile + margin
        windows.append((start, end, window_start, window_start + span))
    return windows
