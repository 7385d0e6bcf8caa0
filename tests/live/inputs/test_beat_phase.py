"""The audio tracker's beats land on the kicks, not between them: steady loops made here, read by the
analyser alone, by the live input's ring on a frame tick, and once through a PulseAudio null sink.

A house loop whose off-beats are louder in the flux than its kicks (open hats, claps, an off-beat
bass line) used to phase the beat grid onto the off-beat for a third of its beats."""
from __future__ import annotations

import math
import subprocess
import time
from dataclasses import dataclass

import numpy as np
import pytest

from live.inputs.audio import AudioConfig, LiveAudio
from live.inputs.audio_analysis import Analyser
from tests.conftest import wait_for
from tests.live.inputs.test_audio import click_times, click_track, write_wav
from tests.live.inputs.test_audio_beats import Settings, drum_loop, resampled

LOOP_RATE = 48_000
SETTLE = 5.0  # seconds: beats before this are not judged
NEAR = 0.050  # seconds: a beat this close to a kick is on it
# off-beats louder than the kick in the flux: the loop that fired between kicks
LOUD_HOUSE = {"kick": 0.6, "hat": 0.5, "sixteenth": 0.2, "clap": 0.5, "open_hat": 1.0, "bass": 0.6}


@dataclass
class Loop:
    samples: np.ndarray  # (n,) float32 at `rate`
    rate: int
    kicks: np.ndarray  # (K,) seconds
    bpm: float


def house(bpm: float, rate: int, times: int = 4) -> Loop:
    """Four bars of LOUD_HOUSE, played `times` times end to end; its kicks and the beat after them."""
    bars = drum_loop(LOUD_HOUSE, seconds=16 * 60.0 / bpm, bpm=bpm)
    length = len(bars) / LOOP_RATE  # seconds, to the sample
    kicks = np.concatenate([i * length + np.arange(16) * 60.0 / bpm for i in range(times)] + [[times * length]])
    samples = np.tile(bars, times)
    return Loop(samples if rate == LOOP_RATE else resampled(samples, rate), rate, kicks, bpm)


def clicks(bpm: float, rate: int, seconds: float = 24.0) -> Loop:
    """Clicks with no bass at all (noise and a 1 kHz tone): the low band has nothing to say."""
    return Loop(click_track(bpm, rate=rate, seconds=seconds), rate, click_times(bpm, seconds), bpm)


STEADY = [(house, 128.0), (house, 135.1), (clicks, 90.0), (clicks, 174.0)]


def judge(beats: np.ndarray, loop: Loop, settle: float = SETTLE) -> tuple[float, int, float]:
    """(fraction of beats after `settle` within NEAR of a kick, beats nearer an off-beat than a
    kick, fraction of kicks after settle + 1 s with a beat within NEAR). Beats after the loop's
    end (the grid runs on into the silence a while) are not judged."""
    judged = beats[(beats > settle) & (beats < loop.kicks[-1] + NEAR)]
    assert len(judged) > 0, "no beats after the first seconds"
    errors = np.abs(judged[:, None] - loop.kicks[None, :]).min(axis=1)
    period = 60.0 / loop.bpm
    later = loop.kicks[(loop.kicks > settle + 1.0) & (loop.kicks < loop.kicks[-1])]
    covered = np.abs(later[:, None] - beats[None, :]).min(axis=1) < NEAR
    return float(np.mean(errors < NEAR)), int(np.sum(errors > period / 4)), float(np.mean(covered))


def assert_on_the_kicks(beats: np.ndarray, loop: Loop, settle: float = SETTLE) -> None:
    on_kick, off_beat, covered = judge(beats, loop, settle)
    print(f"{loop.bpm} BPM at {loop.rate} Hz: {len(beats)} beats, {on_kick:.0%} on a kick, {off_beat} off-beat, "
          f"{covered:.0%} of kicks have a beat")
    assert on_kick >= 0.95 and off_beat == 0
    assert covered >= 0.95  # and the tracker did not go quiet to get there


def analysed(samples: np.ndarray, rate: int, tick: float = 1 / 60) -> np.ndarray:
    analyser = Analyser(Settings(rate))
    step = round(tick * rate)
    for start in range(0, len(samples), step):
        analyser.push(samples[start:start + step])
        analyser.features()
    return np.array(analyser.beat_times)


@pytest.mark.parametrize("rate", [48_000, 11_025])
@pytest.mark.parametrize("make, bpm", STEADY)
def test_beats_fall_on_the_kicks_of_a_steady_loop(make, bpm, rate):
    loop = make(bpm, rate)
    assert_on_the_kicks(analysed(loop.samples, rate), loop)


@pytest.mark.parametrize("rate", [48_000, 11_025])
def test_the_live_inputs_ring_and_frame_tick_keep_the_beats_on_the_kicks(rate):
    """PortAudio's callback as PortAudio calls it, 512-sample blocks on a driven clock, read on a 60 Hz
    frame tick: the same path a sound card's samples take to the analyser."""
    import sounddevice

    loop = house(135.1, rate)
    now = [0.0]
    config = AudioConfig(kind="input", samplerate=rate)
    source = LiveAudio(config, lambda: now[0])
    block, tick = config.blocksize, 0.0
    for start in range(0, len(loop.samples) - block + 1, block):
        now[0] = (start + block) / rate
        source._callback(loop.samples[start:start + block, None], block, None, sounddevice.CallbackFlags())
        while tick <= now[0]:
            source.features(tick)
            tick += 1 / 60
    assert_on_the_kicks(np.array(source.analyser.beat_times), loop)


def test_a_tempo_change_and_a_jump_in_phase_are_followed():
    """A DJ's next track: 128 BPM, then 135.1 BPM starting on a kick of its own; then the same
    tempo again but half a beat later. The grid re-locks within a few seconds each time."""
    first, second = house(128.0, LOOP_RATE, times=2), house(135.1, LOOP_RATE, times=2)
    half_beat = round(30.0 / 135.1 * LOOP_RATE)  # samples
    third = house(135.1, LOOP_RATE, times=2)
    samples = np.concatenate([first.samples, second.samples, np.zeros(half_beat, np.float32), third.samples])
    starts = np.cumsum([0, len(first.samples), len(second.samples) + half_beat]) / LOOP_RATE  # seconds
    beats = analysed(samples, LOOP_RATE)
    for loop, start, end in zip((first, second, third), starts, [*starts[1:], len(samples) / LOOP_RATE]):
        shifted = Loop(loop.samples, LOOP_RATE, loop.kicks + start, loop.bpm)
        assert_on_the_kicks(beats[beats < end - NEAR], shifted, settle=start + SETTLE)  # the next one's first kick is at end


def test_beats_through_a_pulseaudio_null_sink_fall_on_the_kicks(pulse_sink, tmp_path):
    """The house loop played into the null sink and read back through a real input stream on a
    60 Hz frame tick. The stream's clock starts before the player: the loop's first kick is the
    stream's first onset, and the kicks are judged from there."""
    loop = house(135.1, LOOP_RATE)
    wav = write_wav(tmp_path / "house.wav", loop.samples)
    source = LiveAudio(AudioConfig(kind="input", device="pulse"), time.monotonic)
    source.start()
    player = None
    try:
        assert wait_for(lambda: source.status().healthy, 60.0), source.status()
        player = subprocess.Popen(["paplay", "--device=latentstage_test", str(wav)], env=pulse_sink,
                                  stderr=subprocess.PIPE)
        started, ticks = time.monotonic(), [0]
        finished_at, first_onset = [math.inf], []  # the ring of onsets may overflow before the end

        def heard_it_all() -> bool:
            now = time.monotonic()
            while started + ticks[0] / 60 <= now:  # every tick whose moment has come, in order
                source.features(started + ticks[0] / 60)
                ticks[0] += 1
            if not first_onset and source.analyser.onset_times:
                first_onset.append(source.analyser.onset_times[0])
            if finished_at[0] == math.inf and player.poll() is not None:
                finished_at[0] = now
            return now > finished_at[0] + 1.0

        assert wait_for(heard_it_all, timeout=len(loop.samples) / LOOP_RATE + 120.0, poll=1 / 60)
        assert player.wait(timeout=60) == 0, player.stderr.read()
    finally:
        source.stop()
        if player is not None and player.poll() is None:
            player.kill()
    assert first_onset, "no onset came through the sink"
    assert_on_the_kicks(np.array(source.analyser.beat_times) - first_onset[0], loop)
