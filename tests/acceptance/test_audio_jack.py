"""Acceptance: a JACK server that goes away while a show runs never takes the show with it.

PortAudio 19.6's JACK host API, given a client at its initialisation, asserts when it terminates that the
client deactivated; with the server gone that aborts the process (SIGABRT, exit 134), and the audio input
terminates PortAudio at every retry to find a missing device again. The show here has MIDI's JACK server in
its environment, an audio input whose device is not there (so it retries every 2 s) and no PulseAudio; the
test stops the server once the input has tried, and the show must still be running, exit 0 and say why its
audio is silent. Its own server (the session's is shared): stopped cleanly, its slot goes back.
"""
from __future__ import annotations

import subprocess

import yaml

from tests.conftest import REPO, installed_command, start_jack_server, wait_for

SHOW_SECONDS = 5  # show time; the server is stopped in its first second or two: retries follow, then the exit


def test_a_jack_server_stopped_under_a_show_whose_audio_input_retries_does_not_abort_it(tmp_path):
    server, jack = start_jack_server(["latentstage-test-gone-0", "latentstage-test-gone-1"], tmp_path / "jackd.log")
    show = tmp_path / "show.yaml"
    show.write_text(yaml.safe_dump({
        "output": {"width": 64, "height": 36, "fps": 10}, "osc": {"port": 0},
        "audio": {"kind": "input", "device": "no such interface"},
        "scenes": [{"name": "drift", "kind": "cppn", "model": str(REPO / "models" / "cppn-tanh.onnx")}]}))
    env = {key: value for key, value in jack.items() if key != "PULSE_SERVER"}
    log = tmp_path / "show.log"
    with open(log, "w") as output:
        running = subprocess.Popen([installed_command(), "run", str(show), "--headless", "--seconds",
                                    str(SHOW_SECONDS)], env={**env, "XDG_STATE_HOME": str(tmp_path)},
                                   stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        tried = wait_for(lambda: "cannot open audio input" in log.read_text() or running.poll() is not None, 120)
        assert tried and running.poll() is None, log.read_text()  # PortAudio initialised, the show running
    finally:
        server.terminate()  # the JACK server goes away under it
        server.wait(timeout=10)
    assert running.wait(timeout=120) == 0, log.read_text()[-3000:]
    said = log.read_text()
    assert "Assertion" not in said and "presented" in said, said[-3000:]
    assert "no sound: cannot open audio input 'no such interface'" in said
