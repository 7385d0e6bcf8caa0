"""A small synthesised song with quiet and loud parts: the GAN tests' music and the machineray show's.

Bars of 4/4 at `bpm`: a soft pad alone for the quiet bars, then kick, bass, snare and hi-hats. The
onsets are where the drums are, so a test knows when the walk must jump and when it must glide.
`python -m tests.songs shows/media/painter-groove.flac` writes the bundled file (24 s at 120 BPM, 22 kHz;
CC0: made here).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

RATE = 44100  # Hz


def groove(bpm: float = 120.0, quiet_bars: int = 2, loud_bars: int = 6, rate: int = RATE,
           seed: int = 0) -> np.ndarray:
    """(n,) float32 mono in -1..1: `quiet_bars` of pad, then `loud_bars` of drums and bass over it."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    seconds = (quiet_bars + loud_bars) * 4 * beat
    t = np.arange(round(seconds * rate)) / rate
    # the pad's partials far apart (harmonics of 110 Hz): close ones beat within an analysis window, and
    # the beating reads as a stream of onsets where the music is meant to be quiet
    chord = (110.0, 220.0, 330.0)
    song = sum(0.05 * np.sin(2 * np.pi * f * t) * (0.6 + 0.4 * np.sin(2 * np.pi * t / (8 * beat))) for f in chord)
    start = quiet_bars * 4 * beat
    for index in range(loud_bars * 4):
        at = start + index * beat
        _add(song, at, _kick(rate), rate)
        _add(song, at, _bass(rate, beat, 55.0 if index % 8 < 4 else 73.4), rate)
        if index % 2 == 1:
            _add(song, at, _snare(rate, rng), rate)
        for half in (0.0, 0.5):
            _add(song, at + half * beat, _hat(rate, rng), rate)
    return np.clip(song, -1.0, 1.0).astype(np.float32)


def quiet_seconds(bpm: float = 120.0, quiet_bars: int = 2) -> float:
    """When the drums come in."""
    return quiet_bars * 4 * 60.0 / bpm


def _add(song: np.ndarray, at: float, sound: np.ndarray, rate: int) -> None:
    index = round(at * rate)
    end = min(len(song), index + len(sound))
    song[index:end] += sound[:end - index]


def _kick(rate: int) -> np.ndarray:
    n = np.arange(round(0.25 * rate)) / rate
    pitch = 50 + 90 * np.exp(-n / 0.03)  # Hz, falling
    return 0.8 * np.sin(2 * np.pi * np.cumsum(pitch) / rate) * np.exp(-n / 0.08)


def _bass(rate: int, beat: float, frequency: float) -> np.ndarray:
    n = np.arange(round(0.9 * beat * rate)) / rate
    return 0.25 * np.sign(np.sin(2 * np.pi * frequency * n)) * np.exp(-n / 0.2)


def _snare(rate: int, rng: np.random.Generator) -> np.ndarray:
    n = np.arange(round(0.15 * rate)) / rate
    return (0.35 * rng.standard_normal(len(n)) + 0.2 * np.sin(2 * np.pi * 190 * n)) * np.exp(-n / 0.04)


def _hat(rate: int, rng: np.random.Generator) -> np.ndarray:
    n = np.arange(round(0.05 * rate)) / rate
    noise = rng.standard_normal(len(n))
    return 0.12 * np.diff(noise, prepend=0.0) * np.exp(-n / 0.01)


def write_song(path: Path, signal: np.ndarray, rate: int = RATE) -> Path:
    """A mono sound file PyAV writes by its suffix (.wav, .flac)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    codec = {".wav": "pcm_s16le", ".flac": "flac"}[path.suffix.lower()]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        samples = (np.clip(signal, -1, 1) * 32767).astype("<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


if __name__ == "__main__":
    write_song(Path(sys.argv[1]), groove(bpm=120.0, quiet_bars=4, loud_bars=8, rate=22050), rate=22050)
