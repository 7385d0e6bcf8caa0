"""Tempo sources side by side: the leader lost and back, one log line each; Link from a peer process; MIDI
clock in from a drum machine process and out to a device, on a real JACK server (dummy backend)."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from live.control.midi_clock import CONTINUE, SONG_POSITION, TICK, MidiClockIn
from live.inputs.audio_analysis import SILENCE
from live.show.schema import TempoConfig
from live.show.tempo import Tempo
from tests.conftest import REPO, wait_for
from tests.live.inputs.test_link import JOIN_TIMEOUT, link_peer
from tests.midi_player import Player


def run_for(tempo: Tempo, seconds: float, until=lambda: False, source: str | None = None) -> list:
    """Update on a 60 Hz frame tick of real time for `seconds` or until `until()`; the beats it handed
    out (only those while `source` led, if given)."""
    beats, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end and not until():
        handed = tempo.update(time.perf_counter(), SILENCE)
        if source is None or tempo.leading is not None and tempo.leading.name == source:
            beats += handed
        time.sleep(1 / 60)
    return beats


def test_the_show_follows_link_falls_back_to_its_grid_when_alone_and_returns(caplog):
    caplog.set_level(logging.INFO, logger="latentstage.tempo")
    tempo = Tempo(TempoConfig(source="link", fallback=["fixed"], bpm=100.0), time.perf_counter)
    tempo.start()
    try:
        run_for(tempo, 10.0, until=lambda: tempo.leading is not None and tempo.leading.name == "fixed")
        assert tempo.leading.name == "fixed" and "(link lost)" in tempo.hud_line(time.perf_counter())
        with link_peer(128.0, lead=True):
            run_for(tempo, JOIN_TIMEOUT, until=lambda: tempo.leading.name == "link" and
                    abs(tempo.leading.bpm() - 128) < 0.01)
            beats = run_for(tempo, 3.0)
            assert tempo.leading.name == "link", tempo.hud_line(time.perf_counter())
            gaps = np.diff([beat.at for beat in beats])
            assert len(beats) >= 5 and np.allclose(gaps, 60 / 128, atol=1e-3), gaps  # Link's exact beat times
            downbeats = [beat.downbeat for beat in beats]
            assert downbeats.count(True) >= 1 and all(d is not None for d in downbeats)
            line = tempo.hud_line(time.perf_counter())
            assert line.startswith("tempo 128.0 bpm  beat ") and "link (1 peer)" in line, line
        run_for(tempo, 10.0, until=lambda: tempo.leading.name == "fixed")
        assert tempo.leading.name == "fixed"
    finally:
        tempo.stop()
    said = [record.getMessage() for record in caplog.records]
    assert said == ["tempo: link lost; falling back to fixed", "tempo: link is back; following it again",
                    "tempo: link lost; falling back to fixed"], said


def test_beats_from_osc_lead_until_they_stop_then_the_audio_tracker_does(caplog):
    caplog.set_level(logging.INFO, logger="latentstage.tempo")
    tempo = Tempo(TempoConfig(source="osc", fallback=["audio"]), time.perf_counter, rehearsal=True)
    tempo.start()
    tracked = SILENCE.__class__(**{**SILENCE.__dict__, "tempo_bpm": 120.0, "beat": True, "silent": False})
    heard = [tempo.update(t, SILENCE, osc_beats=1) for t in (0.0, 0.5, 1.0)]  # /latentstage/beat at 120
    assert tempo.leading.name == "osc" and [len(b) for b in heard] == [0, 1, 1]  # one beat is not yet a tempo
    assert tempo.hud_line(1.25).startswith("tempo 120.0 bpm  beat 3 of 4  osc")
    assert tempo.update(3.1, tracked)[0].at == 3.1 and tempo.leading.name == "audio"  # 2 s without a beat
    said = [record.getMessage() for record in caplog.records]
    assert said == ["tempo: following osc", "tempo: osc lost; falling back to audio"], said


def test_a_rehearsal_has_no_link_and_falls_back_at_once():
    tempo = Tempo(TempoConfig(source="link", fallback=["fixed"], bpm=120.0), time.perf_counter, rehearsal=True)
    tempo.start()
    beats = tempo.update(0.0, SILENCE) + tempo.update(1.0, SILENCE)
    assert tempo.leading.name == "fixed" and [beat.at for beat in beats] == [0.0, 0.5, 1.0]
    assert [beat.downbeat for beat in beats] == [True, False, False]


class ClockPlayer:
    """tests/midi_clock_player.py: a drum machine's clock on a port of its own."""

    def __init__(self, name: str, bpm: float, seconds: float):
        self.process = subprocess.Popen([sys.executable, "-m", "tests.midi_clock_player", name, str(bpm),
                                         "--seconds", str(seconds)], cwd=REPO, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout.readline().strip() == "ready"
        self.beats: list[float] = []
        self.stopped = threading.Event()

    def play(self) -> None:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if line.strip() == "stopped":
                self.stopped.set()
                return
            self.beats.append(json.loads(line)["t"])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # done with it, playing or not
            self.process.wait(timeout=10)


def test_midi_clock_in_gives_the_drum_machines_tempo_beats_and_bars(jack_server, caplog):
    caplog.set_level(logging.INFO, logger="latentstage.tempo")
    player = ClockPlayer("clock box", 128.0, seconds=6.0)
    tempo = Tempo(TempoConfig(source="midi", fallback=["fixed"], bpm=90.0, midi_in="clock box"), time.perf_counter)
    tempo.start()
    try:
        assert wait_for(lambda: tempo.sources[0].clock_in.port.opened is not None, 10.0)
        player.play()
        midi = run_for(tempo, 30.0, until=player.stopped.is_set, source="midi")
        run_for(tempo, 2.0, until=lambda: tempo.leading.name == "fixed")  # stopped: lost
    finally:
        tempo.stop()
        player.close()
    assert len(player.beats) >= 12 and len(midi) >= len(player.beats) - 2
    lags = np.array([beat.at - min(player.beats, key=lambda sent: abs(beat.at - sent)) for beat in midi])
    print(f"show's beat after the drum machine's, ms: median {1000 * np.median(lags):.1f}, "
          f"from {1000 * lags.min():.1f} to {1000 * lags.max():.1f}")
    # JACK hands MIDI over once a cycle (43 ms in the test server): the beats, fitted to the ticks'
    # arrivals, lag by about half a cycle, steadily; never by a tick's worth of jitter (19.5 ms at 128)
    assert -0.010 < np.median(lags) < 0.060 and np.percentile(lags[1:], 90) - np.percentile(lags[1:], 10) < 0.020, lags
    sent_index = [int(np.argmin([abs(beat.at - sent) for sent in player.beats])) for beat in midi]
    assert all(beat.downbeat == (index % 4 == 0) for beat, index in zip(midi, sent_index))
    said = [record.getMessage() for record in caplog.records]
    assert "tempo: midi is back; following it again" in said and said[-1] == "tempo: midi lost; falling back to fixed"


def test_midi_clock_in_reads_tempo_and_song_position_from_bytes():
    clock_in = MidiClockIn("unused", lambda: now[0], beats_per_bar=4)
    now = [0.0]
    period = 60 / 120 / 24

    def send(*message):
        clock_in._arrived(list(message), 0.0)

    send(SONG_POSITION, 8, 0)  # sixteenth 8: beat 2 of the first bar
    send(CONTINUE)
    for tick in range(48):
        now[0] = tick * period
        send(TICK)
    send(0x90, 60, 100)  # a note: not clock, counted
    beats = clock_in.beats_until(now[0])
    assert [round(at, 6) for at, _ in beats] == [0.0, 0.5] and [down for _, down in beats] == [False, False]
    assert clock_in.bpm() == pytest.approx(120.0) and clock_in.ignored == 1
    assert clock_in.beat_at(now[0]) == pytest.approx(2 + 47 / 24)
    assert clock_in.running(now[0]) and not clock_in.running(now[0] + 0.6)  # no tick for 0.6 s: lost


def test_the_show_leads_midi_clock_on_its_grid(jack_server):
    with Player("clock sink") as sink:
        tempo = Tempo(TempoConfig(bpm=150.0, lead=["midi"], midi_out="clock sink feedback"), time.perf_counter)
        tempo.start()
        try:
            run_for(tempo, 3.0)
        finally:
            tempo.stop()
        heard = sink.heard()
    assert heard[0][0] == SONG_POSITION and heard[1] == [CONTINUE], heard[:3]
    ticks = sum(1 for message in heard if message == [TICK])
    assert 2.0 * 150 / 60 * 24 < ticks <= 3.0 * 150 / 60 * 24 + 1, ticks  # 60 ticks a second for about 3 s
    assert heard[-1] == [0xFC]  # stop, as the show ends
