"""The show file's MIDI: its devices and MIDI mappings are checked at load, each problem in one line that
names the file, line and key."""
from __future__ import annotations

import pytest

from live.show.schema import ShowError, parse_show
from tests.conftest import REPO

SCENES = f"""scenes:
  - name: drift
    kind: cppn
    model: {REPO / 'models' / 'cppn-tanh.onnx'}
"""


@pytest.mark.parametrize("text, expected", [
    ("mappings:\n  - {midi: {cc: 21}, to: drift.scale}\n",
     ":6: mappings[0].midi: the show reads no MIDI device: add `midi: {inputs: [NAME]}`"),
    ("midi: {inputs: [pads]}\nmappings:\n  - {midi: {cc: 21, device: knobs}, to: drift.scale}\n",
     ":7: mappings[0].midi.device: 'knobs' is not one of the show's MIDI inputs (pads)"),
    ("midi: {inputs: [pads, 1, pads]}\n", ":5: midi.inputs: pads listed twice; name each device once"),
    ("midi: {inputs: [pads]}\nmappings:\n  - {midi: {cc: 21, note: 3}, to: drift.scale}\n",
     "a MIDI source is one of cc, cc14, note, pitchbend or program; found cc, note"),
    ("midi: {inputs: [pads]}\nmappings:\n  - {midi: {cc14: 40}, to: drift.scale}\n",
     "mappings[0].midi.cc14: Input should be less than or equal to 31"),
    ("midi: {inputs: [pads]}\nmappings:\n  - {midi: {cc: 1, channel: 0}, to: drift.scale}\n",
     "mappings[0].midi.channel: Input should be greater than or equal to 1"),
    ("midi: {inputs: [pads]}\nmappings:\n  - {midi: {cc: 1}, to: drift.scael}\n",
     "mappings[0].to: 'drift.scael' is not a parameter; did you mean drift.scale?"),
])
def test_midi_problems_name_their_line_and_key(tmp_path, text, expected):
    with pytest.raises(ShowError) as refused:
        parse_show(SCENES + text, tmp_path / "show.yaml")
    assert expected in str(refused.value) and "\n" not in str(refused.value), str(refused.value)


def test_a_show_with_midi_devices_and_mappings_loads():
    show = parse_show(SCENES + "midi: {inputs: [nanoKONTROL, 1], feedback: nanoKONTROL}\nmappings:\n"
                               "  - {midi: {cc: 21, channel: 1, device: 1}, to: drift.scale}\n"
                               "  - {midi: {pitchbend: true}, to: fade}\n", REPO / "show.yaml")
    assert show.midi.inputs == ["nanoKONTROL", 1]
    assert [m.midi.input_key for m in show.mappings] == ["midi:1/cc/1/21", "midi:*/pitchbend/*/0"]
