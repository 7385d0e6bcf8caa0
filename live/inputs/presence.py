"""Presence: how much somebody is in front of the camera, from the camera's own frames, 0..1.

No model: each new frame becomes a small grey copy (SMALL_WIDTH pixels wide,
area-averaged, so sensor noise averages out far below a change), and two cues
are read from it. Motion: the share of the copy that changed since a frame a
tenth of a second before (someone moving). Foreground: the share that differs
from a slowly adapting background (someone standing there; the background
takes in whatever stays put, over `background` seconds). Before either
difference the frame is matched to what it is compared with by one global gain
and offset, fitted on the pixels that did not change, so a camera's
auto-exposure stepping or drifting the whole picture's brightness is not a
visitor. The larger of the two cues, each scaled to 1 at a typical visitor's
share, is the raw presence (`activity`); `level` is it smoothed (quick to
rise, slow to fall) on the times of the frames, never the wall clock, so the
same frames give the same presence live and in rehearsal.

What it cannot do: a visitor who stands perfectly still for about the
background's time becomes room; one who walks out of the first frame leaves a
"ghost" the background takes the same time to forget; a picture changing all
over (a projector's light on the wall the camera sees) reads as somebody.
"""
from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np
from pydantic import Field

from live.core.config import Settings
from live.core.smoothing import one_pole_coefficient, smooth

SMALL_WIDTH = 64  # pixels: the grey copy the cues are read from (about 36 rows for 16:9)
CHANGE = 12.0  # grey levels (of 255) on the small copy that count as a change there
MOTION_GAP = 0.1  # seconds: motion compares with a frame at least this old (rate-independent above 10 fps)
# (share that still reads 0, share that reads 1): changes under the first are the room's own (a leaf, a
# reflection, pixels an exposure step bends past the fit); the second is a typical visitor's
MOTION_SCALE = (0.005, 0.03)  # of the copy changing over MOTION_GAP (someone walking)
FOREGROUND_SCALE = (0.015, 0.06)  # of it differing from the background (someone standing near)
ATTACK = 0.15  # seconds: presence rises this quickly...
RELEASE = 1.0  # ...and falls this slowly, so one still moment of a visitor is not an empty room
GAIN_LIMITS = (0.25, 4.0)  # the widest exposure step believed to be one
CLIPPED = (4, 251)  # grey levels (of the frame) at or past which a pixel is clipped black or white


class PresenceConfig(Settings):
    """Which scene's input frames presence is read from, and how slowly its background adapts."""

    scene: str | None = None  # None: the show's first scene that reads frames (a camera, a video)
    background: float = Field(10.0, gt=0)  # seconds for the background to take in what stays put


class Grey(NamedTuple):
    """A frame's small grey copy: each pixel the mean of the frame's pixels it covers, and the share of
    those clipped white and black (where the mean is lower, or higher, than the light was)."""

    level: np.ndarray  # (h, w) float32 grey levels
    white: np.ndarray  # (h, w) float32 0..1
    black: np.ndarray

    def copy(self) -> Grey:
        return Grey(*(array.copy() for array in self))


class PresenceEstimator:
    """Presence from a sequence of frames; `note` each new one with its time (seconds)."""

    def __init__(self, background: float = PresenceConfig().background):
        self.background_seconds = background
        self.level = 0.0  # smoothed presence, 0..1: what mappings and the attract mode read
        self.activity = 0.0  # this frame's raw presence, 0..1: how much is happening right now
        self.motion = 0.0  # share of the small copy that moved over MOTION_GAP
        self.foreground = 0.0  # share of it that is not the background
        self._background: Grey | None = None  # running means of the small copies
        self._earlier: tuple[float, Grey] | None = None  # (time, small copy) motion compares with
        self._last_t: float | None = None

    def note(self, pixels: np.ndarray, t: float) -> float:
        """Read one new frame, (H, W, 3) RGB or (H, W) grey uint8, captured at t seconds; the new level."""
        small = small_grey(pixels)
        if self._background is None or self._background.level.shape != small.level.shape:  # first, or a new size
            self._background, self._earlier, self._last_t = small.copy(), (t, small), t
            return self.level
        dt = max(0.0, t - self._last_t)
        self._last_t = t
        earlier_t, earlier = self._earlier
        self.motion = changed_share(difference(small, earlier))
        self.foreground = changed_share(difference(small, self._background))
        step = one_pole_coefficient(self.background_seconds, dt)
        for running, new in zip(self._background, small):
            running += step * (new - running)
        if t - earlier_t >= MOTION_GAP or t < earlier_t:
            self._earlier = (t, small)
        self.activity = max(scaled(self.motion, MOTION_SCALE), scaled(self.foreground, FOREGROUND_SCALE))
        self.level = smooth(self.level, self.activity, dt, ATTACK, RELEASE)
        return self.level


def scaled(share: float, scale: tuple[float, float]) -> float:
    """A share of changed pixels placed on 0..1 between the quiet share and the full one."""
    quiet, full = scale
    return min(1.0, max(0.0, (share - quiet) / (full - quiet)))


def small_grey(pixels: np.ndarray) -> Grey:
    """The frame SMALL_WIDTH wide in grey, each pixel the mean of those it covers, with their clipped shares."""
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY) if pixels.ndim == 3 else pixels
    height, width = grey.shape
    size = (min(SMALL_WIDTH, width), min(max(1, round(height * SMALL_WIDTH / width)), height))

    def shrunk(image: np.ndarray) -> np.ndarray:
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)

    return Grey(shrunk(grey), shrunk((grey >= CLIPPED[1]).astype(np.float32)),
                shrunk((grey <= CLIPPED[0]).astype(np.float32)))


def difference(picture: Grey, reference: Grey) -> np.ndarray:
    """|picture - reference| per pixel (grey levels), after the global gain and offset that bring `picture`
    nearest `reference` (least squares on the pixels that did not change and are not clipped): a
    whole-picture brightness step cancels, a visitor does not. Where either is clipped and the clipping
    explains the difference (a white pixel was at least as bright as it shows), 0 there."""
    white = (picture.white > 0.01, reference.white > 0.01)
    black = (picture.black > 0.01, reference.black > 0.01)
    kept = ~(white[0] | white[1] | black[0] | black[1])
    x_all, y_all = picture.level, reference.level
    gain, offset = 1.0, 0.0
    for _ in range(2):  # fit on all, then again on the pixels the first fit explains
        x, y = x_all[kept], y_all[kept]
        if x.size < 0.3 * x_all.size:  # most of the picture changed or clipped: no fit would be honest
            break
        spread = float(x.var())
        gain = float(np.clip(((x - x.mean()) * (y - y.mean())).mean() / spread, *GAIN_LIMITS)) if spread > 4.0 else 1.0
        offset = float(y.mean() - gain * x.mean())
        kept &= np.abs(x_all * gain + offset - y_all) < CHANGE
    over = x_all * gain + offset - y_all  # > 0: the picture reads brighter than the reference
    # clipping only darkens a white pixel and lightens a black one
    explained = (white[0] & (over < CHANGE)) | (white[1] & (over > -CHANGE)) \
        | (black[0] & (over > -CHANGE)) | (black[1] & (over < CHANGE))
    gap = np.abs(over)
    gap[explained] = 0.0
    return gap


def changed_share(gap: np.ndarray) -> float:
    """Share of pixels (0..1) whose difference is more than CHANGE grey levels."""
    return float(np.count_nonzero(gap > CHANGE)) / gap.size
