"""live.show.contact_sheet: one labelled frame per scene change, taken when its fade is over."""
from __future__ import annotations

import numpy as np
from PIL import Image

from live.inputs.audio_analysis import SILENCE
from live.show.contact_sheet import THUMB_WIDTH, ContactSheet
from live.show.director import Composition


def test_each_change_is_captured_once_its_fade_is_over(tmp_path):
    sheet = ContactSheet(["a", "b", "c"], fps=10)
    # a from 0 s; b fades in over 0.5 s from 1 s; c cuts in at 2 s
    for index in range(30):
        t = index / 10
        scene = 0 if t < 1 else 1 if t < 2 else 2
        composition = Composition(scene, 0 if 1 <= t < 1.5 else None, min(1.0, (t - 1) / 0.5) if scene == 1 else 1.0)
        fade = 0.5 if scene == 1 else 0.0
        sheet.add(t, composition, fade, SILENCE, np.full((36, 64, 3), index, np.uint8))
    assert [(c.number, c.at, c.scene, c.fade) for c in sheet.changes] == [(1, 0.0, "a", 0.0), (2, 1.0, "b", 0.5),
                                                                          (3, 2.0, "c", 0.0)]
    shades = [np.asarray(change.thumbnail)[0, 0, 0] for change in sheet.changes]
    assert shades == [0, 15, 20]  # a's first frame, b's once faded in (1.5 s), c's first
    path = sheet.save(tmp_path / "sheet.png", np.zeros((36, 64, 3), np.uint8))
    with Image.open(path) as picture:
        assert picture.width > 3 * THUMB_WIDTH and picture.height > 180 + 140
