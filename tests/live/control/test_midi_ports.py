"""MIDI ports on a real JACK server (dummy backend), with the device played from a second process: found by
part of its name or by index, listed, unplugged and re-opened when it comes back, absent as a status line."""
from __future__ import annotations

import threading

import pytest

from live.control.midi_ports import MidiUnavailable, PortWatcher, WatchedPort, find_port, port_names
from tests.conftest import wait_for
from tests.midi_player import Player


class Received:
    def __init__(self):
        self.messages: list[list[int]] = []
        self.lock = threading.Lock()

    def __call__(self, message: list[int], delta: float) -> None:
        with self.lock:
            self.messages.append(list(message))


def test_find_port_by_part_of_its_name_in_any_case_or_by_index():
    names = ["Midi Through:Midi Through Port-0 14:0", "nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0"]
    assert find_port(names, "nanokontrol") == 1
    assert find_port(names, 0) == 0
    assert find_port(names, 2) is None and find_port(names, "launchpad") is None


def test_a_device_is_listed_opened_unplugged_and_opened_again_when_it_comes_back(jack_server):
    received = Received()
    with Player("nano ports") as nano:
        assert any("nano ports" in name for name in port_names("input"))
        port = WatchedPort("NANO PORTS", "input", received)
        watcher = PortWatcher([port], interval=0.1)
        watcher.start()
        try:
            assert port.opened is not None and "nano ports" in port.opened and port.status() == ""
            nano.cc(21, 64)
            assert wait_for(lambda: [176, 21, 64] in received.messages, 10.0)
            nano.command(unplug=True)
            assert wait_for(lambda: port.status() == "MIDI 'NANO PORTS' absent", 10.0)
            nano.command(plug=True)
            assert wait_for(lambda: port.opened is not None, 10.0) and port.openings == 2
            nano.cc(21, 99)
            assert wait_for(lambda: [176, 21, 99] in received.messages, 10.0)
        finally:
            watcher.stop()
            port.close()


def test_an_absent_device_is_a_status_line_and_opens_once_it_is_plugged_in(jack_server):
    received = Received()
    port = WatchedPort("late device", "input", received)
    watcher = PortWatcher([port], interval=0.1)
    watcher.start()
    try:
        assert port.status() == "MIDI 'late device' absent"
        with Player("late device") as late:
            assert wait_for(lambda: port.opened is not None, 10.0)
            late.note(36, 100)
            assert wait_for(lambda: [144, 36, 100] in received.messages, 10.0)
    finally:
        watcher.stop()
        port.close()


def test_an_output_sends_to_the_device_by_index_and_counts_what_it_could_not(jack_server):
    with Player("fader box") as box:
        outputs = port_names("output")
        index = next(i for i, name in enumerate(outputs) if "fader box feedback" in name)
        port = WatchedPort(index, "output")
        port.refresh()
        try:
            assert port.send([176, 7, 100])
            assert wait_for(lambda: [176, 7, 100] in box.heard(), 10.0)
        finally:
            port.close()
    absent = WatchedPort("nobody here", "output")
    absent.refresh()
    assert not absent.send([176, 7, 1]) and absent.unsent == 1
    absent.close()


def test_no_midi_system_is_one_line_that_says_what_to_start(jack_server, monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "no-such-server")
    with pytest.raises(MidiUnavailable, match="no MIDI here: no JACK server is running"):
        port_names("input")
