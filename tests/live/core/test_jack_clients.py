"""The process's JACK clients: PortAudio initialised out of JACK's sight, and no MIDI client opening meanwhile."""
from __future__ import annotations

import os
import threading

import pytest

from live.core import jack_clients
from tests.conftest import wait_for


@pytest.fixture
def named_server(monkeypatch):
    """A server named in the environment; the test's changes to it undone after (monkeypatch's record)."""
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "the-rig")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")


def test_out_of_sight_points_libjack_at_no_server_and_back(named_server):
    with jack_clients.out_of_sight():
        assert (os.environ["JACK_DEFAULT_SERVER"], os.environ["JACK_NO_START_SERVER"]) == (jack_clients.NOBODY, "1")
    assert os.environ["JACK_DEFAULT_SERVER"] == "the-rig"


def test_with_no_server_named_libjack_s_default_comes_back_and_the_variable_stays(named_server, monkeypatch):
    monkeypatch.delenv("JACK_DEFAULT_SERVER")
    with jack_clients.out_of_sight():
        pass
    assert os.environ["JACK_DEFAULT_SERVER"] == "default"  # libjack's own name: set, never removed again


def test_a_client_opening_waits_until_portaudio_is_initialised(named_server):
    seen = []

    def open_a_client():
        with jack_clients.opening():
            seen.append(os.environ["JACK_DEFAULT_SERVER"])

    with jack_clients.out_of_sight():
        midi = threading.Thread(target=open_a_client)
        midi.start()
        assert not wait_for(lambda: seen, timeout=0.2)  # held back while libjack points at no server
    midi.join(timeout=5)
    assert seen == ["the-rig"]
