"""The MIDI controller on a real JACK server, a player in a second process as the device: CCs (7- and
14-bit), notes, pitch bend and program changes drive parameters through the show's mappings as OSC does;
two devices at once; a flood and garbage are counted and the show goes on; feedback reaches the device."""
from __future__ import annotations

import yaml

from live.control.midi import MAX_PER_FRAME, QUEUE_LIMIT, MidiController
from live.show.conductor import Conductor
from live.show.schema import load_show
from live.show.stage import Stage
from tests.conftest import REPO, wait_for
from tests.midi_player import Player


def write_show(tmp_path, mappings: list[dict], inputs=("pads",), **midi) -> object:
    show = {"output": {"width": 32, "height": 18, "fps": 10},
            "scenes": [{"name": "drift", "kind": "cppn", "model": str(REPO / "models" / "cppn-tanh.onnx")},
                       {"name": "bloom", "kind": "cppn", "model": str(REPO / "models" / "cppn-sine.onnx")}],
            "midi": {"inputs": list(inputs), **midi}, "mappings": mappings}
    path = tmp_path / "show.yaml"
    path.write_text(yaml.safe_dump(show, sort_keys=False))
    return load_show(path)


class Rig:
    """A conductor with the show's MIDI controller, stepped frame by frame from the test."""

    def __init__(self, show):
        self.stage = Stage.build(show, rehearsal=True, warm_up=False)
        self.conductor = Conductor.build(show, self.stage.scenes, rehearsal=True)
        self.midi = MidiController(show.midi)
        self.conductor.add(self.midi)
        self.conductor.start()
        self.t = 0.0

    def step(self) -> None:
        self.t += 0.1
        self.conductor.update(self.t, self.stage.director)

    def until(self, condition, timeout: float = 15.0) -> bool:
        def stepped() -> bool:
            self.step()
            return condition()
        return wait_for(stepped, timeout, 0.01)

    def opened(self) -> bool:
        return all(port.opened for port in self.midi.inputs) and (self.midi.output is None or self.midi.output.opened)

    def stop(self) -> None:
        self.conductor.stop()


def test_controls_set_parameters_through_mappings(tmp_path, jack_server):
    show = write_show(tmp_path, [
        {"midi": {"cc": 70, "channel": 1}, "to": "drift.scale", "out": [2.0, 10.0]},
        {"midi": {"cc14": 1}, "to": "bloom.scale", "out": [1.0, 17.383]},
        {"midi": {"note": 36}, "to": "scene.next"},
        {"midi": {"pitchbend": True, "channel": 2}, "to": "fade", "out": [0.0, 10.0]},
        {"midi": {"program": 3}, "to": "mirror"},
    ])
    with Player("pads") as pads:
        rig = Rig(show)
        try:
            assert rig.until(rig.opened)
            bus = rig.conductor.bus
            pads.cc(70, 127)
            assert rig.until(lambda: bus.get("drift.scale") == 10.0) and bus.held("drift.scale")
            pads.cc(70, 0, channel=2)  # a mapping on channel 1 does not hear channel 2
            pads.cc(1, 100)
            pads.cc(33, 5)  # the fine part of CC 1
            assert rig.until(lambda: abs(bus.get("bloom.scale") - (1.0 + (100 * 128 + 5) / 1000)) < 1e-6)
            assert bus.get("drift.scale") == 10.0
            pads.send(0xE1, 0, 64)  # pitch bend at rest on channel 2
            assert rig.until(lambda: abs(bus.get("fade") - 8192 / 16383 * 10) < 1e-6)
            pads.note(36, 100)
            assert rig.until(lambda: bus.get("scene") == "bloom")
            pads.note(36, 0)
            assert rig.until(lambda: bus.input("midi:*/note/*/36", -1.0) == 0.0)
            rig.step()  # a frame that sees the pad released (a release and press within one frame is one press)
            pads.note(36, 90)  # pressed again: the next scene again
            assert rig.until(lambda: bus.get("scene") == "drift")
            pads.send(0xC0, 3)
            assert rig.until(lambda: bus.get("mirror") is True)
            assert "midi in" in rig.midi.status() and "absent" not in rig.midi.status()
        finally:
            rig.stop()


def test_two_devices_at_once_and_a_mapping_on_one_of_them(tmp_path, jack_server):
    show = write_show(tmp_path, [{"midi": {"cc": 70, "device": "knobs"}, "to": "drift.scale", "out": [2.0, 10.0]},
                                 {"midi": {"cc": 70}, "to": "bloom.scale", "out": [2.0, 10.0]}],
                      inputs=["pads", "knobs"])
    with Player("pads") as pads, Player("knobs") as knobs:
        rig = Rig(show)
        try:
            assert rig.until(rig.opened)
            bus = rig.conductor.bus
            pads.cc(70, 127)  # any device: bloom; only knobs: drift
            assert rig.until(lambda: bus.get("bloom.scale") == 10.0)
            assert not bus.held("drift.scale")  # untouched by pads: it follows the show
            knobs.cc(70, 0)
            assert rig.until(lambda: bus.get("drift.scale") == 2.0 and bus.get("bloom.scale") == 2.0)
            knobs.cc(70, 127)
            assert rig.until(lambda: bus.get("drift.scale") == 10.0 and bus.get("bloom.scale") == 10.0)
        finally:
            rig.stop()


def test_a_flood_is_bounded_per_frame_counted_and_the_last_value_wins(tmp_path, jack_server):
    show = write_show(tmp_path, [{"midi": {"cc": 70}, "to": "drift.scale", "out": [2.0, 10.0]}])
    with Player("pads") as pads:
        rig = Rig(show)
        try:
            assert rig.until(rig.opened)
            # while no frame is stepped, at most one frame's budget is applied; the queue keeps the newest.
            # (JACK may lose some of a flood on a busy machine: the counts are checked against what arrived.)
            pads.command(flood=[[0xB0, 70], 3 * QUEUE_LIMIT])  # values 0..126
            pads.cc(70, 127)
            assert wait_for(lambda: rig.midi._queue and rig.midi._queue[-1][1] == [0xB0, 70, 127], 30.0)
            assert len(rig.midi._queue) == QUEUE_LIMIT and rig.midi.received > QUEUE_LIMIT + MAX_PER_FRAME
            assert rig.midi.dropped == rig.midi.received - MAX_PER_FRAME - QUEUE_LIMIT
            assert f"dropped {rig.midi.dropped}" in rig.midi.status()
            assert rig.until(lambda: bus_value(rig) == 10.0)  # a few frames on, the newest value is on
            assert rig.midi.counters()["events"] == MAX_PER_FRAME + QUEUE_LIMIT
        finally:
            rig.stop()


def bus_value(rig: Rig) -> float:
    return rig.conductor.bus.get("drift.scale")


def test_sysex_garbage_and_running_status_tricks_are_counted_and_the_show_goes_on(tmp_path, jack_server):
    show = write_show(tmp_path, [{"midi": {"cc": 70}, "to": "drift.scale", "out": [2.0, 10.0]}])
    with Player("pads") as pads:
        rig = Rig(show)
        try:
            assert rig.until(rig.opened)
            pads.send(0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7)  # a SysEx (identity request): ignored
            pads.send(0xF0, 0x01, 0x02)  # a SysEx never ended: rtmidi glues what follows onto it
            pads.send(0xB0, 70)  # ... a CC cut short
            pads.send(0xF7)
            pads.send(70, 64)  # data bytes with no status before them (the SysEx cancelled running status)
            pads.send(0xF4)  # undefined
            pads.cc(70, 127)
            assert rig.until(lambda: bus_value(rig) == 10.0)
            counts = rig.midi.counters()
            assert counts["malformed"] >= 3 and counts["ignored"] >= 2, counts
            assert f"malformed {counts['malformed']}" in rig.midi.status()
        finally:
            rig.stop()


def test_feedback_echoes_mapped_values_to_the_devices_port_not_its_own_moves(tmp_path, jack_server):
    show = write_show(tmp_path, [{"midi": {"cc": 70, "channel": 1}, "to": "drift.scale", "out": [2.0, 10.0]},
                                 {"midi": {"note": 40}, "to": "mirror"}],
                      feedback="pads feedback")
    with Player("pads") as pads:
        rig = Rig(show)
        try:
            assert rig.until(rig.opened)
            # at start every mapped control is told where it stands: the scene's scale 8 is 3/4 of 2..10, mirror off
            assert rig.conductor.bus.get("drift.scale") == 8.0
            assert rig.until(lambda: [0xB0, 70, 95] in pads.heard() and [0x90, 40, 0] in pads.heard())
            rig.conductor.bus.set("drift.scale", 10.0, source="osc:127.0.0.1:1")  # another controller moves it
            rig.conductor.bus.set("mirror", True, source="key")
            assert rig.until(lambda: [0xB0, 70, 127] in pads.heard() and [0x90, 40, 127] in pads.heard())
            heard = len(pads.heard())
            pads.cc(70, 32)  # the fader itself: its own value is not sent back
            assert rig.until(lambda: bus_value(rig) == 2.0 + 8.0 * 32 / 127)
            for _ in range(5):
                rig.step()
            assert [0xB0, 70, 32] not in pads.heard()[heard:]
        finally:
            rig.stop()
