"""Audio analysis: mono samples in, the features a show maps onto parameters out. Pure numpy, no devices.

An `Analyser` cuts samples into Hann-windowed frames (46 ms, hop 11.6 ms, the
same times at every sample rate) and derives, frame by frame: the level, four
band energies, the spectral flux of the log-compressed magnitude below 5 kHz,
onsets picked against an adaptive threshold, the tempo from the autocorrelation
of the onset envelope (its octave pinned near a tempo the show or the operator
gives, where the music supports it) and a beat grid phased onto that envelope and
the low band's flux (the kick), held once locked. Continuous
features are auto-gained into 0..1 by a decaying peak (the bands within 12 dB
of the loudest one) and smoothed with attack/release. The
spectral and tempo maths are plain functions beside it, testable on their own;
they fit in a few lines and need no scipy.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from live.core.smoothing import one_pole_coefficient

# Band edges in Hz. Bass: kick drums and bass fundamentals; low-mid: bass harmonics,
# snare and tom bodies, the lower voice; high-mid: voice, leads and the snare's crack,
# where the ear is most sensitive; high: hi-hats, cymbals and air. Four bands, because
# these are the four things a VJ reaches for; the edges sit roughly two octaves apart.
BAND_EDGES = (20.0, 150.0, 600.0, 4000.0, 16000.0)
BAND_NAMES = ("bass", "low_mid", "high_mid", "high")

SILENCE_RMS = 10 ** (-60 / 20)  # -60 dBFS: below this a block counts as silent
GAIN_FLOORS = {"level": SILENCE_RMS, "band": 1e-3, "flux": 0.02}  # auto-gain never amplifies below these
# Each band is gained by its own decaying peak, but never by more than 1 / BAND_SPREAD times the loudest
# band's (12 dB): the faint click on top of a bass drum stays low in the high band, so a mapping can
# tell a kick from a hi-hat, while a band that really plays (hi-hats a quarter of the kick) reaches 1.
BAND_SPREAD = 0.25
LOG_COMPRESSION = 100.0  # gamma in log(1 + gamma |X|), |X| = 1 for a full-scale sine
# The flux looks at the spectrum up to here, whatever the sample rate (5 kHz is under the Nyquist
# frequency of 11,025 Hz): above it a 48 kHz stream has four times the bins of an 11 kHz one, and a
# hi-hat pattern repeating every two beats would outvote the kick and halve the tempo.
FLUX_MAX_HZ = 5000.0
ONSET_MEAN_WINDOW = 0.1  # seconds of past novelty the threshold averages (Boeck et al. 2012, online)
ONSET_MAX_WINDOW = 0.03  # seconds: an onset frame is the largest novelty of this span
MIN_ONSET_INTERVAL = 0.08  # seconds: at most 12.5 onsets a second
TEMPO_WINDOW = 6.0  # seconds of onset envelope the tempo is estimated from
TEMPO_MIN_HISTORY = 3.0  # seconds of envelope before a tempo is reported
TEMPO_EVERY = 0.5  # seconds between tempo and beat-phase estimates
TEMPO_RANGE = (60.0, 200.0)  # BPM
TEMPO_PRIOR_BPM = 120.0  # the log-Gaussian prior's centre ...
TEMPO_PRIOR_OCTAVES = 0.8  # ... and width: octave errors (x2, /2) lose to the candidate nearer 120, clearly
TEMPO_MIN_CONFIDENCE = 0.1  # normalised autocorrelation at the chosen lag below which no tempo is claimed
# A pinned tempo (the show's "about 135", or /latentstage/tempo) picks the tracker's octave: x0.5, x1 or x2
# of its own estimate, whichever is nearest the pin, but only an octave the music itself pulses at, one
# whose autocorrelation reaches this fraction of the tracker's own choice's. A kick-only track at 90 has
# nothing on its off-beats, so a pin at 180 leaves it at 90: the pin never invents a tempo.
PIN_SUPPORT = 0.5
# The beat grid's phase is fitted to the low band's flux (below 150 Hz: the kick) plus the whole
# flux: hats and claps on the off-beats are often louder in the flux than the kick, and a grid
# fitted to them alone fired on the off-beat (a house loop: 17 of 55 beats half-way between kicks).
PHASE_MAX_HZ = BAND_EDGES[1]
# Once locked, the grid keeps its phase, following the best phase within PHASE_DRIFT frames of it;
# another phase takes over only after scoring PHASE_SWITCH_MARGIN times as well on PHASE_SWITCH_VOTES
# estimates in a row. A tempo change of more than RELOCK_TEMPO_CHANGE (a ratio) re-locks at once.
PHASE_DRIFT = 2
PHASE_HALF_LIFE = 2.0  # seconds: the phase is fitted to the recent envelope, so a new track's phase wins soon
PHASE_SWITCH_MARGIN = 1.3
PHASE_SWITCH_VOTES = 2
RELOCK_TEMPO_CHANGE = 0.02


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


class AnalysisSettings(Protocol):
    """The slice of the audio config the analysis reads (`live.inputs.audio.AudioConfig` has it)."""

    samplerate: int  # Hz
    gain_window: float  # seconds: auto-gain forgets a peak with this time constant
    attack: float  # seconds: rise time constant of the continuous features
    release: float  # seconds: fall time constant
    onset_threshold: float  # fraction of the recent flux peak above the local mean


# ---------------------------------------------------------------- pure pieces


HOP_SECONDS = 512 / 44_100  # 11.6 ms: 86 analysis frames a second at every sample rate


def frame_sizes(samplerate: int) -> tuple[int, int]:
    """(window, hop) in samples: a hop of HOP_SECONDS and a window four hops (46 ms) long.

    The same times at every rate, not powers of two: with power-of-two sizes a 48 kHz
    stream was analysed at 94 frames a second and an 11 kHz one at 86, the tempo's lags
    fell on different frames, and a loop could be read at 135 BPM at one rate and 67.6
    at the other."""
    hop = max(1, round(HOP_SECONDS * samplerate))
    return 4 * hop, hop


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


def estimate_tempo(envelope: np.ndarray, frame_rate: float, pin: float | None = None) -> tuple[float, float] | None:
    """(BPM, confidence) from a (L,) onset envelope sampled at frame_rate (Hz); None without a pulse.

    Each lag in the tempo range scores its autocorrelation plus half that at twice
    the lag (a true beat period repeats), weighted by the prior; the winner is
    refined between frames by a parabola through its neighbours. With a `pin` (BPM)
    the octave of the winner nearest the pin is taken instead, if the music supports it."""
    correlation = autocorrelation(envelope)
    shortest = max(2, math.floor(60.0 * frame_rate / TEMPO_RANGE[1]))
    longest = min(math.ceil(60.0 * frame_rate / TEMPO_RANGE[0]), (len(envelope) - 2) // 2)
    if longest <= shortest:
        return None
    lags = np.arange(shortest, longest + 1)
    score = (correlation[lags] + 0.5 * correlation[2 * lags]) * tempo_prior(60.0 * frame_rate / lags)
    best = int(lags[np.argmax(score)])
    if correlation[best] < TEMPO_MIN_CONFIDENCE:
        return None
    if pin is not None:
        best = pinned_octave(correlation, best, frame_rate, pin)
    bpm = refined_bpm(correlation, best, frame_rate)
    return (bpm, float(correlation[best])) if TEMPO_RANGE[0] <= bpm <= TEMPO_RANGE[1] else None


def refined_bpm(correlation: np.ndarray, lag: int, frame_rate: float) -> float:
    """The tempo at `lag` (frames), refined between frames by a parabola through its neighbours."""
    left, centre, right = correlation[lag - 1], correlation[lag], correlation[lag + 1]
    curvature = left - 2 * centre + right
    shift = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
    return 60.0 * frame_rate / (lag + float(np.clip(shift, -0.5, 0.5)))


def pinned_octave(correlation: np.ndarray, lag: int, frame_rate: float, pin: float) -> int:
    """Of the lags for x1, x0.5 and x2 the tempo at `lag` (frames), the one whose tempo is nearest
    `pin` (BPM) among those the (L,) autocorrelation supports and the tempo range holds."""
    support = max(TEMPO_MIN_CONFIDENCE, PIN_SUPPORT * correlation[lag])
    candidates = [lag]
    for near in (2 * lag, lag / 2):  # half the tempo, double the tempo
        around = [k for k in range(round(near) - 1, round(near) + 2) if 1 <= k < len(correlation) - 1]
        found = max(around, key=lambda k: correlation[k], default=None)  # the octave's own peak
        if found is not None and correlation[found] >= support and \
                TEMPO_RANGE[0] <= refined_bpm(correlation, found, frame_rate) <= TEMPO_RANGE[1]:
            candidates.append(found)
    return min(candidates, key=lambda k: abs(math.log2(refined_bpm(correlation, k, frame_rate) / pin)))


def phase_scores(envelope: np.ndarray, period: float) -> np.ndarray:
    """(P,) how well a beat grid of `period` frames (float) fits a (L,) envelope, for each phase:
    entry p sums the envelope on a comb of beats p, p + period, ... frames back from its newest frame."""
    phases = np.arange(max(1, round(period)))  # (P,)
    beats = np.arange(int((len(envelope) - 1) // period) + 1)  # (K,)
    index = len(envelope) - 1 - phases[:, None] - np.round(beats[None, :] * period).astype(int)  # (P, K)
    return np.where(index >= 0, envelope[np.clip(index, 0, None)], 0.0).sum(axis=1)


def held_phase(scores: np.ndarray, current: float, margin: float = PHASE_SWITCH_MARGIN) -> tuple[int, bool]:
    """(phase, challenged): the phase to keep, given a (P,) `phase_scores` and the running grid's
    phase `current` (frames back, float). The grid follows the best phase within PHASE_DRIFT frames of
    its own (tempo drift); a phase elsewhere challenges it only when it scores `margin` times that."""
    size = len(scores)
    near = [(round(current) + shift) % size for shift in range(-PHASE_DRIFT, PHASE_DRIFT + 1)]
    local = max(near, key=lambda k: scores[k])
    best = int(np.argmax(scores))
    return local, best not in near and scores[best] > margin * scores[local]


# ---------------------------------------------------------------- the analyser


class Analyser:
    """Frames in, features out: push mono samples as they come, read features on the frame tick."""

    def __init__(self, config: AnalysisSettings):
        self.samplerate = config.samplerate
        self.window_size, self.hop = frame_sizes(config.samplerate)
        self.frame_rate = config.samplerate / self.hop  # Hz, analysis frames per second
        self._window = hann(self.window_size)
        self._bands = band_slices(self.window_size, config.samplerate)
        self._phase_bins = slice(1, round(PHASE_MAX_HZ * self.window_size / config.samplerate) + 1)  # no DC
        self._flux_bins = min(self.window_size // 2, round(FLUX_MAX_HZ * self.window_size / config.samplerate)) + 1
        self._onset_threshold = config.onset_threshold
        self._gain_decay = math.exp(-1.0 / (config.gain_window * self.frame_rate))  # per frame
        self._attack = one_pole_coefficient(config.attack, 1.0 / self.frame_rate)
        self._release = one_pole_coefficient(config.release, 1.0 / self.frame_rate)
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
        self._pin: float | None = None  # BPM the tempo's octave is pinned near; kept across resets
        self.reset()

    def reset(self) -> None:
        """Forget everything: the stream starts again at sample 0."""
        self._frame = np.zeros(self.window_size, np.float32)  # (N,) the newest window of samples
        self._pending = np.zeros(self.hop, np.float32)  # (hop,) samples waiting for a full hop
        self._pending_count = 0
        self._previous_compressed = np.zeros(self._flux_bins, np.float32)
        self._frames = 0  # frames analysed since reset
        self._novelty = deque(maxlen=max(self._mean_frames, self._max_frames))  # raw flux, newest last
        self._envelope = np.zeros(self._tempo_frames)  # (T,) onset envelope ring for tempo and beats
        self._low_flux = np.zeros(self._tempo_frames)  # (T,) the low band's flux, the same ring's slots
        self._envelope_next = 0  # ring index the next envelope value goes to
        self._previous_low = np.zeros(self._phase_bins.stop - self._phase_bins.start, np.float32)
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
        self._phase_votes = 0  # estimates in a row that another phase challenged the grid's
        self._locked_tempo: float | None = None  # BPM when the grid last took the best phase outright
        self._last_beat = -math.inf  # frame index
        self.onset_times.clear()
        self.beat_times.clear()

    def pin_tempo(self, bpm: float | None) -> None:
        """Pin the tempo's octave near `bpm` from the next estimate on (None or 0: the tracker's own)."""
        self._pin = bpm or None

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
        smoothed = {name: float(value) for name, value in self._smoothed.items()}  # plain floats: an event
        tempo = None if self._tempo is None else float(self._tempo)  # log replays them exactly as they were
        features = AudioFeatures(
            smoothed["level"], smoothed["bass"], smoothed["low_mid"], smoothed["high_mid"], smoothed["high"],
            smoothed["flux"], bool(self._onset), float(self._onset_strength), bool(self._beat), tempo,
            bool(self._rms < SILENCE_RMS),
        )
        self._onset, self._onset_strength, self._beat = False, 0.0, False
        return features

    def _analyse_hop(self) -> None:
        hop = self.hop
        self._frame[:-hop] = self._frame[hop:]
        self._frame[-hop:] = self._pending
        self._rms = float(np.sqrt(np.mean(np.square(self._pending))))
        magnitudes = magnitude_spectrum(self._frame, self._window)
        compressed = log_compress(magnitudes[:self._flux_bins])
        flux = spectral_flux(compressed, self._previous_compressed)
        self._previous_compressed = compressed
        low = log_compress(magnitudes[self._phase_bins])
        self._low_flux[self._envelope_next] = spectral_flux(low, self._previous_low)  # before _pick_onset moves on
        self._previous_low = low
        raw = dict(zip(BAND_NAMES, band_amplitudes(magnitudes, self._bands)), level=self._rms, flux=flux)
        loudest_band = max(self._peaks[name] * self._gain_decay for name in BAND_NAMES)
        loudest_band = max(loudest_band, *(raw[name] for name in BAND_NAMES))
        for name, value in raw.items():
            self._follow(name, value, BAND_SPREAD * loudest_band if name in BAND_NAMES else 0.0)
        self._pick_onset(flux)
        if self._frames % self._tempo_every == 0:
            self._estimate_tempo()
        self._advance_beat()
        self._frames += 1

    def _follow(self, name: str, value: float, shared_floor: float) -> None:
        """Auto-gain by a decaying peak (with floors), then attack/release smoothing."""
        floor = max(GAIN_FLOORS.get(name, GAIN_FLOORS["band"]), shared_floor)
        peak = max(value, self._peaks[name] * self._gain_decay, floor)
        self._peaks[name] = peak
        gained = value / peak
        current = self._smoothed[name]
        coefficient = self._attack if gained > current else self._release
        self._smoothed[name] = current + coefficient * (gained - current)

    def _pick_onset(self, flux: float) -> None:
        """An onset: the largest flux of the last 30 ms, a threshold above the local mean, not too soon."""
        # the mean of the frames before this one: an attack in the very first frame of a sound
        # stands above the silence before it (averaging itself in, it never could)
        earlier = list(self._novelty)[-self._mean_frames:]
        local_mean = sum(earlier) / len(earlier) if earlier else 0.0
        self._novelty.append(flux)
        recent = list(self._novelty)
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
        estimate = estimate_tempo(envelope, self.frame_rate, self._pin)
        if estimate is None:
            self._tempo, self._next_beat = None, None
            return
        self._tempo = estimate[0]
        period = 60.0 * self.frame_rate / self._tempo  # frames
        pulse = envelope + np.roll(self._low_flux, -self._envelope_next)[-history:]  # (history,) oldest first
        pulse *= 0.5 ** ((history - 1 - np.arange(history)) / (PHASE_HALF_LIFE * self.frame_rate))
        phase = self._grid_phase(phase_scores(pulse, period), period)
        next_beat = self._frames - phase  # the beat the grid is phased on: this frame's, or one before
        # the first one still to come (a beat on this very frame fires now: it was skipped once), never
        # firing twice for one beat
        while next_beat < self._frames - 0.5 or next_beat - self._last_beat < 0.5 * period:
            next_beat += period
        self._next_beat = next_beat

    def _grid_phase(self, scores: np.ndarray, period: float) -> int:
        """Frames back from this frame to the beat the grid is phased on: the best fit on the first
        estimate and after a tempo change, else the running grid's own, with hysteresis."""
        relock = self._next_beat is None or self._locked_tempo is None or \
            abs(math.log(self._tempo / self._locked_tempo)) > RELOCK_TEMPO_CHANGE
        if relock:
            self._phase_votes, self._locked_tempo = 0, self._tempo
            return int(np.argmax(scores))
        phase, challenged = held_phase(scores, (self._frames - self._next_beat) % period)
        self._phase_votes = self._phase_votes + 1 if challenged else 0
        if self._phase_votes >= PHASE_SWITCH_VOTES:
            self._phase_votes, self._locked_tempo = 0, self._tempo
            return int(np.argmax(scores))
        return phase

    def _advance_beat(self) -> None:
        if self._next_beat is None or self._tempo is None or self._frames < self._next_beat - 0.5:
            return
        self._beat = True
        self._last_beat = self._frames
        self.beat_times.append(self._frame_end_seconds() - self._onset_delay)
        self._next_beat += 60.0 * self.frame_rate / self._tempo

    def _frame_end_seconds(self) -> float:
        return (self._frames + 1) * self.hop / self.samplerate
