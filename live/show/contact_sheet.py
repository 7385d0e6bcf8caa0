"""A rehearsal's contact sheet: one labelled frame per scene change, over a timeline of the sound.

While a rehearsal renders, `ContactSheet.add` is told each frame's time, what
the director has on screen and the audio features. Each change of scene (a cue,
or an operator's change from the OSC script) is kept as a thumbnail of the
frame where its fade has finished, labelled with its number, time, scene and
fade; under them a strip plots the level, bass and high bands over the whole
rehearsal, with a tick for each onset and a line for each change. The designer
sees the show at a glance. Drawn with Pillow: the live side needs no plotting
library.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from live.inputs.audio_analysis import AudioFeatures
from live.show.director import Composition

THUMB_WIDTH = 320  # pixels
COLUMNS = 4
STRIP_HEIGHT = 140
MARGIN = 8
LABEL_HEIGHT = 18
BACKGROUND = (18, 18, 22)
TEXT = (235, 235, 235)
CURVES = {"level": (240, 240, 240), "bass": (255, 120, 60), "high": (90, 170, 255)}
ONSET = (255, 220, 80)
CHANGE = (120, 255, 140)


@dataclass
class _Change:
    number: int
    at: float  # seconds
    scene: str
    fade: float  # seconds
    capture_at: float  # seconds: when its fade is over
    thumbnail: Image.Image | None = None


@dataclass
class ContactSheet:
    scene_names: list[str]
    fps: float
    changes: list[_Change] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    features: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in CURVES})
    onsets: list[float] = field(default_factory=list)
    _on_screen: int | None = None

    def add(self, t: float, composition: Composition, fade: float, features: AudioFeatures,
            pixels: np.ndarray) -> None:
        """One rendered frame: its time, what is on screen (and the fade that brought it), the sound."""
        if composition.scene != self._on_screen:
            self._on_screen = composition.scene
            self.changes.append(_Change(len(self.changes) + 1, t, self.scene_names[composition.scene], fade, t + fade))
        pending = [change for change in self.changes if change.thumbnail is None]
        for change in pending:
            if t + 0.5 / self.fps >= change.capture_at or change is not self.changes[-1]:
                change.thumbnail = _thumbnail(pixels)
        self.times.append(t)
        for name in CURVES:
            self.features[name].append(getattr(features, name))
        if features.onset:
            self.onsets.append(t)

    def save(self, path: Path, last_pixels: np.ndarray) -> Path:
        """The sheet as a PNG; a change whose fade outlasted the rehearsal shows its last frame."""
        for change in self.changes:
            if change.thumbnail is None:
                change.thumbnail = _thumbnail(last_pixels)
        thumbs = [change.thumbnail for change in self.changes]
        thumb_height = thumbs[0].height if thumbs else 180
        rows = max(1, math.ceil(len(thumbs) / COLUMNS))
        width = MARGIN + COLUMNS * (THUMB_WIDTH + MARGIN)
        cell = thumb_height + LABEL_HEIGHT + MARGIN
        sheet = Image.new("RGB", (width, MARGIN + rows * cell + STRIP_HEIGHT + 2 * MARGIN), BACKGROUND)
        draw = ImageDraw.Draw(sheet)
        for index, change in enumerate(self.changes):
            row, column = divmod(index, COLUMNS)
            left, top = MARGIN + column * (THUMB_WIDTH + MARGIN), MARGIN + row * cell
            fade = f", fade {change.fade:g} s" if change.fade else ""
            draw.text((left, top), f"{change.number}  {change.at:.1f} s  {change.scene}{fade}", fill=TEXT)
            sheet.paste(change.thumbnail, (left, top + LABEL_HEIGHT))
        self._draw_strip(draw, MARGIN, MARGIN + rows * cell + MARGIN, width - 2 * MARGIN, STRIP_HEIGHT)
        sheet.save(path)
        return path

    def _draw_strip(self, draw: ImageDraw.ImageDraw, left: int, top: int, width: int, height: int) -> None:
        end = max(self.times[-1] if self.times else 0.0, 1e-9)

        def x(t: float) -> float:
            return left + width * t / end

        draw.rectangle((left, top, left + width, top + height), outline=(70, 70, 80))
        for t in self.onsets:
            draw.line((x(t), top + height - 10, x(t), top + height), fill=ONSET)
        for change in self.changes:
            draw.line((x(change.at), top, x(change.at), top + height), fill=CHANGE)
            draw.text((x(change.at) + 3, top + 2), str(change.number), fill=CHANGE)
        for name, colour in CURVES.items():
            points = [(x(t), top + height - 12 - (height - 24) * value)
                      for t, value in zip(self.times, self.features[name])]
            if len(points) > 1:
                draw.line(points, fill=colour, width=1)
        legend = "   ".join(CURVES) + "   | onsets   | scene changes"
        draw.text((left + 4, top + height - 24), legend, fill=(150, 150, 160))


def _thumbnail(pixels: np.ndarray) -> Image.Image:
    height, width = pixels.shape[:2]
    size = (THUMB_WIDTH, max(1, round(height * THUMB_WIDTH / width)))
    return Image.fromarray(np.ascontiguousarray(pixels)).resize(size, Image.Resampling.BILINEAR)
