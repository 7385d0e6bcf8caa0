"""Audio features on signals made here: click tracks and a sweep written as WAV, read from files and live.

The live test plays a WAV into a private PulseAudio daemon's null sink and reads
its monitor through a real sounddevice stream (PortAudio -> ALSA -> pulse
plugin). Every test reads features on a simulated frame tick of 1/60 s.
"""
from __future__ import annotations

import math
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from live.inputs.audio import AudioConfig, FileAudio, LiveAudio, NoAudio, open_audio
from live.inputs.audio_analysis import SILENCE, Analyser, AudioFeatures, estimate_tempo
from tests.conftest import REPO, wait_for

RATE = 48000  # Hz
TICK = 1 / 60  # seconds between simulated frames
CLICK_SECONDS = 12.0
FIRST_CLICK = 0.25  # seconds
BANDS = ("bass", "low_mid", "high_mid", "high")

def click_times(bpm: float, seconds: float = CLICK_SECONDS) -> np.ndarray:
    return np.arange(FIRST_CLICK, seconds - 0.1, 60.0 / bpm)  # seconds


def click_track(bpm: float, rate: int = RATE, seconds: float = CLICK_SECONDS) -> np.ndarray:
    """(n,) float32: 30 ms bursts of noise and a 1 kHz tone, decaying in 5 ms, on every beat."""
    rng = np.random.default_rng(int(bpm))
    signal = np.zeros(round(seconds * rate), np.float32)
    length = round(0.03 * rate)
    n = np.arange(length)
    decay = np.exp(-n / (0.005 * rate))
    for start in click_times(bpm, seconds):
        burst = (0.3 * rng.standard_normal(length) + 0.5 * np.sin(2 * np.pi * 1000 * n / rate)) * decay
        index = round(start * rate)
        signal[index:index + length] += burst
    return signal


def log_sweep(rate: int = RATE, seconds: float = 12.0, low: float = 40.0, high: float = 12000.0) -> np.ndarray:
    """(n,) float32 sine whose frequency rises exponentially from low to high (Hz), amplitude 0.5."""
    t = np.arange(round(seconds * rate)) / rate
    growth = math.log(high / low) / seconds  # per second
    phase = 2 * np.pi * low * (np.exp(growth * t) - 1) / growth
    return (0.5 * np.sin(phase)).astype(np.float32)


def sweep_frequency(t: float, seconds: float = 12.0, low: float = 40.0, high: float = 12000.0) -> float:
    return low * (high / low) ** (t / seconds)


def write_wav(path: Path, signal: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def read_ticks(source: FileAudio, seconds: float) -> list[tuple[float, AudioFeatures]]:
    return [(t, source.features_at(t)) for t in np.arange(0.0, seconds, TICK)]


def nearest_errors(detected: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(T,) seconds from each true time to the nearest detected one."""
    return np.array([detected[np.argmin(np.abs(detected - t))] - t for t in truth])


@pytest.fixture(scope="module")
def wav_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("audio")
    for bpm in (120, 97):
        write_wav(folder / f"clicks_{bpm}.wav", click_track(bpm))
    write_wav(folder / "clicks_97_44k.wav", click_track(97, rate=44100), rate=44100)
    write_wav(folder / "sweep.wav", log_sweep())
    return folder


# ---------------------------------------------------------------- files


@pytest.mark.parametrize("bpm", [120, 97])
def test_file_onsets_and_tempo_match_the_click_track(wav_dir, bpm):
    source = FileAudio(AudioConfig(kind="file", path=wav_dir / f"clicks_{bpm}.wav"))
    source.start()
    assert source.status().healthy
    ticks = read_ticks(source, CLICK_SECONDS)
    truth = click_times(bpm)

    detected = np.array(source.analyser.onset_times)  # stream seconds, sample-accurate
    errors = nearest_errors(detected, truth)
    print(f"{bpm} BPM: {len(detected)} onsets for {len(truth)} clicks, "
          f"errors ms: max {1000 * np.abs(errors).max():.1f}, mean {1000 * errors.mean():.1f}")
    assert len(detected) == len(truth)  # no spurious extras
    assert np.abs(errors).max() < 0.030

    # the frame tick sees each onset on the first frame after it, within detection latency
    flagged = np.array([t for t, features in ticks if features.onset])
    assert len(flagged) == len(truth)
    lag = nearest_errors(flagged, truth)
    assert np.all((lag > -0.010) & (lag < 0.030 + TICK))

    tempo = ticks[-1][1].tempo_bpm
    print(f"{bpm} BPM: tempo {tempo:.2f}")
    assert tempo is not None and abs(tempo - bpm) < 2.0
    assert all(abs(features.tempo_bpm - bpm) < 2.0 for t, features in ticks if t > 5.0)


def test_file_beats_fall_on_the_clicks_once_the_tempo_is_known(wav_dir):
    source = FileAudio(AudioConfig(kind="file", path=wav_dir / "clicks_120.wav"))
    read_ticks(source, CLICK_SECONDS)
    beats = np.array(source.analyser.beat_times)
    later = click_times(120)[click_times(120) > 5.0]
    errors = nearest_errors(beats, later)
    print(f"beat errors ms: max {1000 * np.abs(errors).max():.1f}")
    assert np.abs(errors).max() < 0.030
    assert np.all(np.diff(beats[beats > 5.0]) > 0.4)  # one beat per click, never doubled


def test_file_resampled_from_44k_keeps_the_tempo(wav_dir):
    source = FileAudio(AudioConfig(kind="file", path=wav_dir / "clicks_97_44k.wav"))
    ticks = read_ticks(source, CLICK_SECONDS)
    assert abs(ticks[-1][1].tempo_bpm - 97) < 2.0
    errors = nearest_errors(np.array(source.analyser.onset_times), click_times(97))
    assert np.abs(errors).max() < 0.030


def test_file_is_deterministic_and_restarts_when_time_goes_back(wav_dir):
    config = AudioConfig(kind="file", path=wav_dir / "clicks_120.wav", latency_offset=0.05)
    first = [features for _, features in read_ticks(FileAudio(config), 3.0)]
    source = FileAudio(config)
    read_ticks(source, 1.5)
    again = [features for _, features in read_ticks(source, 3.0)]  # back to 0: starts over
    assert first == again
    # the offset reads ahead: the first click (0.25 s) shows 50 ms early
    first_onset = next(i for i, features in enumerate(first) if features.onset) * TICK
    assert 0.2 - TICK < first_onset < 0.25


def test_file_past_the_end_fades_to_silence(wav_dir):
    source = FileAudio(AudioConfig(kind="file", path=wav_dir / "clicks_120.wav"))
    source.features_at(CLICK_SECONDS - 0.5)
    late = [source.features_at(t) for t in np.arange(CLICK_SECONDS, CLICK_SECONDS + 2.0, TICK)]
    assert late[-1].silent and late[-1].level < 0.01
    assert source.features_at(3600.0).silent  # a jump an hour ahead is cheap and silent


def test_sweep_moves_the_loudest_band_upwards(wav_dir):
    source = FileAudio(AudioConfig(kind="file", path=wav_dir / "sweep.wav"))
    ticks = read_ticks(source, 12.0)
    loudest = np.array([np.argmax([getattr(f, band) for band in BANDS]) for _, f in ticks])  # (ticks,)
    times = np.array([t for t, _ in ticks])
    assert np.all(loudest[(times > 0.2) & (times < 2.0)] == 0)  # bass at the start
    assert np.all(loudest[times > 10.5] == 3)  # high at the end
    steps = np.diff(loudest)
    assert np.all(steps >= 0) or np.count_nonzero(steps < 0) <= 2  # upwards, with a little slack
    assert set(np.unique(loudest)) == {0, 1, 2, 3}
    for band, edge in ((1, 150.0), (2, 600.0), (3, 4000.0)):  # each takes over near its lower edge
        takeover = times[np.argmax(loudest >= band)]
        assert 0.6 * edge < sweep_frequency(takeover) < 1.6 * edge, (BANDS[band], sweep_frequency(takeover))


def test_features_stay_in_range_and_silence_is_silent():
    analyser = Analyser(AudioConfig())
    analyser.push(click_track(120, seconds=3.0))
    features = analyser.features()
    for name in ("level", "flux", "onset_strength", *BANDS):
        assert 0.0 <= getattr(features, name) <= 1.0
    analyser.push(np.zeros(RATE, np.float32))
    quiet = analyser.features()
    assert quiet.silent and quiet.level < 0.01 and not quiet.onset


def test_tempo_prefers_the_beat_over_its_subdivision():
    """Kicks on the beat at 97 BPM, softer hats on every eighth: 97, not 194."""
    frame_rate = RATE / 512
    frames = np.arange(round(8 * frame_rate))
    period = 60 * frame_rate / 97  # frames
    envelope = np.zeros(len(frames))
    envelope[np.round(np.arange(0, len(frames) - 1, period)).astype(int)] += 1.0
    envelope[np.round(np.arange(period / 2, len(frames) - 1, period)).astype(int)] += 0.6
    bpm, _ = estimate_tempo(envelope, frame_rate)
    assert abs(bpm - 97) < 2.0


def test_config_rejects_unknown_keys_and_a_file_without_path():
    with pytest.raises(ValidationError):
        AudioConfig(kind="input", gian_window=3.0)
    with pytest.raises(ValidationError):
        AudioConfig(kind="file")
    assert isinstance(open_audio(AudioConfig(), time.monotonic), NoAudio)
    assert open_audio(AudioConfig(), time.monotonic).features(0.0) is SILENCE


def test_a_missing_file_gives_silence_and_says_why(tmp_path):
    source = open_audio(AudioConfig(kind="file", path=tmp_path / "nope.wav"), time.monotonic)
    source.start()
    assert source.features(1.0) is SILENCE
    status = source.status()
    assert not status.healthy and "nope.wav" in status.message


# ---------------------------------------------------------------- live


def test_live_ring_hands_blocks_to_the_frame_tick_at_their_time():
    """PortAudio's callback, called as PortAudio calls it, on a driven clock: 12 s of stereo through a 4 s ring."""
    import sounddevice

    now = [0.0]  # seconds, the driven clock
    config = AudioConfig(kind="input", latency_offset=-0.1, channels=2)
    source = LiveAudio(config, lambda: now[0])
    left = click_track(120)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)  # (n, 2): mixing halves it
    block = config.blocksize
    starts = np.arange(0, len(stereo) - block + 1, block)
    arrivals = (starts + block) / RATE  # seconds: a block arrives when its last sample is in
    taken, next_tick = [], 0.0
    for start, arrival in zip(starts, arrivals):
        now[0] = arrival
        source._callback(stereo[start:start + block], block, None, sounddevice.CallbackFlags())
        while next_tick <= now[0]:
            taken.append(source._take(next_tick + config.latency_offset, channels=2))
            arrived = np.count_nonzero(arrivals <= next_tick + config.latency_offset) * block
            assert sum(len(chunk) for chunk in taken) == arrived  # exactly the blocks in by t + offset
            next_tick += TICK
    mono = np.concatenate(taken)
    np.testing.assert_allclose(mono, 0.5 * left[:len(mono)], atol=1e-7)
    assert source.status().overflows == 0


def test_live_with_a_device_that_does_not_exist_is_silent_and_says_so():
    source = LiveAudio(AudioConfig(kind="input", device="no such device 7f3a"), time.monotonic)
    source.start()
    try:
        assert wait_for(lambda: source.status().message.startswith("no sound: cannot open"), 60.0), source.status()
        status = source.status()
        assert not status.healthy and "no such device 7f3a" in status.message
        assert all(source.features(time.monotonic()) is SILENCE for _ in range(5))
    finally:
        source.stop()


def test_live_without_portaudio_imports_and_is_silent():
    program = """
import sys, time
sys.modules["sounddevice"] = None  # as if libportaudio2 were missing: the import fails
import live.inputs.audio as audio
from live.inputs.audio_analysis import SILENCE
source = audio.open_audio(audio.AudioConfig(kind="input"), time.monotonic)
source.start()
deadline = time.monotonic() + 60  # waits for the worker's first attempt, however busy the machine
while source.status().message == "starting" and time.monotonic() < deadline:
    time.sleep(0.05)
status = source.status()
assert source.features(time.monotonic()) is SILENCE
source.stop()
assert "torch" not in sys.modules
print("STATUS", status.healthy, status.message)
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "STATUS False no audio: PortAudio is not available" in result.stdout


def test_live_stream_through_a_pulseaudio_null_sink(pulse_sink, wav_dir):
    """A click track played into the null sink, read back through a real input stream. The frame
    tick is replayed on the stream's own clock: tick k reads features at started + k/60 s as soon
    as that moment has passed, so a late or busy test thread sees what an on-time renderer would
    have seen (the blocks that arrived by then), and the test runs until every click came through."""
    bpm = 120
    truth = click_times(bpm)
    source = LiveAudio(AudioConfig(kind="input", device="pulse"), time.monotonic)
    source.start()
    player = None
    ticks: list[tuple[float, AudioFeatures]] = []
    try:
        assert wait_for(lambda: source.status().healthy, 60.0), source.status()
        player = subprocess.Popen(["paplay", "--device=latentstage_test", str(wav_dir / f"clicks_{bpm}.wav")],
                                  env=pulse_sink, stderr=subprocess.PIPE)
        started = time.monotonic()
        finished_at = [math.inf]  # tick time at which the player was seen done

        def heard_it_all() -> bool:
            now = time.monotonic()
            while started + len(ticks) * TICK <= now:  # every tick whose moment has come, in order
                t = started + len(ticks) * TICK
                ticks.append((t, source.features(t)))
            if finished_at[0] == math.inf and player.poll() is not None:
                finished_at[0] = now
            every_click = len(source.analyser.onset_times) >= len(truth)
            return ticks[-1][0] > finished_at[0] + (0.5 if every_click else 3.0)  # the tail came through

        assert wait_for(heard_it_all, timeout=CLICK_SECONDS + 120.0, poll=TICK)
        assert player.wait(timeout=60) == 0, player.stderr.read()
        status = source.status()
    finally:
        source.stop()
        if player is not None and player.poll() is None:
            player.kill()
    assert status.healthy and status.device, status

    flagged = np.array([t for t, features in ticks if features.onset])  # clock seconds
    stream_onsets = np.array(source.analyser.onset_times)  # stream seconds
    period = 60.0 / bpm
    tick_errors = np.diff(flagged) - period
    stream_errors = np.diff(stream_onsets) - period
    print(f"live: {len(flagged)} onsets for {len(truth)} clicks; interval errors ms: "
          f"frame tick max {1000 * np.abs(tick_errors).max():.1f}, median {1000 * np.median(np.abs(tick_errors)):.1f}, "
          f"stream max {1000 * np.abs(stream_errors).max():.1f}; overflows {status.overflows}; "
          f"tempo {ticks[-1][1].tempo_bpm}")
    assert abs(len(flagged) - len(truth)) <= 1 and abs(len(stream_onsets) - len(truth)) <= 1
    # Sample-accurate in the stream; on the frame tick, quantised to 16.7 ms and to how the pulse
    # plugin hands blocks over (bursts of 20-30 ms): typically within 30 ms, and each onset flagged
    # once per click (never doubled, never merged with the next).
    assert np.abs(stream_errors).max() < 0.030
    assert np.median(np.abs(tick_errors)) < 0.030 and np.abs(tick_errors).max() < period / 2
    tempo = ticks[-1][1].tempo_bpm
    assert tempo is not None and abs(tempo - bpm) < 2.0


def test_live_survives_the_device_vanishing_and_coming_back(pulse_sink):
    """The null sink (and so the monitor the stream reads) is unloaded and loaded again."""
    source = LiveAudio(AudioConfig(kind="input", device="pulse"), time.monotonic)
    source.start()
    sink = ["pactl", "load-module", "module-null-sink", "sink_name=latentstage_test", "rate=48000"]
    try:
        assert wait_for(lambda: source.status().healthy, 60.0), source.status()
        subprocess.run(["pactl", "unload-module", "module-null-sink"], env=pulse_sink, check=True)
        assert wait_for(lambda: not source.status().healthy, 60.0), source.status()
        lost = source.status()
        assert source.features(time.monotonic()) is SILENCE
        subprocess.run(sink, env=pulse_sink, check=True)
        subprocess.run(["pactl", "set-default-source", "latentstage_test.monitor"], env=pulse_sink, check=True)
        assert wait_for(lambda: source.status().healthy, 60.0), source.status()
        print(f"lost: {lost.message!r}; back: {source.status().message!r}")
    finally:
        source.stop()
        sinks = subprocess.run(["pactl", "list", "short", "sinks"], env=pulse_sink, capture_output=True, text=True)
        if "latentstage_test" not in sinks.stdout:
            subprocess.run(sink, env=pulse_sink)
            subprocess.run(["pactl", "set-default-source", "latentstage_test.monitor"], env=pulse_sink)
