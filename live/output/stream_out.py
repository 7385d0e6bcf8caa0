"""The program picture as an MPEG-TS stream (PyAV): `udp://HOST:PORT`, `tcp://HOST:PORT`, or `srt://` where
PyAV's FFmpeg has libsrt.

H.264 with x264's ultrafast preset and zerolatency tune (no lookahead, no
B-frames: a frame leaves as soon as it is encoded), a keyframe every second so
a receiver that joins late or comes back starts within a second, and the
headers repeated at each keyframe (MPEG-TS has no global header). Timestamps
are when each frame was shown, on the 90 kHz MPEG clock. UDP sends whether or
not anyone listens; TCP and SRT connect to a listener, and a write that cannot
go through for IO_TIMEOUT seconds (a receiver gone, or one that stopped
reading) fails the output, which the sender closes and opens again.
"""
from __future__ import annotations

from fractions import Fraction
from urllib.parse import urlsplit

import av

from live.core.frames import Frame
from live.core.worker import WorkFailure
from live.output.sender import OutputError

SCHEMES = ("udp", "tcp", "srt")
TICKS_PER_SECOND = 90_000  # the MPEG clock
IO_TIMEOUT = 2.0  # seconds a connect or a write may block before the output is reopened
UDP_PACKET = 1316  # bytes: seven 188-byte TS packets, the size receivers expect over UDP


class StreamError(OutputError):
    """A stream address that cannot work here, in one line."""


def check_stream_url(url: str) -> str:
    """`url` if it names a scheme, host and port this output speaks, else StreamError saying why."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise StreamError(f"{url!r}: a stream goes to udp://HOST:PORT, tcp://HOST:PORT or srt://HOST:PORT")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or not port:
        raise StreamError(f"{url!r}: give the receiver's host and port, e.g. {parts.scheme}://127.0.0.1:5000")
    return url


def check_protocol(url: str) -> None:
    """StreamError if PyAV's FFmpeg cannot speak the url's protocol (the wheels have no libsrt)."""
    scheme = urlsplit(url).scheme
    if scheme in ("udp", "tcp"):  # in every FFmpeg build
        return
    try:  # opening to read fails at once on a missing protocol, before any connection is tried
        av.open(f"{scheme}://127.0.0.1:9", timeout=0.05).close()
    except av.error.ProtocolNotFoundError:
        raise StreamError(f"{url}: this FFmpeg (PyAV {av.__version__}) has no {scheme} protocol; "
                          "send udp:// or tcp:// instead, or install PyAV built against an FFmpeg with libsrt") from None
    except (av.error.FFmpegError, OSError):
        pass  # the protocol is there; nobody answered, as expected


def _with_defaults(url: str) -> str:
    """The address with FFmpeg's URL options this output needs, unless it names its own: UDP_PACKET as a
    udp:// packet size; IO_TIMEOUT (in microseconds) on tcp:// reads and writes, which otherwise block
    for as long as a peer that stopped reading keeps the connection open."""
    scheme = urlsplit(url).scheme
    option = {"udp": f"pkt_size={UDP_PACKET}", "tcp": f"timeout={round(IO_TIMEOUT * 1e6)}"}.get(scheme)
    if option is None or option.split("=")[0] + "=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}{option}"


class StreamOutput:
    def __init__(self, url: str, fps: float, size: tuple[int, int] | None = None):
        self.label = check_stream_url(url)
        self.fps = fps
        self.size = size  # (width, height) sent; None: the program picture's own
        self._container: av.container.OutputContainer | None = None
        self._stream = None
        self._first_at: float | None = None
        self._last_pts = -1

    def open(self, width: int, height: int) -> None:
        width, height = self.size or (width - width % 2, height - height % 2)  # yuv420p wants even sides
        try:
            container = av.open(_with_defaults(self.label), "w", format="mpegts", timeout=IO_TIMEOUT)
        except av.error.FFmpegError as error:
            raise WorkFailure(f"cannot open: {error.strerror or error}") from None
        stream = container.add_stream("libx264", rate=Fraction(self.fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, TICKS_PER_SECOND)
        keyframe_every = str(max(1, round(self.fps)))
        stream.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": "23", "g": keyframe_every,
                          "x264-params": "repeat-headers=1"}
        self._container, self._stream = container, stream
        self._first_at, self._last_pts = None, -1

    def send(self, frame: Frame) -> None:
        stream, container = self._stream, self._container
        assert stream is not None and container is not None
        picture = av.VideoFrame.from_ndarray(frame.pixels, format="rgb24")
        picture = picture.reformat(stream.width, stream.height, "yuv420p")  # scaled here, off the render thread
        if self._first_at is None:
            self._first_at = frame.captured_at
        # strictly increasing, as the muxer demands, whatever the clock did
        pts = max(round((frame.captured_at - self._first_at) * TICKS_PER_SECOND), self._last_pts + 1)
        picture.pts, self._last_pts = pts, pts
        try:
            for packet in stream.encode(picture):
                container.mux(packet)
        except av.error.FFmpegError as error:
            raise WorkFailure(f"the receiver went away: {error.strerror or error}") from None

    def close(self) -> None:
        container, self._container, self._stream = self._container, None, None
        if container is not None:
            try:
                container.close()  # flushes what it can; a gone receiver makes that fail, which is no news
            except (av.error.FFmpegError, OSError):
                pass

    def state(self) -> str:
        return "sending"
