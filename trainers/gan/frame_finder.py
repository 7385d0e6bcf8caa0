"""Find a painting's frame, mat or museum border, so that only the picture is kept.

Each side is searched on its own (the picture turned so that side is on top),
for the deepest cut that has two pieces of evidence at once:

- a strong, straight, long edge: the colour step between the two rows above
  and the two rows below the cut is large along nearly the whole side (its
  10th percentile over the side's middle part must pass `edge_contrast`), so
  a step that comes and goes, as a painted horizon's does, is no frame;
- a frame-like band outside the cut: every row of the band (but a few
  ornament rows) is nearly one colour along the side at large scale (a
  molding, gilding or mat changes across the band, not along it), measured
  after smoothing away fine ornament and noise and removing a straight
  lighting ramp; a painting's rows change along the side.

The deepest such cut wins, so a mat inside a frame is cut with the frame.
Only the middle of each side is read (`span`), where no other side's frame
reaches, and never deeper than `max_share` of the picture across.

A frame goes round a picture, and a painted pillar or a band of sky can pass
both tests on one side. So a cut deeper than `frame_share` of the shorter
side counts only when at least three sides have one; otherwise a side keeps
only a cut whose band is one flat colour (a photograph's backdrop, a plain
mat) or a shallow one. When three sides are framed, the fourth, whose edge
may be too weak for the first test (a painting as dark as its frame there),
takes the edge along at least half its length nearest the others' mean width.
Pictures with no frame keep every pixel.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EDGE_ROWS = 2  # rows averaged either side of a cut: the step is read between these two bands


@dataclass(frozen=True)
class FrameSettings:
    max_share: float = 0.2  # deepest cut a side, as a share of the picture across that side
    edge_contrast: float = 0.10  # colour step (RGB in 0..1, Euclidean) that 90% of the edge line must reach
    band_variation: float = 0.06  # largest large-scale colour change along a row of the band outside a cut
    edge_over_band: float = 2.0  # the edge's step must be this many times the band's own change
    span: float = 0.6  # the middle share of each side that is read
    frame_share: float = 0.03  # a cut this deep (share of the picture's shorter side) counts as a frame on its side
    plain_band: float = 0.03  # a band whose pixels vary less than this (std, RGB in 0..1) is flat

    def __post_init__(self) -> None:
        if not 0 < self.max_share < 0.5:
            raise ValueError(f"max_share must be above 0 and below 0.5, got {self.max_share}")
        if not 0 < self.span <= 1:
            raise ValueError(f"span must be above 0 and at most 1, got {self.span}")


@dataclass(frozen=True)
class FrameCut:
    """Pixels cut from each side of a (width x height) picture."""

    left: int
    top: int
    right: int
    bottom: int
    width: int
    height: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the kept picture, in Pillow's crop convention."""
        return self.left, self.top, self.width - self.right, self.height - self.bottom

    @property
    def is_whole(self) -> bool:
        return not (self.left or self.top or self.right or self.bottom)

    def describe(self) -> str:
        if self.is_whole:
            return "no frame"
        return f"cut left {self.left}, top {self.top}, right {self.right}, bottom {self.bottom} px"


def find_frame(pixels: np.ndarray, settings: FrameSettings = FrameSettings()) -> FrameCut:
    """The frame around a (H, W, 3) picture (uint8, or float in [0, 1]), as pixels cut from each side."""
    image = np.asarray(pixels, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) picture, got shape {image.shape}")
    if np.asarray(pixels).dtype == np.uint8:
        image = image / 255.0
    height, width = image.shape[:2]
    across = image.transpose(1, 0, 2)  # the left side on top
    sides = {"left": across, "top": image, "right": across[::-1], "bottom": image[::-1]}
    evidence = {name: SideEvidence.of(side, settings) for name, side in sides.items()}
    # a frame goes round the picture: a textured band counts only when most sides have one
    cuts = {name: side.deepest_cut() for name, side in evidence.items()}
    frame = settings.frame_share * min(height, width)  # pixels: a frame is about as wide all round
    framed = {name for name in sides if cuts[name] >= frame}
    depth = {}
    for name, side in evidence.items():
        if len(framed) < 3:
            depth[name] = side.deepest_cut(plain_or_below=frame)
        elif name in framed:
            depth[name] = cuts[name]
        else:  # the others are framed: this side's frame is likely about as wide, its edge maybe too weak to pass
            depth[name] = side.nearest_peak(float(np.mean([cuts[other] for other in framed]))) or cuts[name]
    return FrameCut(**depth, width=width, height=height)


@dataclass(frozen=True)
class SideEvidence:
    """What one side shows (the picture turned so the side is on top): [y] is about a cut of y rows."""

    peaks: list[int]  # cuts where the step along half the side (its median) peaks and passes edge_contrast
    cuts: list[int]  # the peaks with a frame-like band outside, shallowest first
    plain: list[bool]  # for each cut: the band outside is one flat colour (a photograph's background, a plain mat)

    @classmethod
    def of(cls, image: np.ndarray, settings: FrameSettings) -> SideEvidence:
        height, width = image.shape[:2]
        deepest = int(height * settings.max_share)
        margin = int(width * (1 - settings.span) / 2)
        middle = image[:deepest + EDGE_ROWS, margin:width - margin]
        if deepest < 1 or middle.shape[1] < 8:
            return cls([], [], [])
        # the step along 90% of the side (a frame's edge), and along half of it (a weaker edge, for a
        # side whose neighbours are framed)
        strength, support = edge_strength(middle, deepest, (10, 50))
        variation = row_variation(middle[:deepest])  # [y]: row y's change along the side
        cuts, plain = [], []
        for y in _peaks(strength, settings.edge_contrast):
            band = float(np.percentile(variation[:y], 90))
            if band <= settings.band_variation and strength[y] >= settings.edge_over_band * band:
                cuts.append(y)
                plain.append(float(middle[:y].reshape(-1, 3).std(axis=0).max()) <= settings.plain_band)
        return cls(_peaks(support, settings.edge_contrast), cuts, plain)

    def deepest_cut(self, plain_or_below: float | None = None) -> int:
        """The deepest cut (0 if none); with `plain_or_below`, only those with a plain band or shallower."""
        return max((y for y, flat in zip(self.cuts, self.plain)
                    if plain_or_below is None or flat or y < plain_or_below), default=0)

    def nearest_peak(self, expected: float) -> int:
        """The edge peak nearest `expected` rows, from half to one and a half times it, whatever the band
        outside (0 if none)."""
        near = [y for y in self.peaks if expected / 2 <= y <= expected * 1.5]
        return min(near, key=lambda y: abs(y - expected), default=0)


def _peaks(strength: np.ndarray, floor: float) -> list[int]:
    """The rows y >= 1 where `strength` peaks at `floor` or above."""
    last = len(strength) - 1
    return [y for y in range(1, last + 1) if strength[y] >= floor and strength[y] >= strength[y - 1]
            and (y == last or strength[y] >= strength[y + 1])]


def edge_strength(image: np.ndarray, deepest: int, percentiles: tuple[float, ...]) -> np.ndarray:
    """(len(percentiles), deepest + 1): for each row y, percentiles along the side of the colour step
    between the EDGE_ROWS rows above y and those from y on (0 for y = 0). Columns are smoothed a little
    first, so noise or grain does not break a line."""
    smooth = _box_along(image, 5)
    sums = np.concatenate([np.zeros_like(smooth[:1]), np.cumsum(smooth, axis=0)])  # sums[y] = rows < y
    rows = np.arange(1, deepest + 1)
    tops = np.maximum(0, rows - EDGE_ROWS)
    above = (sums[rows] - sums[tops]) / (rows - tops)[:, None, None]
    below = (sums[rows + EDGE_ROWS] - sums[rows]) / EDGE_ROWS
    steps = np.linalg.norm(above - below, axis=-1)  # (deepest, W')
    strength = np.zeros((len(percentiles), deepest + 1), np.float32)
    strength[:, 1:] = np.percentile(steps, percentiles, axis=1)
    return strength


def row_variation(image: np.ndarray) -> np.ndarray:
    """(H,): each row's large-scale colour change along the side: the row smoothed over an eighth of its
    length (fine ornament and noise gone), a straight ramp (light falling across a frame) taken out, and
    the largest channel's standard deviation of what is left."""
    width = image.shape[1]
    smooth = _box_along(image, max(3, width // 8))
    position = np.linspace(-1, 1, smooth.shape[1], dtype=np.float32)
    slope = (smooth * position[None, :, None]).sum(axis=1, keepdims=True) / (position ** 2).sum()
    residual = smooth - smooth.mean(axis=1, keepdims=True) - slope * position[None, :, None]
    return residual.std(axis=1).max(axis=-1)


def _box_along(image: np.ndarray, size: int) -> np.ndarray:
    """(H, W', 3): a running mean of `size` pixels along each row (axis 1), valid part only."""
    size = min(size, image.shape[1])
    sums = np.cumsum(np.concatenate([np.zeros_like(image[:, :1]), image], axis=1), axis=1)
    return (sums[:, size:] - sums[:, :-size]) / size
