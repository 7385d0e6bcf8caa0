"""Audio sources: a live input, a file or none, each handing samples to an `Analyser` for the frame tick.

The live source's sounddevice callback only copies each block and its arrival
time into a preallocated ring; the analysis (`live.inputs.audio_analysis`)
runs when the frame tick asks for `features(t)`. The live stream runs on a
`SupervisedWorker`: a missing or lost device, or PortAudio itself missing,
gives silence and a status message and is retried with backoff; nothing
raises out to the caller. The file source decodes once with PyAV and is
deterministic for rehearsal. Time comes from the `clock` passed in.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from pydantic import Field, model_validator

from live.core.clock import Clock
from live.core.config import Settings
from live.core.worker import SupervisedWorker, WorkFailure
from live.inputs import portaudio
from live.inputs.audio_analysis import SILENCE, TEMPO_WINDOW, Analyser, AudioFeatures

log = logging.getLogger("latentstage.audio")

STALL_TIMEOUT = 1.0  # seconds without a block from a running stream that count as a lost device
# seconds an opened stream may take to deliver its first block: PortAudio through ALSA's
# pulse plugin was seen taking 0.8 to 2 s here, at normal latency once it runs
FIRST_BLOCK_TIMEOUT = 5.0
SUPERVISE_EVERY = 0.1  # seconds between the live worker's health checks of an open stream
# seconds between attempts to reopen the device, doubling up to the cap: a replugged interface is heard
# again within about 2 s (bench/recovery_bench.py); not shorter, as each failed attempt costs a device
# rescan and ALSA and PortAudio print their own lines to stderr
BACKOFF_START, BACKOFF_MAX = 0.5, 2.0
RING_SECONDS = 4.0  # seconds of audio the live ring holds beyond any latency offset
FILE_WARMUP = TEMPO_WINDOW + 2.0  # seconds analysed before t when features_at jumps far ahead


# ---------------------------------------------------------------- config, status


class AudioConfig(Settings):
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

    def pin_tempo(self, bpm: float | None) -> None:
        """Pin the tempo tracker's octave near `bpm` (None: unpinned); called on the frame tick."""


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

    def pin_tempo(self, bpm: float | None) -> None:
        pass  # no sound, no tempo

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


def check_audio_file(path: Path) -> None:
    """Raise ValueError saying why a sound file cannot be played: no audio track, or its first sound
    does not decode. Reads only the start, so a long song is checked in a moment."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise ValueError(f"{path}: no audio track")
            next(container.decode(container.streams.audio[0]), None)
    except av.error.FFmpegError as error:  # its text leads with FFmpeg's error number
        raise ValueError(f"{path}: not a sound file PyAV can decode ({error.strerror})") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read it ({error.strerror or error})") from None


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

    def pin_tempo(self, bpm: float | None) -> None:
        self.analyser.pin_tempo(bpm)

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
    """A sounddevice input stream, run by a supervised worker and analysed on the caller's frame tick.

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
        # the worker's, read by the frame tick: the pair below changes together, under the lock
        self._lock = threading.Lock()
        self._channels_open = config.channels
        self._generation = 0  # streams opened so far
        self._device_name = ""  # replaced whole, read without the lock
        # worker thread only
        self._opened_at = 0.0  # clock seconds
        self._blocks_at_open = 0  # the block count when the stream opened
        self._said_no_rescan = False  # the warning that PortAudio holding JACK keeps it from rescanning, given
        self.worker = SupervisedWorker("audio input", self._work, clock, BACKOFF_START, BACKOFF_MAX)

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()

    def features(self, t: float) -> AudioFeatures:
        healthy = self.worker.health().healthy
        with self._lock:
            generation, channels = self._generation, self._channels_open
        if generation != self._generation_read:  # a new stream: its audio does not continue the old one's
            self._generation_read = generation
            self.analyser.reset()
        self.analyser.push(self._take(t + self.config.latency_offset, channels))
        return self.analyser.features() if healthy else SILENCE

    def pin_tempo(self, bpm: float | None) -> None:
        self.analyser.pin_tempo(bpm)  # the analyser runs on the frame tick, as this call does

    def status(self) -> AudioStatus:
        health = self.worker.health()
        return AudioStatus(health.healthy, health.message, self._device_name, self.config.samplerate,
                           self._input_overflows + self._dropped // self.config.blocksize)

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

    # ---- the worker thread

    def _work(self, worker: SupervisedWorker) -> None:
        # PortAudio lists devices once at initialisation: after any failure, rescan to find a replugged one
        stream = self._open(rescan=worker.health().failures > 0)
        try:
            while not worker.wait(SUPERVISE_EVERY):
                problem = self._stream_problem(stream)
                if problem is not None:
                    raise WorkFailure(problem)
                if self._blocks > self._blocks_at_open:
                    worker.mark_healthy()  # healthy means audio is flowing, not merely a stream opened
        finally:
            try:
                stream.close(ignore_errors=True)
            except Exception as exc:  # a vanished device can fail even here; the stream is gone either way
                log.warning("audio input: closing failed: %s", exc)

    def _open(self, rescan: bool):
        """A started sounddevice.InputStream; raises WorkFailure when there is none to be had now."""
        device = self.config.device
        try:
            sounddevice = portaudio.sounddevice_for(device)  # lazily: it raises OSError when libportaudio2 is missing
        except (ImportError, OSError) as exc:
            raise WorkFailure(f"no audio: PortAudio is not available ({exc}); install libportaudio2") from exc
        stream = None
        try:
            if rescan and not portaudio.rescan(sounddevice, device) and not self._said_no_rescan:
                self._said_no_rescan = True
                log.warning("audio input: PortAudio holds a JACK client, so it is not re-initialised to look for "
                            "the device again (that could abort the show if JACK went away): restart the show")
            info = sounddevice.query_devices(device, kind="input")
            channels = min(self.config.channels, int(info["max_input_channels"]))
            if channels < 1:
                raise ValueError(f"{info['name']} has no input channels")
            stream = sounddevice.InputStream(
                device=info["index"], samplerate=self.config.samplerate, blocksize=self.config.blocksize,
                channels=channels, dtype="float32", callback=self._callback)
            stream.start()
        except Exception as exc:  # PortAudioError, ValueError for an unknown name: all mean "not now"
            if stream is not None:  # made but would not start: let PortAudio have the device back
                stream.close(ignore_errors=True)
            named = "the default audio input" if device is None else f"audio input {device!r}"
            raise WorkFailure(f"no sound: cannot open {named} ({exc})") from exc
        self._opened_at, self._blocks_at_open = self.clock(), self._blocks
        with self._lock:
            self._generation += 1
            self._channels_open = channels
            self._device_name = str(info["name"])
        self.worker.mark_unhealthy(f"opened {info['name']}, waiting for its first block")
        log.info("audio input: %s, %d channel(s) at %d Hz", info["name"], channels, self.config.samplerate)
        return stream

    def _stream_problem(self, stream) -> str | None:
        if not stream.active:
            return f"audio input {self._device_name!r} stopped"
        blocks = self._blocks
        last = self._block_times[(blocks - 1) % len(self._block_times)]
        if blocks > self._blocks_at_open:
            if self.clock() - last > STALL_TIMEOUT:
                return f"no audio from {self._device_name!r} for {STALL_TIMEOUT:.1f} s"
        elif self.clock() - self._opened_at > FIRST_BLOCK_TIMEOUT:
            return f"no audio from {self._device_name!r} in {FIRST_BLOCK_TIMEOUT:.1f} s after opening"
        return None


def open_audio(config: AudioConfig, clock: Clock) -> AudioSource:
    """The source a config names; call `start()` on it before reading features."""
    if config.kind == "input":
        return LiveAudio(config, clock)
    if config.kind == "file":
        return FileAudio(config)
    return NoAudio(config)
