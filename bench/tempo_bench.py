"""Beat phase error against Ableton Link: how far the show's beats lie from a Link peer's, and how late a frame sees them.

Starts a Link peer in a second process (tests/link_peer.py, leading the session at
--bpm over real multicast on this machine), has the show's `Tempo` follow Link on a
frame tick of --fps for --seconds, and for every beat it hands the director measures:
- the phase error: the peer's own session beat at that beat's Link time, distance to
  the nearest whole beat, in ms (what a cue quantised to the beat is off by);
- the frame lag: from the beat to the frame tick that handed it over (a cue shows on
  that frame, so at most one frame plus the scheduler's lateness).
Prints a Markdown table of the median, 99th percentile and worst of each.

    .venv/bin/python -m bench.tempo_bench --seconds 30 --markdown bench/tempo.md
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from bench.measure import publish
from live.inputs.audio_analysis import SILENCE
from live.show.schema import TempoConfig
from live.show.tempo import Tempo

REPO = Path(__file__).resolve().parent.parent


class Peer:
    def __init__(self, bpm: float):
        self.process = subprocess.Popen([sys.executable, "-m", "tests.link_peer", str(bpm), "--lead"], cwd=REPO,
                                        stdout=subprocess.PIPE, text=True)
        self.latest: dict | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.latest = json.loads(line)

    def beat_at(self, link_us: int) -> float:
        line = self.latest
        return line["beat"] + (link_us - line["link_us"]) * line["tempo"] / 60e6

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def measure(bpm: float, seconds: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(phase errors ms, frame lags ms) of every beat handed over while following the peer."""
    peer = Peer(bpm)
    tempo = Tempo(TempoConfig(source="link", bpm=100.0), time.perf_counter)
    tempo.start()
    errors, lags = [], []
    try:
        deadline = time.perf_counter() + 30.0
        while time.perf_counter() < deadline:  # until the show follows the peer's tempo
            tempo.update(time.perf_counter(), SILENCE)
            if tempo.leading is not None and abs((tempo.leading.bpm() or 0) - bpm) < 0.01 and peer.latest:
                break
            time.sleep(1 / fps)
        else:
            raise SystemExit("the Link peer was never found: is multicast on this machine blocked?")
        session = tempo.leading.session
        next_frame, end = time.perf_counter(), time.perf_counter() + seconds
        while next_frame < end:
            time.sleep(max(0.0, next_frame - time.perf_counter()))
            t = time.perf_counter()
            for beat in tempo.update(t, SILENCE):
                peer_beat = peer.beat_at(session.reading(beat.at).link_us)
                errors.append(abs(peer_beat - round(peer_beat)) * 60.0 / bpm * 1000.0)
                lags.append((t - beat.at) * 1000.0)
            next_frame += 1 / fps
    finally:
        tempo.stop()
        peer.close()
    return np.array(errors), np.array(lags)


def table(errors: np.ndarray, lags: np.ndarray, bpm: float, fps: float) -> str:
    def row(name: str, values: np.ndarray) -> str:
        return (f"| {name} | {np.median(values):.2f} ms | {np.percentile(values, 99):.2f} ms | "
                f"{values.max():.2f} ms |")

    lines = [f"Following a Link peer at {bpm:g} BPM in a second process, {len(errors)} beats on a {fps:g} fps "
             f"frame tick (one frame: {1000 / fps:.1f} ms)", "",
             "| measure | median | p99 | worst |", "| --- | --- | --- | --- |",
             row("beat phase error against the peer", errors), row("beat to the frame that hands it over", lags)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bpm", type=float, default=128.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--fps", type=float, default=60.0)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    errors, lags = measure(args.bpm, args.seconds, args.fps)
    publish(table(errors, lags, args.bpm, args.fps), args.markdown)


if __name__ == "__main__":
    main()
