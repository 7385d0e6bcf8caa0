"""Audio reactivity: a live input or a file, turned into features the show maps onto parameters.

A source hands mono float32 samples to an `Analyser`, which cuts them into
Hann-windowed frames (2048 samples, hop 512 at 48 kHz: about 10.7 ms) and
derives, frame by frame: the level, four band energies, the spectral flux of
the log-compressed magnitude, onsets picked against an adaptive threshold, the
tempo from the autocorrelation of the onset envelope and a beat grid phased
onto that envelope. Continuous features are auto-gained into 0..1 by a
decaying peak and smoothed with attack/release. The live source's sounddevice
callback only copies each block and its arrival time into a preallocated ring;
the analysis runs when the frame tick asks for `features(t)`. A missing or
lost device, or PortAudio itself missing, gives silence and a status message
and is retried with backoff; nothing raises out to the caller. The file source
decodes once with PyAV and is deterministic for rehearsal. Time comes from the
`clock` passed in. Numpy only: the maths fits in a few lines and needs no scipy.
"""
from __future__ import annotations

import logging
import math
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Protocol

import numpy as np
from pydantic import ConfigDict, Field, model_validator
from pydantic.dataclasses import dataclass as config_dataclass

log = logging.getLogger("latentstage.audio")

Clock = Callable[[], float]  # seconds, monotonic

# Band edges in Hz. Bass: kick drums and bass fundamentals; low-mid: bass harmonics,
# snare and tom bodies, the lower voice; high-mid: voice, leads and the snare's crack,
# where the ear is most sensitive; high: hi-hats, cymbals and air. Four bands, because
# these are the four things a VJ reaches for; the edges sit roughly two octaves apart.
BAND_EDGES = (20.0, 150.0, 600.0, 4000.0, 16000.0)
BAND_NAMES = ("bass", "low_mid", "high_mid", "high")

SILENCE_RMS = 10 ** (-60 / 20)  # -60 dBFS: below this a block counts as silent
GAIN_FLOORS = {"level": SILENCE_RMS, "band": 1e-3, "flux": 0.02}  # auto-gain never amplifies below these
LOG_COMPRESSION = 100.0  # gamma in log(1 + gamma |X|), |X| = 1 for a full-scale sine
ONSET_MEAN_WINDOW = 0.1  # seconds of past novelty the threshold averages (Boeck et al. 2012, online)
ONSET_MAX_WINDOW = 0.03  # seconds: an onset frame is the largest novelty of this span
MIN_ONSET_INTERVAL = 0.08  # seconds: at most 12.5 onsets a second
TEMPO_WINDOW = 6.0  # seconds of onset envelope the tempo is estimated from
TEMPO_MIN_HISTORY = 3.0  # seconds of envelope before a tempo is reported
TEMPO_EVERY = 0.5  # seconds between tempo and beat-phase estimates
TEMPO_RANGE = (60.0, 200.0)  # BPM
TEMPO_PRIOR_BPM = 120.0  # the log-Gaussian prior's centre ...
TEMPO_PRIOR_OCTAVES = 1.0  # ... and width: octave errors (x2, /2) lose to the candidate nearer 120
TEMPO_MIN_CONFIDENCE = 0.1  # normalised autocorrelation at the chosen lag below which no tempo is claimed
STALL_TIMEOUT = 1.0  # seconds without a block from a running stream that count as a lost device
# seconds an opened stream may take to deliver its first block: PortAudio through ALSA's
# pulse plugin was seen taking 0.8 to 2 s here, at normal latency once it runs
FIRST_BLOCK_TIMEOUT = 5.0
SUPERVISE_EVERY = 0.1  # seconds between the live supervisor's health checks
BACKOFF_START, BACKOFF_MAX = 0.5, 10.0  # seconds between attempts to reopen the device, doubling
RING_SECONDS = 4.0  # seconds of audio the live ring holds beyond any latency offset
FILE_WARMUP = TEMPO_WINDOW + 2.0  # seconds analysed before t when features_at jumps far ahead


# ---------------------------------------------------------------- config, features, status


@config_dataclass(config=ConfigDict(extra="forbid"), kw_only=True)
class AudioConfig:
    kind: Literal["input", "file", "none"] = "none"
    device: int | str | None = None  # input: an index or a name substring ("pulse", "USB"); None: the default
    samplerate: int = Field(48000, ge=8000, le=192000)  # Hz, analysed and (for input) requested
    blocksize: int = Field(512, ge=32, le=16384)  # frames per device callback
    channels: int = Field(1, ge=1, le=32)  # input channels opened; mixed to mono
    path: Path | None = None  # file: a WAV/FLAC or a video's audio track, decoded with PyAV
    latency_offset: float = Field(0.0, ge=-2.0, le=2.0)  # seconds: read features this much later (+) or earlier (-)
    gain_window: float = Field(8.0, gt=0)  # seconds: auto-gain forgets a peak with this time constant
    attack: float = Field(0.01, ge=0)  # seconds: rise time constant of the continuous features
    release: float = Field(0.15, ge=0)  # seconds: fall time constant
    onset_threshold: float = Field(0.1, gt=0, lt=1)  # fraction of the recent flux peak above the local mean

    @model_validator(mode="after")
    def _file_needs_path(self) -> AudioConfig:
        if self.kind == "file" and self.path is None:
            raise ValueError("audio kind 'file' needs a path")
        return self


@dataclass(frozen=True)
class AudioFeatures:
    level: float  # RMS, auto-gained 0..1
    bass: float  # band energies, each auto-gained 0..1
    low_mid: float
    high_mid: float
    high: float
    flux: float  # spectral flux, auto-gained 0..1
    onset: bool  # an onset since the previous call
    onset_strength: float  # the strongest onset's flux since the previous call, 0..1; 0 without one
    beat: bool  # a beat of the tempo grid fell since the previous call
    tempo_bpm: float | None  # None until the envelope shows a steady pulse
    silent: bool  # the newest audio is below -60 dBFS


SILENCE = AudioFeatures(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False, 0.0, False, None, True)


@dataclass(frozen=True)
class AudioStatus:
    healthy: bool
    message: str  # what is wrong, or "ok"
    device: str  # the device's name or the file's path; "" when none
    samplerate: int  # Hz
    overflows: int  # input overflows reported by PortAudio plus blocks the ring dropped


class AudioSource(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def features(self, t: float) -> AudioFeatures: ...

    def status(self) -> AudioStatus: ...


# ---------------------------------------------------------------- pure pieces


def frame_sizes(samplerate: int) -> tuple[int, int]:
    """(window, hop) in samples: a window of about 40 ms rounded to a power of two, hop a quarter of it."""
    window = 1 << round(math.log2(0.04 * samplerate))
    return window, window // 4


def hann(size: int) -> np.ndarray:
    """(size,) float32 periodic Hann window."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)).astype(np.float32)


def magnitude_spectrum(frame: np.ndarray, window: np.ndarray) -> np.ndarray:
    """(N/2 + 1,) float32 magnitudes of a (N,) frame; a full-scale sine on a bin reads 1."""
    return (np.abs(np.fft.rfft(frame * window)) * (2.0 / window.sum())).astype(np.float32)


def band_slices(window_size: int, samplerate: int, edges: tuple[float, ...] = BAND_EDGES) -> list[slice]:
    """Bin ranges of the bands between consecutive edges (Hz); each at least one bin wide."""
    bins = [min(round(edge * window_size / samplerate), window_size // 2) for edge in edges]
    return [slice(low, max(high, low + 1)) for low, high in zip(bins[:-1], bins[1:])]


def band_amplitudes(magnitudes: np.ndarray, slices: list[slice]) -> np.ndarray:
    """(B,) root of the summed power in each band (Hann spreads a sine over 1.5 bins' worth of power)."""
    return np.array([math.sqrt(float(np.dot(magnitudes[s], magnitudes[s])) / 1.5) for s in slices])


def log_compress(magnitudes: np.ndarray, gamma: float = LOG_COMPRESSION) -> np.ndarray:
    """log(1 + gamma |X|): quiet partials count, loud ones do not swamp the flux."""
    return np.log1p(gamma * magnitudes)


def spectral_flux(compressed: np.ndarray, previous: np.ndarray) -> float:
    """Mean half-wave rectified rise of the log magnitude from one frame to the next."""
    rise = compressed - previous
    return float(np.maximum(rise, 0.0, out=rise).mean())


def tempo_prior(bpm: np.ndarray) -> np.ndarray:
    """Log-Gaussian weight around TEMPO_PRIOR_BPM, one octave wide."""
    return np.exp(-0.5 * (np.log2(bpm / TEMPO_PRIOR_BPM) / TEMPO_PRIOR_OCTAVES) ** 2)


def autocorrelation(signal: np.ndarray) -> np.ndarray:
    """(L,) autocorrelation of a (L,) signal with its mean removed, normalised to 1 at lag 0 (0 if flat)."""
    centred = signal - signal.mean()
    size = 1 << (2 * len(signal) - 1).bit_length()
    spectrum = np.fft.rfft(centred, size)
    correlation = np.fft.irfft(spectrum * np.conj(spectrum), size)[: len(signal)]
    return correlation / correlation[0] if correlation[0] > 0 else np.zeros(len(signal))


def estimate_tempo(envelope: np.ndarray, frame_rate: float) -> tuple[float, float] | None:
    """(BPM, confidence) from a (L,) onset envelope sampled at frame_rate (Hz); None without a pulse.

    Each lag in the tempo range scores its autocorrelation plus half that at twice
    the lag (a true beat period repeats), weighted by the prior; the winner is
    refined between frames by a parabola through its neighbours."""
    correlation = autocorrelation(envelope)
    shortest = max(2, math.floor(60.0 * frame_rate / TEMPO_RANGE[1]))
    longest = min(math.ceil(60.0 * frame_rate / TEMPO_RANGE[0]), (len(envelope) - 2) // 2)
    if longest <= shortest:
        return None
    lags = np.arange(shortest, longest + 1)
    score = (correlation[lags] + 0.5 * correlation[2 * lags]) * tempo_prior(60.0 * frame_rate / lags)
    best = int(lags[np.argmax(score)])
    confidence = float(correlation[best])
    if confidence < TEMPO_MIN_CONFIDENCE:
        return None
    left, centre, right = correlation[best - 1], correlation[best], correlation[best + 1]
    curvature = left - 2 * centre + right
    shift = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
    lag = best + float(np.clip(shift, -0.5, 0.5))
    bpm = 60.0 * frame_rate / lag
    return (bpm, confidence) if TEMPO_RANGE[0] <= bpm <= TEMPO_RANGE[1] else None


def beat_phase(envelope: np.ndarray, period: float) -> int:
    """Frames from the newest envelope frame back to the best-fitting beat (0 .. period-1).

    Each candidate phase sums the envelope on a comb of beats spaced `period` frames
    (float) apart, reaching back over the whole envelope; the largest sum wins."""
    phases = np.arange(max(1, round(period)))  # (P,)
    beats = np.arange(int((len(envelope) - 1) // period) + 1)  # (K,)
    index = len(envelope) - 1 - phases[:, None] - np.round(beats[None, :] * period).astype(int)  # (P, K)
    comb = np.where(index >= 0, envelope[np.clip(index, 0, None)], 0.0).sum(axis=1)
    return int(np.argmax(comb))


def smoothing_coefficient(time_constant: float, step: float) -> float:
    """One-pole coefficient for a time constant (seconds) at a step (seconds); 1 follows at once."""
    return 1.0 if time_constant <= 0 else 1.0 - math.exp(-step / time_constant)


# ---------------------------------------------------------------- the analyser


class Analyser:
    """Frames in, features out: push mono samples as they come, read features on the frame tick."""

    def __init__(self, config: AudioConfig):
        self.samplerate = config.samplerate
        self.window_size, self.hop = frame_sizes(config.samplerate)
        self.frame_rate = config.samplerate / self.hop  # Hz, analysis frames per second
        self._window = hann(self.window_size)
        self._bands = band_slices(self.window_size, config.samplerate)
        self._onset_threshold = config.onset_threshold
        self._gain_decay = math.exp(-1.0 / (config.gain_window * self.frame_rate))  # per frame
        self._attack = smoothing_coefficient(config.attack, 1.0 / self.frame_rate)
        self._release = smoothing_coefficient(config.release, 1.0 / self.frame_rate)
        self._mean_frames = max(1, round(ONSET_MEAN_WINDOW * self.frame_rate))
        self._max_frames = max(1, round(ONSET_MAX_WINDOW * self.frame_rate))
        self._min_onset_frames = round(MIN_ONSET_INTERVAL * self.frame_rate)
        self._tempo_frames = round(TEMPO_WINDOW * self.frame_rate)
        self._tempo_every = max(1, round(TEMPO_EVERY * self.frame_rate))
        # onsets are stamped a quarter window before the newest sample: the log flux sees a
        # sharp attack once it is that far inside the Hann taper (measured on click tracks)
        self._onset_delay = self.window_size / 4 / self.samplerate  # seconds
        self.onset_times: deque[float] = deque(maxlen=256)  # stream seconds of recent onsets, newest last
        self.beat_times: deque[float] = deque(maxlen=256)  # stream seconds of recent beats
        self.reset()

    def reset(self) -> None:
        """Forget everything: the stream starts again at sample 0."""
        self._frame = np.zeros(self.window_size, np.float32)  # (N,) the newest window of samples
        self._pending = np.zeros(self.hop, np.float32)  # (hop,) samples waiting for a full hop
        self._pending_count = 0
        self._previous_compressed = np.zeros(self.window_size // 2 + 1, np.float32)
        self._frames = 0  # frames analysed since reset
        self._novelty = deque(maxlen=max(self._mean_frames, self._max_frames))  # raw flux, newest last
        self._envelope = np.zeros(self._tempo_frames)  # (T,) onset envelope ring for tempo and beats
        self._envelope_next = 0  # ring index the next envelope value goes to
        self._last_onset = -self._min_onset_frames  # frame index
        names = ("level",) + BAND_NAMES + ("flux",)
        self._peaks = {name: 0.0 for name in names}  # decaying peaks, raw units
        self._smoothed = {name: 0.0 for name in names}  # gained and smoothed, 0..1
        self._rms = 0.0  # raw RMS of the newest hop
        self._onset = False
        self._onset_strength = 0.0
        self._beat = False
        self._tempo: float | None = None  # BPM
        self._next_beat: float | None = None  # frame index of the next predicted beat
        self._last_beat = -math.inf  # frame index
        self.onset_times.clear()
        self.beat_times.clear()

    def push(self, samples: np.ndarray) -> None:
        """Consume (n,) float32 mono samples, -1..1, analysing every completed hop."""
        start = 0
        while start < len(samples):
            take = min(self.hop - self._pending_count, len(samples) - start)
            self._pending[self._pending_count:self._pending_count + take] = samples[start:start + take]
            self._pending_count += take
            start += take
            if self._pending_count == self.hop:
                self._analyse_hop()
                self._pending_count = 0

    def features(self) -> AudioFeatures:
        """The features now; onset and beat flags cover the frames since the previous call."""
        smoothed = self._smoothed
        features = AudioFeatures(
            smoothed["level"], smoothed["bass"], smoothed["low_mid"], smoothed["high_mid"], smoothed["high"],
            smoothed["flux"], self._onset, self._onset_strength, self._beat, self._tempo, self._rms < SILENCE_RMS,
        )
        self._onset, self._onset_strength, self._beat = False, 0.0, False
        return features

    def _analyse_hop(self) -> None:
        hop = self.hop
        self._frame[:-hop] = self._frame[hop:]
        self._frame[-hop:] = self._pending
        self._rms = float(np.sqrt(np.mean(np.square(self._pending))))
        magnitudes = magnitude_spectrum(self._frame, self._window)
        compressed = log_compress(magnitudes)
        flux = spectral_flux(compressed, self._previous_compressed)
        self._previous_compressed = compressed
        raw = dict(zip(BAND_NAMES, band_amplitudes(magnitudes, self._bands)), level=self._rms, flux=flux)
        for name, value in raw.items():
            self._follow(name, value)
        self._pick_onset(flux)
        if self._frames % self._tempo_every == 0:
            self._estimate_tempo()
        self._advance_beat()
        self._frames += 1

    def _follow(self, name: str, value: float) -> None:
        """Auto-gain by a decaying peak (with a floor), then attack/release smoothing."""
        floor = GAIN_FLOORS.get(name, GAIN_FLOORS["band"])
        peak = max(value, self._peaks[name] * self._gain_decay, floor)
        self._peaks[name] = peak
        gained = value / peak
        current = self._smoothed[name]
        coefficient = self._attack if gained > current else self._release
        self._smoothed[name] = current + coefficient * (gained - current)

    def _pick_onset(self, flux: float) -> None:
        """An onset: the largest flux of the last 30 ms, a threshold above the local mean, not too soon."""
        self._novelty.append(flux)
        recent = list(self._novelty)
        averaged = recent[-self._mean_frames:]
        local_mean = sum(averaged) / len(averaged)
        threshold = local_mean + self._onset_threshold * self._peaks["flux"]
        self._envelope[self._envelope_next] = max(0.0, flux - local_mean)
        self._envelope_next = (self._envelope_next + 1) % self._tempo_frames
        if flux < max(recent[-self._max_frames:]) or flux <= threshold:
            return
        if self._frames - self._last_onset < self._min_onset_frames:
            return
        self._last_onset = self._frames
        self._onset = True
        self._onset_strength = max(self._onset_strength, min(1.0, flux / self._peaks["flux"]))
        self.onset_times.append(self._frame_end_seconds() - self._onset_delay)

    def _estimate_tempo(self) -> None:
        """Re-estimate tempo and phase the beat grid onto the envelope; keep the grid when it agrees."""
        history = min(self._frames + 1, self._tempo_frames)
        if history < TEMPO_MIN_HISTORY * self.frame_rate:
            return
        envelope = np.roll(self._envelope, -self._envelope_next)[-history:]  # (history,) oldest first
        estimate = estimate_tempo(envelope, self.frame_rate)
        if estimate is None:
            self._tempo, self._next_beat = None, None
            return
        self._tempo = estimate[0]
        period = 60.0 * self.frame_rate / self._tempo  # frames
        next_beat = self._frames - beat_phase(envelope, period) + period
        while next_beat - self._last_beat < 0.5 * period:  # never fire twice for one beat
            next_beat += period
        self._next_beat = next_beat

    def _advance_beat(self) -> None:
        if self._next_beat is None or self._tempo is None or self._frames < self._next_beat - 0.5:
            return
        self._beat = True
        self._last_beat = self._frames
        self.beat_times.append(self._frame_end_seconds() - self._onset_delay)
        self._next_beat += 60.0 * self.frame_rate / self._tempo

    def _frame_end_seconds(self) -> float:
        return (self._frames + 1) * self.hop / self.samplerate


# ---------------------------------------------------------------- sources


class NoAudio:
    """No audio configured: always silence, always healthy."""

    def __init__(self, config: AudioConfig):
        self.config = config

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def features(self, t: float) -> AudioFeatures:
        return SILENCE

    def status(self) -> AudioStatus:
        return AudioStatus(True, "no audio configured", "", self.config.samplerate, 0)


def decode_audio(path: Path, samplerate: int) -> np.ndarray:
    """(n,) float32 mono at samplerate (Hz): the first audio track of a sound or video file."""
    import av  # PyAV: WAV, FLAC, MP3 and the audio of videos alike

    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError(f"{path}: no audio track")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=samplerate)
        chunks = []
        for frame in container.decode(container.streams.audio[0]):
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
        chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))  # flush
    return np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)


class FileAudio:
    """A decoded file analysed on demand: `features_at(t)` is the same for the same sequence of t.

    The file is decoded once, on `start()` or the first read. Reading steps the
    analysis forward to t + latency_offset; going backwards restarts from 0, and a
    jump far ahead restarts a warm-up span before t. Past the end the file reads as
    silence. A file that cannot be decoded gives silence and an unhealthy status."""

    def __init__(self, config: AudioConfig):
        self.config = config
        self.analyser = Analyser(config)
        self._samples: np.ndarray | None = None  # (n,) float32 mono, once decoded
        self._error: str | None = None
        self._consumed = 0  # samples of the file the analyser has seen (or been skipped past)

    def start(self) -> None:
        self._load()

    def stop(self) -> None:
        pass

    def status(self) -> AudioStatus:
        path = str(self.config.path)
        if self._error is not None:
            return AudioStatus(False, self._error, path, self.config.samplerate, 0)
        message = "ok" if self._samples is not None else "not decoded yet"
        return AudioStatus(self._samples is not None, message, path, self.config.samplerate, 0)

    def features(self, t: float) -> AudioFeatures:
        return self.features_at(t)

    def features_at(self, t: float) -> AudioFeatures:
        samples = self._load()
        if samples is None:
            return SILENCE
        rate = self.config.samplerate
        target = max(0, round((t + self.config.latency_offset) * rate))  # sample index
        if target < self._consumed or target - self._consumed > FILE_WARMUP * rate:
            self.analyser.reset()
            self._consumed = max(0, target - round(FILE_WARMUP * rate)) if target >= self._consumed else 0
        self.analyser.push(samples[self._consumed:target])
        past_end = target - max(self._consumed, len(samples))
        if past_end > 0:
            self.analyser.push(np.zeros(past_end, np.float32))
        self._consumed = target
        return self.analyser.features()

    def _load(self) -> np.ndarray | None:
        if self._samples is None and self._error is None:
            try:
                self._samples = decode_audio(self.config.path, self.config.samplerate)
                log.info("%s: %.1f s of audio decoded", self.config.path, len(self._samples) / self.config.samplerate)
            except (OSError, ValueError, RuntimeError) as exc:  # PyAV's errors derive from OSError/ValueError
                self._error = f"cannot decode audio file {self.config.path}: {exc}"
                log.error(self._error)
        return self._samples


class LiveAudio:
    """A sounddevice input stream, supervised on its own thread and analysed on the caller's frame tick.

    The PortAudio callback copies each (frames, channels) block into a preallocated
    ring and stamps it with the clock; `features(t)` mixes the blocks that arrived by
    t + latency_offset to mono and analyses them. A stream that fails to open, stops
    or goes quiet for STALL_TIMEOUT is closed and reopened with backoff, rescanning
    the devices each time so a replugged interface is found again."""

    def __init__(self, config: AudioConfig, clock: Clock):
        self.config = config
        self.clock = clock
        self.analyser = Analyser(config)
        capacity = round((RING_SECONDS + max(0.0, -config.latency_offset)) * config.samplerate)
        self._ring = np.zeros((capacity, config.channels), np.float32)  # (S, C) samples, -1..1
        block_slots = capacity // config.blocksize + 16
        self._block_ends = np.zeros(block_slots, np.int64)  # ring: sample count after each block
        self._block_times = np.zeros(block_slots)  # ring: clock seconds each block arrived
        # written by the callback only, read by the frame tick
        self._written = 0  # samples ever written
        self._blocks = 0  # blocks ever written
        self._input_overflows = 0
        # read side, frame tick only
        self._read = 0  # samples consumed
        self._blocks_read = 0
        self._dropped = 0  # samples the ring overwrote before the frame tick read them
        self._generation_read = 0
        # the supervisor's, shared under the lock
        self._lock = threading.Lock()
        self._healthy = False
        self._message = "not started"
        self._device_name = ""
        self._channels_open = config.channels
        self._generation = 0  # streams opened so far
        self._stream = None  # sounddevice.InputStream, supervisor thread only
        self._opened_at = 0.0  # clock seconds
        self._blocks_at_open = 0  # the block count when the stream opened
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._set_health(False, "starting")
        self._thread = threading.Thread(target=self._supervise, name="audio input", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        self._set_health(False, "stopped")

    def status(self) -> AudioStatus:
        with self._lock:
            return AudioStatus(self._healthy, self._message, self._device_name, self.config.samplerate,
                               self._input_overflows + self._dropped // self.config.blocksize)

    def features(self, t: float) -> AudioFeatures:
        with self._lock:
            healthy, generation, channels = self._healthy, self._generation, self._channels_open
        if generation != self._generation_read:  # a new stream: its audio does not continue the old one's
            self._generation_read = generation
            self.analyser.reset()
        self.analyser.push(self._take(t + self.config.latency_offset, channels))
        return self.analyser.features() if healthy else SILENCE

    # ---- frame tick side

    def _take(self, until: float, channels: int) -> np.ndarray:
        """(n,) float32 mono: the samples of blocks that arrived by `until` (clock seconds), oldest first."""
        blocks, slots = self._blocks, len(self._block_ends)
        self._blocks_read = max(self._blocks_read, blocks - slots + 1)  # older slots are overwritten
        end = self._read
        while self._blocks_read < blocks and self._block_times[self._blocks_read % slots] <= until:
            end = int(self._block_ends[self._blocks_read % slots])
            self._blocks_read += 1
        capacity = len(self._ring)
        oldest_intact = self._written + self.config.blocksize - capacity  # the callback may be writing now
        if self._read < oldest_intact:
            self._dropped += oldest_intact - self._read
            self._read = oldest_intact
        if end <= self._read:
            return np.zeros(0, np.float32)
        positions = np.arange(self._read, end) % capacity
        self._read = end
        return self._ring[positions, :channels].mean(axis=1, dtype=np.float32)

    # ---- PortAudio's thread: copy and hand over, nothing else

    def _callback(self, indata: np.ndarray, frames: int, time_info, status) -> None:
        if status.input_overflow:
            self._input_overflows += 1
        capacity = len(self._ring)
        start = self._written % capacity
        first = min(frames, capacity - start)
        self._ring[start:start + first, :indata.shape[1]] = indata[:first]
        self._ring[:frames - first, :indata.shape[1]] = indata[first:]
        slot = self._blocks % len(self._block_ends)
        self._block_ends[slot] = self._written + frames
        self._block_times[slot] = self.clock()
        self._written += frames
        self._blocks += 1  # last: the reader trusts slots below this count

    # ---- the supervisor thread

    def _supervise(self) -> None:
        delay, retry_at, attempts = BACKOFF_START, self.clock(), 0
        while not self._stop.is_set():
            if self._stream is None and self.clock() >= retry_at:
                if self._open(rescan=attempts > 0, next_try=delay):
                    delay = BACKOFF_START
                else:
                    retry_at, delay = self.clock() + delay, min(2 * delay, BACKOFF_MAX)
                attempts += 1
            elif self._stream is not None and (problem := self._stream_problem()) is not None:
                log.warning("audio input: %s; reopening", problem)
                self._close()
                self._set_health(False, f"{problem}; reopening in {delay:.1f} s")
                retry_at, delay = self.clock() + delay, min(2 * delay, BACKOFF_MAX)
            elif self._stream is not None and self._blocks > self._blocks_at_open:
                self._set_health(True, "ok")  # healthy means audio is flowing, not merely a stream opened
            self._stop.wait(SUPERVISE_EVERY)
        self._close()

    def _open(self, rescan: bool, next_try: float) -> bool:
        try:
            import sounddevice  # lazily: it raises OSError at import when libportaudio2 is missing
        except (ImportError, OSError) as exc:
            self._set_health(False, f"no audio: PortAudio is not available ({exc}); install libportaudio2")
            return False
        device = self.config.device
        try:
            if rescan:  # PortAudio lists devices once at initialisation; start again to see a replugged one
                sounddevice._terminate()
                sounddevice._initialize()
            info = sounddevice.query_devices(device, kind="input")
            channels = min(self.config.channels, int(info["max_input_channels"]))
            if channels < 1:
                raise ValueError(f"{info['name']} has no input channels")
            stream = sounddevice.InputStream(
                device=info["index"], samplerate=self.config.samplerate, blocksize=self.config.blocksize,
                channels=channels, dtype="float32", callback=self._callback)
            stream.start()
        except Exception as exc:  # PortAudioError, ValueError for an unknown name: all mean "not now"
            named = "the default audio input" if device is None else f"audio input {device!r}"
            message = f"no sound: cannot open {named} ({exc}); retrying in {next_try:.1f} s"
            if not rescan:  # the first failure is news; the retries after it are not
                log.warning(message)
            self._set_health(False, message)
            return False
        self._stream, self._opened_at, self._blocks_at_open = stream, self.clock(), self._blocks
        with self._lock:
            self._generation += 1
            self._channels_open = channels
            self._device_name = str(info["name"])
            self._healthy, self._message = False, f"opened {info['name']}, waiting for its first block"
        log.info("audio input: %s, %d channel(s) at %d Hz", info["name"], channels, self.config.samplerate)
        return True

    def _stream_problem(self) -> str | None:
        if not self._stream.active:
            return f"audio input {self._device_name!r} stopped"
        blocks = self._blocks
        last = self._block_times[(blocks - 1) % len(self._block_times)]
        if blocks > self._blocks_at_open:
            if self.clock() - last > STALL_TIMEOUT:
                return f"no audio from {self._device_name!r} for {STALL_TIMEOUT:.1f} s"
        elif self.clock() - self._opened_at > FIRST_BLOCK_TIMEOUT:
            return f"no audio from {self._device_name!r} in {FIRST_BLOCK_TIMEOUT:.1f} s after opening"
        return None

    def _close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close(ignore_errors=True)
            except Exception as exc:  # a vanished device can fail even here; the stream is gone either way
                log.warning("audio input: closing failed: %s", exc)
            self._stream = None

    def _set_health(self, healthy: bool, message: str) -> None:
        with self._lock:
            self._healthy, self._message = healthy, message


def open_audio(config: AudioConfig, clock: Clock) -> AudioSource:
    """The source a config names; call `start()` on it before reading features."""
    if config.kind == "input":
        return LiveAudio(config, clock)
    if config.kind == "file":
        return FileAudio(config)
    return NoAudio(config)
