"""Acceptance: the audio tempo's octave pinned by the show (`tempo: {source: audio, bpm: 70}`) and moved live
by a real UDP `/latentstage/tempo` message, read off the HUD of `latentstage run --headless`.

README promise checked here ("Audio", "Control"): "a tempo in the show or from OSC pins the tracker's octave:
of x0.5, x1 and x2 what it hears, the nearest one the music pulses at; 0 unpins it".
"""
from __future__ import annotations

import re

from pythonosc.udp_client import SimpleUDPClient

from tests.acceptance.test_live_osc import osc_port
from tests.acceptance.test_window import START_TIMEOUT, LiveShow, cppn_scene, write_show
from tests.live.inputs.test_audio import write_wav
from tests.live.inputs.test_audio_beats import HOUSE, drum_loop, resampled

RATE = 22_050  # Hz: a file the player hands over at another rate than the loop was made at


def tempo_on_hud(hud: str) -> tuple[float, str] | None:
    """(BPM, what follows it) from the HUD's audio line: `... 135 bpm (pinned near 130)`."""
    found = re.search(r"audio ok .* (\d+) bpm( \(pinned near [\d.]+\))?", hud)
    return (float(found.group(1)), (found.group(2) or "").strip()) if found else None


def test_the_show_pins_half_time_and_osc_moves_the_pin_while_it_runs(tmp_path):
    song = write_wav(tmp_path / "house.wav", resampled(drum_loop(HOUSE, seconds=60.0), RATE), RATE)
    show = write_show(tmp_path, [cppn_scene("drift")], window={"width": 160, "height": 90, "hud": True},
                      audio={"kind": "file", "path": str(song), "samplerate": RATE},
                      tempo={"source": "audio", "bpm": 70})  # "about 70": the loop's half time
    with LiveShow(show, "--headless") as run:
        run.wait_for_hud(lambda text: tempo_on_hud(text) == (67.0, "(pinned near 70)"), START_TIMEOUT)  # 67.5
        desk = SimpleUDPClient("127.0.0.1", osc_port(run))
        desk.send_message("/latentstage/tempo", 0.0)  # unpinned: the tracker's own octave
        run.wait_for_hud(lambda text: tempo_on_hud(text) == (135.0, ""))
        desk.send_message("/latentstage/tempo", 140.0)
        run.wait_for_hud(lambda text: tempo_on_hud(text) == (135.0, "(pinned near 140)"))
        desk.send_message("/latentstage/tempo", 65.0)
        run.wait_for_hud(lambda text: tempo_on_hud(text) == (67.0, "(pinned near 65)"))
        assert run.stop() == 0, run.errors()
    assert 67 <= run.stats()["audio"]["tempo_bpm"] <= 68  # the figures at the end say the same
