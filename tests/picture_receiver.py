"""A receiver of the show's sent picture in a process of its own, for tests, as OBS or VLC would take it in.

    python -m tests.picture_receiver stream URL [--seconds S]   (PyAV: udp://127.0.0.1:5000, tcp://...?listen=1)
    python -m tests.picture_receiver ndi NAME [--seconds S]     (cyndilib: the NDI source whose name has NAME)

It prints one JSON line per picture it decodes, flushed: {"at": wall seconds, "width": W, "height": H,
"mean": [r, g, b], "spread": levels}, and {"connected": true} once the source is found (NDI) or the stream opened. It ends
after S seconds or on SIGTERM. `--stall` (stream over TCP only): accept the connection, then never read.
"""
from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import time
from urllib.parse import urlsplit

import numpy as np


def say(**fields) -> None:
    print(json.dumps(fields), flush=True)


def picture(pixels: np.ndarray) -> None:
    """One decoded (H, W, 3+) picture: its size, mean colour and spread (the largest max - min of a channel)."""
    height, width = pixels.shape[:2]
    colours = pixels[..., :3]
    spread = int((colours.max((0, 1)).astype(int) - colours.min((0, 1))).max())
    say(at=time.time(), width=width, height=height, mean=[round(float(v), 1) for v in colours.mean((0, 1))],
        spread=spread)


def receive_stream(url: str, end: float) -> None:
    import av

    while time.time() < end:
        try:
            container = av.open(url, timeout=(10.0, 2.0), options={"fflags": "nobuffer", "probesize": "32768", "analyzeduration": "500000"})
        except av.error.FFmpegError:
            continue  # nothing yet (a timeout), look again
        say(connected=True)
        try:
            for frame in container.decode(video=0):
                picture(frame.to_ndarray(format="rgb24"))
                if time.time() >= end:
                    return
        except av.error.FFmpegError:
            pass  # the sender went away: wait for it again
        finally:
            container.close()


def stall(url: str, end: float) -> None:
    """Listen, accept, and never read: the sender's socket fills up and its writes block."""
    parts = urlsplit(url)
    server = socket.create_server((parts.hostname, parts.port))
    server.settimeout(max(0.1, end - time.time()))
    connection, _ = server.accept()
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    say(connected=True)
    while time.time() < end:
        time.sleep(0.1)
    connection.close()


def receive_ndi(name: str, end: float) -> None:
    from cyndilib import Finder, Receiver, RecvBandwidth, RecvColorFormat, VideoFrameSync

    finder = Finder()
    finder.open()
    source = None
    while source is None and time.time() < end:
        finder.wait_for_sources(0.5)
        source = next((finder.get_source(found) for found in finder.get_source_names() if name in found), None)
    if source is None:
        return
    receiver = Receiver(color_format=RecvColorFormat.RGBX_RGBA, bandwidth=RecvBandwidth.highest)
    video = VideoFrameSync()
    receiver.frame_sync.set_video_frame(video)
    receiver.set_source(source)
    say(connected=True)
    last = None
    while time.time() < end:
        receiver.frame_sync.capture_video()
        stamp = video.get_timestamp_posix()
        width, height = video.get_resolution()
        if width and stamp != last:
            last = stamp
            picture(video.get_array().reshape(height, width, 4))
        time.sleep(0.002)
    receiver.disconnect()
    finder.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("stream", "ndi"))
    parser.add_argument("source")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--stall", action="store_true")
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    end = time.time() + options.seconds
    if options.kind == "ndi":
        receive_ndi(options.source, end)
    elif options.stall:
        stall(options.source, end)
    else:
        receive_stream(options.source, end)


if __name__ == "__main__":
    main()
