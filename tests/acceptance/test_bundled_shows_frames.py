"""Acceptance: every bundled show rehearses to the same frames, bit for bit, as the goldens recorded.

The goldens (bundled_frames.json) were made at the commit before the house step (issue 18) and hold each
show's PNG frames' sha256 and its model files' sha256. A refactor must keep every pixel; a retrained model
is a reason for new goldens, and the test names the command that makes them instead of skipping.
"""
from __future__ import annotations

import json

import pytest

from tests.acceptance.bundled_frames import GOLDEN, REHEARSALS, REPO, SIZE, UPDATE, model_digests, render

GOLDENS = json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_goldens_cover_every_bundled_show_at_the_documented_size():
    assert GOLDENS["size"] == SIZE
    assert sorted(GOLDENS["shows"]) == sorted(path.name for path in (REPO / "shows").glob("*.yaml"))
    assert sorted(rehearsal.show for rehearsal in REHEARSALS) == sorted(GOLDENS["shows"])


@pytest.mark.parametrize("rehearsal", REHEARSALS, ids=lambda rehearsal: rehearsal.show)
def test_a_bundled_show_rehearses_to_its_golden_frames(rehearsal, tmp_path):
    golden = GOLDENS["shows"][rehearsal.show]
    models = model_digests(REPO, rehearsal.show)
    changed = sorted(path for path in {*models, *golden["models"]} if models.get(path) != golden["models"].get(path))
    if changed:
        pytest.fail(f"{', '.join(changed)} changed since the goldens were made; regenerate them: {UPDATE}",
                    pytrace=False)
    frames = render(REPO, rehearsal, tmp_path)
    assert len(frames) == len(golden["frames"]), f"{rehearsal.show}: {len(frames)} frames, not {len(golden['frames'])}"
    differ = [index for index, (got, want) in enumerate(zip(frames, golden["frames"])) if got != want]
    assert not differ, f"{rehearsal.show}: {len(differ)} frames differ from the goldens, the first frame {differ[0]}"
