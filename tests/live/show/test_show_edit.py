"""Editing a show file as text (MIDI learn, capture to show): an entry into a nested mapping, block or flow,
made where it is missing; an item before another in a list; comments and everything else kept as written."""
from __future__ import annotations

import pytest
import yaml

from live.show.schema import ShowError
from live.show.show_edit import composed, flow, with_entry, with_list_item

BLOCK = """scenes:
  - name: a   # first
    cppn:
      seed: 2   # two
      named_keyframes:
        calm: 0
  - name: b
    cppn: {seed: 1}
  - name: c
    cppn:
  - name: d
cues:
  - {go: true, scene: a}   # one
  # the second cue
  - go: true
    scene: b
"""


@pytest.mark.parametrize("index, expected", [
    (0, "      named_keyframes:\n        calm: 0\n        storm: [0.5, 1.0e-05]\n"),
    (1, "    cppn: {seed: 1, named_keyframes: {storm: [0.5, 1.0e-05]}}\n"),
    (2, "    cppn: {named_keyframes: {storm: [0.5, 1.0e-05]}}\n"),
    (3, "  - name: d\n    cppn: {named_keyframes: {storm: [0.5, 1.0e-05]}}\n"),
])
def test_an_entry_goes_into_the_mapping_there_or_one_made_for_it(index, expected):
    edited = with_entry(BLOCK, composed(BLOCK), ("scenes", index, "cppn", "named_keyframes"), "storm",
                        flow([0.5, 1e-05]))
    assert expected in edited and "  - name: a   # first\n" in edited and "      seed: 2   # two\n" in edited
    assert yaml.safe_load(edited)["scenes"][index]["cppn"]["named_keyframes"]["storm"] == [0.5, 1e-05]
    added = 1 if index in (0, 3) else 0  # a line of its own under a block mapping; else on the line there
    assert len(edited.splitlines()) == len(BLOCK.splitlines()) + added


def test_an_item_goes_before_another_below_the_item_before_it_and_its_comment_stays_with_its_own():
    line = flow({"go": True, "scene": "c"})
    first = with_list_item(BLOCK, composed(BLOCK), "cues", line, before=0)
    assert "cues:\n  - {go: true, scene: c}\n  - {go: true, scene: a}   # one\n" in first
    second = with_list_item(BLOCK, composed(BLOCK), "cues", line, before=1)
    assert "  - {go: true, scene: a}   # one\n  - {go: true, scene: c}\n  # the second cue\n  - go: true\n" in second
    last = with_list_item(BLOCK, composed(BLOCK), "cues", line, before=5)
    assert last == BLOCK + "  - {go: true, scene: c}\n"
    assert [cue["scene"] for cue in yaml.safe_load(last)["cues"]] == ["a", "b", "c"]
    flowing = "cues: [{go: true, scene: a}, {go: true, scene: b}]\n"
    assert with_list_item(flowing, composed(flowing), "cues", line, before=1) == (
        "cues: [{go: true, scene: a}, {go: true, scene: c}, {go: true, scene: b}]\n")


def test_something_else_in_the_way_is_refused_and_a_lone_scalar_is_one_line():
    text = "scenes:\n  - name: a\n    cppn: 3\n"
    with pytest.raises(ShowError, match="scenes.0.cppn is not a mapping of keys, so nothing was written"):
        with_entry(text, composed(text), ("scenes", 0, "cppn", "named_keyframes"), "k", "0")
    assert flow("capture-1") == "capture-1" and flow(0.1) == "0.1"
