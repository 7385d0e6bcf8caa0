"""Audio analysis cost: milliseconds per 512-sample block and per second of audio, on a click track.

Makes a 120 BPM click track (noise and 1 kHz bursts) at 48 kHz, pushes it
through the `Analyser` one block at a time as the live frame tick would, and
prints a Markdown table: the median block, the median block that also
re-estimates tempo and beat phase (one in 47, every 0.5 s), the 99th
percentile and worst block (on a shared machine the worst is mostly the
neighbours), the cost per second of audio and the share of one core that is.

    .venv/bin/python -m bench.audio_bench --seconds 30 --markdown bench/audio.md
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench.measure import publish
from live.inputs.audio import AudioConfig
from live.inputs.audio_analysis import TEMPO_EVERY, TEMPO_MIN_HISTORY, Analyser

RATE = 48000  # Hz
BLOCK = 512  # samples


def click_track(seconds: float, bpm: float = 120.0) -> np.ndarray:
    """(n,) float32: a 30 ms burst of noise and a 1 kHz tone, decaying in 5 ms, on every beat."""
    rng = np.random.default_rng(0)
    signal = np.zeros(round(seconds * RATE), np.float32)
    n = np.arange(round(0.03 * RATE))
    burst = (0.3 * rng.standard_normal(len(n)) + 0.5 * np.sin(2 * np.pi * 1000 * n / RATE)) * np.exp(-n / (0.005 * RATE))
    for start in np.arange(0.25, seconds - 0.1, 60.0 / bpm):
        index = round(start * RATE)
        signal[index:index + len(n)] += burst
    return signal


def block_times_ms(signal: np.ndarray) -> np.ndarray:
    """(blocks,) milliseconds each push-and-read of one block took."""
    analyser = Analyser(AudioConfig(samplerate=RATE))
    times = []
    for start in range(0, len(signal) - BLOCK + 1, BLOCK):
        began = time.perf_counter()
        analyser.push(signal[start:start + BLOCK])
        analyser.features()
        times.append((time.perf_counter() - began) * 1000.0)
    return np.array(times)


def table(times: np.ndarray) -> str:
    per_second = times.sum() / (len(times) * BLOCK / RATE)  # ms of work per second of audio
    frame_rate = RATE / BLOCK  # the analyser's hop is one block at 48 kHz
    index = np.arange(len(times))
    with_tempo = (index % round(TEMPO_EVERY * frame_rate) == 0) & (index + 1 >= TEMPO_MIN_HISTORY * frame_rate)
    rows = [
        ("median block", f"{np.median(times[~with_tempo]):.3f} ms"),
        ("median block with a tempo and beat-phase estimate", f"{np.median(times[with_tempo]):.3f} ms"),
        ("99th percentile block", f"{np.percentile(times, 99):.3f} ms"),
        ("worst block", f"{times.max():.3f} ms"),
        ("per second of audio", f"{per_second:.1f} ms"),
        ("share of one core in real time", f"{per_second / 10:.2f} %"),
    ]
    lines = [f"Analyser on a 120 BPM click track, {len(times)} blocks of {BLOCK} samples at {RATE} Hz "
             f"({BLOCK / RATE * 1000:.1f} ms each)", "", "| measure | cost |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds of audio to analyse")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    block_times_ms(click_track(2.0))  # warm up numpy's FFT plans and caches
    text = table(block_times_ms(click_track(args.seconds)))
    publish(text, args.markdown)


if __name__ == "__main__":
    main()
