"""A drum machine's MIDI clock from a second process: `python -m tests.midi_clock_player NAME BPM [--seconds S]`.

It offers an output port NAME on the machine's MIDI system (JACK's dummy server in the tests), prints "ready",
waits for a line on stdin, then sends start and 24 ticks a beat at BPM for S seconds (then stop), on time
against time.perf_counter (CLOCK_MONOTONIC, the same clock as the test's). Each beat's tick is printed as
a JSON line {"beat": n, "t": perf_counter seconds when it was sent}.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from live.control.midi_ports import open_client


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("bpm", type=float)
    parser.add_argument("--seconds", type=float, default=10.0)
    options = parser.parse_args()
    port = open_client("output", f"{options.name}-clock")
    port.open_virtual_port(options.name)
    print("ready", flush=True)
    sys.stdin.readline()
    tick_seconds = 60.0 / options.bpm / 24
    start = time.perf_counter() + 0.05
    port.send_message([0xFA])
    tick = 0
    while tick * tick_seconds < options.seconds:
        due = start + tick * tick_seconds
        while (now := time.perf_counter()) < due:
            time.sleep(min(0.002, due - now))
        port.send_message([0xF8])
        if tick % 24 == 0:
            print(json.dumps({"beat": tick // 24, "t": time.perf_counter()}), flush=True)
        tick += 1
    port.send_message([0xFC])
    print("stopped", flush=True)
    sys.stdin.readline()  # keep the port until the test is done with it
    port.close_port()
    port.delete()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
