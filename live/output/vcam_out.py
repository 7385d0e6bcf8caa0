"""The program picture as a Linux virtual camera (pyvirtualcam over v4l2loopback): Zoom, OBS or a browser
pick "latentstage" from their camera list.

v4l2loopback is a kernel module (`sudo modprobe v4l2loopback exclusive_caps=1`);
without it there is no device, and pyvirtualcam says so: `VcamOutput.check` makes
that one line before a show starts, and a sender retrying `open` says it on the HUD. pyvirtualcam is an optional extra, imported only here.
"""
from __future__ import annotations

import av

from live.core.frames import Frame
from live.core.worker import WorkFailure
from live.output.sender import OutputError


class VcamError(OutputError):
    """No virtual camera here, in one line."""


class VcamOutput:
    def __init__(self, device: str | None, fps: float, size: tuple[int, int] | None = None):
        self.device = device  # /dev/videoN; None: the first loopback device there is
        self.label = f"vcam {device or ''}".strip()
        self.fps = fps
        self.size = size
        self._camera = None

    def check(self, width: int, height: int) -> None:
        """VcamError now if the device cannot be opened (no v4l2loopback, no pyvirtualcam)."""
        try:
            self.open(width, height)
        except WorkFailure as error:
            raise VcamError(f"{self.label}: {error} (Linux: sudo modprobe v4l2loopback exclusive_caps=1)") from None
        self.close()

    def open(self, width: int, height: int) -> None:
        try:
            import pyvirtualcam
        except ImportError:
            raise WorkFailure("no virtual camera here: pyvirtualcam is missing (pip install 'latentstage[vcam]')") \
                from None
        width, height = self.size or (width, height)
        try:
            self._camera = pyvirtualcam.Camera(width, height, self.fps, device=self.device)
        except RuntimeError as error:  # pyvirtualcam's one kind of failure: no device, or not a loopback one
            raise WorkFailure(f"no virtual camera here: {_first_sentence(error)}") from None

    def send(self, frame: Frame) -> None:
        camera = self._camera
        pixels = frame.pixels
        if pixels.shape[:2] != (camera.height, camera.width):
            picture = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            pixels = picture.reformat(camera.width, camera.height).to_ndarray()
        camera.send(pixels)

    def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            camera.close()

    def state(self) -> str:
        return f"sending to {self._camera.device}" if self._camera is not None else "closed"


def _first_sentence(error: Exception) -> str:
    """pyvirtualcam's message up to its first full stop: "'v4l2loopback' backend: No v4l2 loopback device
    found at /dev/video[0-99]"."""
    text = str(error) or type(error).__name__
    return text.split(". ")[0].rstrip(".")
