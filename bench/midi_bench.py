"""Control latency, MIDI beside OSC: from a message leaving a controller to its effect in a drawn frame.

The demo show's live loop runs headless (its cues removed) in this process, as
bench/control_bench.py runs it, with its OSC server on a free loopback port and
its MIDI input on a port that a second thread plays through python-rtmidi (a
virtual output port on JACK, or on ALSA where the machine has a sequencer).
At random moments the thread toggles `mirror` or picks a scene, by OSC
(`/latentstage/mirror`, `/latentstage/scene`) or by MIDI (CC 80 mapped to
`mirror`, CC 81 spread over the scenes), one change at a time. Each message's
effect is found on the first frame drawn with it; the time from sending to that
draw is its latency. A MIDI message goes through one more hop than OSC's: it is
a raw input that the show's mapping turns into the parameter on the next frame
tick, as it would in a show.

Needs a MIDI system: with none running it starts its own `jackd -d dummy`.

    .venv/bin/python -m bench.midi_bench --seconds 30 --markdown out/bench_midi.md
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pythonosc.udp_client import SimpleUDPClient

from bench.control_bench import Probe, Probes, bound_address, measured_run
from bench.measure import publish
from live.cli import default_show
from live.control.mappings import MappingConfig
from live.control.midi import MidiConfig
from live.control.midi_ports import MidiUnavailable, open_client, port_names
from live.show.conductor import Conductor
from live.show.schema import load_show

PORT = "midi bench pads"
MIRROR_CC, SCENE_CC = 80, 81
LOST_AFTER = 3.0  # seconds: a change not on screen by then was lost (JACK drops a late client's MIDI)


@dataclass
class RoutedProbe(Probe):
    via: str = "osc"  # "osc" or "midi"


def midi_system() -> subprocess.Popen | None:
    """A JACK server on the dummy backend when the machine offers no MIDI ports yet; None if it does."""
    try:
        port_names("input")
        return None
    except MidiUnavailable:
        pass
    if shutil.which("jackd") is None:
        raise SystemExit("no MIDI system here and no jackd to start one (apt install jackd2)")
    os.environ.update({"JACK_DEFAULT_SERVER": "latentstage-bench", "JACK_NO_AUDIO_RESERVATION": "1",
                       "LATENTSTAGE_MIDI_API": "jack"})
    server = subprocess.Popen(["jackd", "--no-realtime", "-n", "latentstage-bench", "-d", "dummy", "-r", "48000",
                               "-p", "256"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            port_names("input")
            return server
        except MidiUnavailable:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("jackd -d dummy did not start")


def play_controllers(controls: Conductor, probes: Probes, stop: threading.Event, scenes: int, midi,
                     lost: list[RoutedProbe]) -> None:
    client = SimpleUDPClient(*bound_address(controls, stop))
    client.send_message("/latentstage/fade", 0.0)
    rng = random.Random(7)
    mirror, scene = False, 0
    while not stop.wait(rng.uniform(0.25, 0.5)):
        with probes.lock:
            if probes.pending and time.perf_counter() - probes.pending[0].sent_at > LOST_AFTER:
                lost.append(probes.pending.pop())  # the screen stayed as it was: so do we
                if lost[-1].kind == "mirror":
                    mirror = not mirror
                else:
                    scene = (scene - 1) % scenes
            if probes.pending:  # one change at a time, so each effect has one cause
                continue
            via = "midi" if rng.random() < 0.5 else "osc"
            if rng.random() < 0.5:
                mirror = not mirror
                probes.pending.append(RoutedProbe("mirror", mirror, time.perf_counter(), via=via))
                if via == "osc":
                    client.send_message("/latentstage/mirror", int(mirror))
                else:
                    midi.send_message([0xB0, MIRROR_CC, 127 if mirror else 0])
            else:
                scene = (scene + 1) % scenes
                probes.pending.append(RoutedProbe("scene", scene, time.perf_counter(), via=via))
                if via == "osc":
                    client.send_message("/latentstage/scene", scene)
                else:
                    midi.send_message([0xB0, SCENE_CC, round(scene * 127 / (scenes - 1))])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    server = midi_system()
    player = open_client("output", "midi-bench-player")
    player.open_virtual_port(PORT)
    try:
        show = load_show(default_show())
        mappings = [MappingConfig(midi={"cc": MIRROR_CC}, to="mirror"),
                    MappingConfig(midi={"cc": SCENE_CC}, to="scene")]
        # no cues: only the controllers change scenes, so each change has one cause
        show = show.model_copy(update={"cues": [], "midi": MidiConfig(inputs=[PORT]), "mappings": mappings})
        show.osc.port = 0
        lost: list[RoutedProbe] = []
        probes = measured_run(show, args.seconds, play_controllers, player, lost)
    finally:
        player.close_port()
        player.delete()
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    publish(_table(probes.done, lost, show.output.fps), args.markdown)
    return 0


def _table(done: list[RoutedProbe], lost: list[RoutedProbe], fps: float) -> str:
    lines = [f"Controller message to effect in a drawn frame, demo show headless at {fps:g} fps: OSC over loopback "
             "UDP and MIDI through the show's mapping, in one run", "",
             "| change | by | messages | lost | p50 ms | p99 ms | max ms |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for kind in ("mirror", "scene"):
        for via, name in (("osc", f"/latentstage/{kind}"), ("midi", f"CC {MIRROR_CC if kind == 'mirror' else SCENE_CC}")):
            latencies = np.array([(p.seen_at - p.sent_at) * 1000 for p in done if p.kind == kind and p.via == via])
            missing = sum(p.kind == kind and p.via == via for p in lost)
            if latencies.size:
                lines.append(f"| {kind} | {via.upper()} {name} | {latencies.size} | {missing} "
                             f"| {statistics.median(latencies):.1f} "
                             f"| {np.percentile(latencies, 99):.1f} | {latencies.max():.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
