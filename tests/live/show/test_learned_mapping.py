"""MIDI learn's edit of the show file: the mapping goes in, everything else (comments, order, quoting) stays
as written, a control learned again replaces its old mapping, and a result `check` would refuse is never
written."""
from __future__ import annotations

import pytest

from live.show.learned_mapping import add_mapping
from live.show.schema import ShowError, load_show
from tests.conftest import REPO

HEAD = f"""# the designer's notes stay
name: learned   # a trailing comment
scenes:
  - name: drift
    kind: cppn
    model: "{REPO / 'models' / 'cppn-tanh.onnx'}"
midi: {{inputs: [pads]}}
"""


def test_a_show_with_no_mappings_gets_a_list_at_the_end(tmp_path):
    path = tmp_path / "show.yaml"
    path.write_text(HEAD)
    line = add_mapping(path, {"midi": {"cc": 21, "channel": 1}, "to": "drift.scale"})
    assert line == "{midi: {cc: 21, channel: 1}, to: drift.scale}"
    assert path.read_text() == HEAD + "\nmappings:\n  - {midi: {cc: 21, channel: 1}, to: drift.scale}\n"
    assert load_show(path).mappings[0].midi.cc == 21


def test_a_block_list_keeps_its_comments_and_indent_and_a_control_learned_again_moves(tmp_path):
    path = tmp_path / "show.yaml"
    path.write_text(HEAD + "mappings:\n    # faders\n    - osc: /1/fader1   # keep me\n      to: fade\n"
                           "    - {midi: {cc: 21, channel: 1}, to: drift.scale}\n\n# the end\n")
    add_mapping(path, {"midi": {"note": 36, "channel": 1}, "to": "scene.next"})
    add_mapping(path, {"midi": {"cc": 21, "channel": 1}, "to": "drift.speed"})
    assert path.read_text() == HEAD + (
        "mappings:\n    # faders\n    - osc: /1/fader1   # keep me\n      to: fade\n"
        "    - {midi: {cc: 21, channel: 1}, to: drift.speed}\n"
        "    - {midi: {note: 36, channel: 1}, to: scene.next}\n\n# the end\n")
    assert [m.to for m in load_show(path).mappings] == ["fade", "drift.speed", "scene.next"]


def test_a_flow_list_gets_one_more_item(tmp_path):
    path = tmp_path / "show.yaml"
    path.write_text(HEAD + "mappings: []  # none yet\n")
    add_mapping(path, {"midi": {"cc": 1, "channel": 2}, "to": "drift.scale"})
    add_mapping(path, {"midi": {"pitchbend": True, "channel": 2}, "to": "fade"})
    assert path.read_text() == HEAD + ("mappings: [{midi: {cc: 1, channel: 2}, to: drift.scale}, "
                                       "{midi: {pitchbend: true, channel: 2}, to: fade}]  # none yet\n")


def test_a_mapping_check_refuses_is_not_written(tmp_path):
    path = tmp_path / "show.yaml"
    path.write_text(HEAD)
    with pytest.raises(ShowError, match="is not a parameter"):
        add_mapping(path, {"midi": {"cc": 21, "channel": 1}, "to": "drift.nothing"})
    assert path.read_text() == HEAD and not list(tmp_path.glob(".*tmp"))


def test_a_running_show_s_learned_mapping_is_written_off_the_controller_s_thread_and_a_refusal_is_said(tmp_path):
    """The MIDI controller calls `learned` inside its poll, on the frame's thread: a running show hands the
    YAML edit to its writer and goes on. Here the writer is kept busy by an edit that waits, so the file must
    still be as it was when `learned` returns; once the writer is free, the mapping is in."""
    import threading

    from live.show.midi_learning import learned_into
    from live.show.show_file_writer import ShowFileWriter

    path = tmp_path / "show.yaml"
    path.write_text(HEAD)
    writer, busy = ShowFileWriter(), threading.Event()
    writer.submit("a slow edit", lambda: str(busy.wait(30)))
    learned = learned_into(load_show(path), writer)
    learned("drift.scale", {"cc": 21, "channel": 1}, "pads")
    assert path.read_text() == HEAD  # returned before the write: the frame never waited for it
    busy.set()
    writer.stop()
    assert load_show(path).mappings[0].midi.cc == 21 and writer.done == 2
    assert writer.notice == f"MIDI learn wrote into {path}: - {{midi: {{cc: 21, channel: 1}}, to: drift.scale}}"

    learned("nothing.here", {"cc": 22, "channel": 1}, "pads")  # what the file's checks refuse: said, not written
    writer.stop()
    assert writer.notice.startswith(f"MIDI learn: {path}") and "nothing.here" in writer.notice, writer.notice
    assert len(load_show(path).mappings) == 1
