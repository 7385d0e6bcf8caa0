"""A Link peer in a process of its own, for tests: `python -m tests.link_peer BPM [--lead] [--seconds S]`.

It joins the Link session (real Link, UDP multicast on this machine), sets the session's tempo
to BPM when it leads, and prints one JSON line every 50 ms, flushed:
{"peers": 1, "tempo": 128.0, "beat": 12.345, "link_us": 123456789} (the session's beat at Link's
clock, 4 beats to the bar). Reading the session, a test can tell the beat at any Link time:
beat + (us - link_us) * tempo / 60e6 while the tempo holds. It ends after S seconds or on SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time

import link

QUANTUM = 4.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bpm", type=float)
    parser.add_argument("--lead", action="store_true", help="set the session's tempo to BPM, again whenever it moves")
    parser.add_argument("--seconds", type=float, default=120.0)
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    peer = link.Link(options.bpm)
    peer.enabled = True
    end = time.monotonic() + options.seconds
    try:
        while time.monotonic() < end:
            state = peer.captureAppSessionState()
            now = peer.clock().micros()
            if options.lead and abs(state.tempo() - options.bpm) > 1e-3:
                state.setTempo(options.bpm, now)
                peer.commitAppSessionState(state)
                state = peer.captureAppSessionState()
            print(json.dumps({"peers": peer.numPeers(), "tempo": state.tempo(),
                              "beat": state.beatAtTime(now, QUANTUM), "link_us": now}), flush=True)
            time.sleep(0.05)
    finally:
        peer.enabled = False


if __name__ == "__main__":
    main()
