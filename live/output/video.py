"""Video files out: the one H.264 writer (PyAV), fed with (H, W, 3) uint8 RGB frames.

Every MP4 the project writes goes through `VideoWriter`: rehearsals, the live
Recorder and the CPPN trainer's latent walks. H.264 in yuv420p halves chroma in
both axes, so width and height must be even: `check_even_size` refuses odd
ones with a clear message, and `even_size` names the size an odd picture is
cropped to by a caller that would rather lose a row or column than fail. The
writer is synchronous: frame i is stamped at exactly i / fps seconds, or, when
opened `timestamped`, at the time in seconds each write names (a
variable-frame-rate file on a 1/90000 s time base). `rgb_frame` gives a
reusable frame to fill in place, for a caller that must not allocate per frame.
The same frames give the same file, byte for byte, run after run (see the
encoder options).
"""
from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# Ticks per second of a timestamped file: the MPEG clock, fine enough that frames
# shown a fraction of a millisecond apart still get distinct timestamps.
TIMESTAMP_TICKS_PER_SECOND = 90_000


def even_size(width: int, height: int) -> tuple[int, int]:
    """The largest even (width, height) that fits in the given one: odd sides lose one pixel."""
    return width - width % 2, height - height % 2


def check_even_size(width: int, height: int) -> None:
    if even_size(width, height) != (width, height):
        raise ValueError(f"H.264 (yuv420p) needs an even width and height, got {width}x{height}")


def rgb_frame(width: int, height: int) -> tuple[av.VideoFrame, np.ndarray]:
    """A reusable RGB frame and an (H, W, 3) uint8 view of its pixels to fill in place.

    The view skips the padding FFmpeg may put at the end of each row (line_size)."""
    frame = av.VideoFrame(width, height, "rgb24")
    plane = frame.planes[0]
    rows = np.frombuffer(plane, np.uint8).reshape(height, plane.line_size)
    return frame, rows[:, :width * 3].reshape(height, width, 3)


# audio codecs an MP4 holds as they are; others are re-encoded to AAC
MP4_AUDIO = {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"}

# A fragmented MP4 has no index to write at the end: each fragment (one a second, at each
# keyframe) is playable on its own, so a file cut off by SIGKILL, a power cut or a full
# disk plays up to its last whole fragment.
FRAGMENTED_MP4 = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}


class VideoWriter:
    def __init__(self, path: str | Path, width: int, height: int, fps: float, crf: int = 18,
                 *, timestamped: bool = False, crash_safe: bool = False):
        """`crash_safe`: a fragmented MP4 with a keyframe every second and no encoder lookahead,
        for recordings that must survive the process being killed (the live recorder)."""
        check_even_size(width, height)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.frames_written = 0
        self.timestamped = timestamped
        self._last_pts = -1
        self._container = av.open(str(self.path), mode="w", container_options=FRAGMENTED_MP4 if crash_safe else {})
        # `rate` stays the nominal frame rate either way: x264's rate control budgets by it.
        self._stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"
        # mbtree off: x264's macroblock-tree rate control, in its AVX-512 code (x264 core 165, as PyAV
        # ships it), reads heap memory it never wrote, so on a CPU with AVX-512 the same frames encoded
        # to different files whenever the heap held other garbage (a cold shader cache, a busy machine).
        # Without it the file is a function of the frames alone; it costs about a third more bytes at
        # the same crf, for slightly higher fidelity (PSNR +0.7 dB on the demo).
        self._stream.options = {"crf": str(crf), "preset": "veryfast", "x264-params": "mbtree=0"}
        if crash_safe:  # frames reach the file within a second instead of waiting in x264's lookahead
            self._stream.options |= {"tune": "zerolatency", "g": str(max(1, round(fps)))}
        if timestamped:
            self._stream.codec_context.time_base = Fraction(1, TIMESTAMP_TICKS_PER_SECOND)

    def write(self, rgb: np.ndarray, at: float | None = None) -> None:
        """Encode one (H, W, 3) uint8 RGB frame; `at` (seconds from the file's start) is
        required for a timestamped writer and refused otherwise."""
        self.write_frame(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24"), at)

    def write_frame(self, frame: av.VideoFrame, at: float | None = None) -> None:
        """Encode an RGB frame (see rgb_frame); the frame may be refilled once this returns,
        because encoding converts it to a new yuv420p frame first."""
        frame.pts = self._next_pts(at)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1

    def _next_pts(self, at: float | None) -> int:
        if (at is None) == self.timestamped:
            raise ValueError("a timestamped VideoWriter needs `at` for each frame; an exact-rate one takes none")
        if at is None:
            pts = self.frames_written  # in 1/fps ticks
        else:
            # Strictly increasing, as the muxer demands: a frame stamped at or before its
            # predecessor (same tick, or a clock step back) goes one tick (11 us) after it.
            pts = max(round(at * TIMESTAMP_TICKS_PER_SECOND), self._last_pts + 1)
        self._last_pts = pts
        return pts

    def add_stream_like(self, template: av.stream.Stream) -> av.stream.Stream:
        """A stream that takes another file's packets as they are (a sound track carried over);
        add it before the first frame is written."""
        return self._container.add_stream_from_template(template)

    def add_audio_stream(self, codec: str, sample_rate: int) -> av.audio.stream.AudioStream:
        """A sound track encoded here (see mux); add it before the first frame is written."""
        return self._container.add_stream(codec, rate=sample_rate)

    def mux(self, packet: av.Packet) -> None:
        """A packet of another stream of this file (add_stream_like, add_audio_stream)."""
        self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode():  # flush the encoder's delayed frames
            self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class SoundTrack:
    """The input's sound into the output: packets copied as they are when MP4 takes the codec,
    else decoded and re-encoded to AAC."""

    def __init__(self, writer: VideoWriter, sound: av.audio.stream.AudioStream):
        self.writer = writer
        self.copied = sound.codec_context.name in MP4_AUDIO
        self.stream = (writer.add_stream_like(sound) if self.copied
                       else writer.add_audio_stream("aac", sound.codec_context.sample_rate))
        self.how = "copied" if self.copied else "re-encoded to AAC"

    def carry(self, packet: av.Packet) -> None:
        if self.copied:
            if packet.dts is not None:  # the demuxer's closing packet has no timestamps and no data
                packet.stream = self.stream
                self.writer.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None  # the encoder stamps the samples it regroups
            self._encode(frame)

    def finish(self) -> None:
        if not self.copied:
            self._encode(None)  # flush the encoder

    def _encode(self, frame: av.AudioFrame | None) -> None:
        for encoded in self.stream.encode(frame):
            self.writer.mux(encoded)


def song_track(files: contextlib.ExitStack, writer: VideoWriter, song: Path | None):
    """A function that carries the song's first `seconds` into the writer's sound track, or None
    without a song (or one with no sound). The track is added now, before any frame is written; the
    song must have been decoded once already (by an audio input, a walk's analysis), so it is readable."""
    if song is None:
        return None
    source = files.enter_context(av.open(str(song)))
    if not source.streams.audio:
        return None
    stream = source.streams.audio[0]
    track = SoundTrack(writer, stream)

    def carry(seconds: float) -> None:
        for packet in source.demux(stream):
            if packet.pts is not None and packet.pts * packet.time_base >= seconds:
                break
            track.carry(packet)
        track.finish()
    return carry
