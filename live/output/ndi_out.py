"""The program picture as an NDI source (cyndilib, which bundles the NDI runtime): OBS, TouchDesigner,
Resolume and vMix list it as "HOST (NAME)".

Pictures go out as UYVY in BT.709, NDI's own format (it compresses that without
another conversion), scaled to the output's size by FFmpeg on the sender's thread.
NDI's own clock is off: the show paces the frames, so a send never waits for
a frame slot. NDI receivers connect and leave as they like: the sender stays
open and the HUD counts them. Receivers find the source by mDNS; where
multicast does not reach (loopback, some venue networks), NDI's config file
(NDI_CONFIG_DIR/ndi-config.v1.json, "networks": {"ips": ...}, as NDI Access
Manager writes it) names the hosts to ask directly.
"""
from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from live.core.frames import Frame
from live.output.sender import OutputError


class NdiError(OutputError):
    """NDI cannot run here, in one line."""


def load_ndi():
    """The cyndilib module, or NdiError saying how to get it (an optional extra: the NDI runtime is large)."""
    try:
        import cyndilib
    except ImportError as error:
        raise NdiError(f"NDI needs cyndilib, which bundles the NDI runtime: pip install 'latentstage[ndi]' "
                       f"({error})") from None
    return cyndilib


class NdiOutput:
    def __init__(self, name: str, fps: float, size: tuple[int, int] | None = None):
        self.name = name
        self.label = f"NDI {name}"
        self.fps = fps
        self.size = size  # (width, height) sent; None: the program picture's own
        self._sender = None
        self._width = self._height = 0

    def open(self, width: int, height: int) -> None:
        ndi = load_ndi()
        self._width, self._height = self.size or (width - width % 2, height - height % 2)  # UYVY pairs pixels
        frame = ndi.VideoSendFrame()
        frame.set_resolution(self._width, self._height)
        frame.set_frame_rate(Fraction(self.fps).limit_denominator(1001))
        frame.set_fourcc(ndi.FourCC.UYVY)
        sender = ndi.Sender(self.name, clock_video=False)
        sender.set_video_frame(frame)
        sender.open()
        self._sender = sender

    def send(self, frame: Frame) -> None:
        picture = av.VideoFrame.from_ndarray(frame.pixels, format="rgb24")
        # BT.709, as NDI receivers read UYVY (FFmpeg's default, BT.601, turns reds orange on the far side)
        plane = picture.reformat(self._width, self._height, "uyvy422", dst_colorspace="ITU709").planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(self._height, plane.line_size)  # rows may be padded
        self._sender.write_video(np.ascontiguousarray(rows[:, :self._width * 2]).reshape(-1))

    def close(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.close()

    def receivers(self) -> int:
        return self._sender.get_num_connections(0) if self._sender is not None else 0

    def state(self) -> str:
        count = self.receivers()
        return f"{count} receiver{'' if count == 1 else 's'}"
