"""Where the program picture is sent: the show's `output.send` entries and `run --send`, one shape for both.

In a show, each entry names one output and optionally the size it is sent at:

    output:
      send:
        - ndi: latentstage                      # an NDI source called latentstage
        - stream: udp://127.0.0.1:5000          # MPEG-TS over UDP (or tcp://, srt://)
          size: [1280, 720]
        - vcam: true                            # the first v4l2loopback device (or vcam: /dev/video2)

or as the command line writes it: `udp://...`, `tcp://...`, `srt://...`, `ndi:NAME`, `vcam` or
`vcam:/dev/videoN`. `make_output` builds the output; `check_output` refuses, in one line, an output
that cannot work on this machine, before the show starts.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from live.core.config import Settings
from live.output.ndi_out import NdiOutput, load_ndi
from live.output.sender import Output, OutputError
from live.output.stream_out import StreamOutput, check_protocol, check_stream_url
from live.output.vcam_out import VcamOutput

DEFAULT_NDI_NAME = "latentstage"
KINDS = ("ndi", "stream", "vcam")


class SendConfig(Settings):
    ndi: str | None = Field(None, min_length=1, max_length=100)  # the NDI source's name
    stream: str | None = None  # udp://HOST:PORT, tcp://HOST:PORT or srt://HOST:PORT (MPEG-TS, H.264)
    vcam: str | bool | None = None  # true: the first v4l2loopback device; or its path, /dev/video2
    size: tuple[int, int] | None = None  # (width, height) sent, even; default: the program picture's

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return parse_send(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_output(self) -> SendConfig:
        given = [kind for kind in KINDS if getattr(self, kind) not in (None, False)]
        if len(given) != 1:
            raise ValueError(f"each entry sends to one output: ndi: NAME, stream: URL or vcam: true; "
                             f"not {' and '.join(given) or 'none'}")
        if self.stream is not None:
            check_stream_url(self.stream)
        if self.size is not None:
            width, height = self.size
            if not (16 <= width <= 7680 and 16 <= height <= 4320 and width % 2 == 0 and height % 2 == 0):
                raise ValueError(f"size {width}x{height}: even, from 16x16 to 7680x4320")
        return self

    @property
    def label(self) -> str:
        if self.ndi is not None:
            return f"ndi:{self.ndi}"
        if self.stream is not None:
            return self.stream
        return "vcam" if self.vcam is True else f"vcam:{self.vcam}"


def parse_send(text: str) -> dict:
    """The command line's form of an output (`udp://127.0.0.1:5000`, `ndi:NAME`, `vcam:/dev/video2`) as
    the fields of a SendConfig; the URL itself is checked there."""
    kind, _, rest = text.partition(":")
    if kind == "ndi":
        return {"ndi": rest or DEFAULT_NDI_NAME}
    if kind == "vcam":
        return {"vcam": rest or True}
    if "://" in text:
        return {"stream": text}
    raise OutputError(f"{text!r}: send to udp://HOST:PORT, tcp://HOST:PORT, srt://HOST:PORT, ndi:NAME or vcam")


def make_output(config: SendConfig, fps: float) -> Output:
    if config.ndi is not None:
        return NdiOutput(config.ndi, fps, config.size)
    if config.stream is not None:
        return StreamOutput(config.stream, fps, config.size)
    return VcamOutput(None if config.vcam is True else config.vcam, fps, config.size)


def check_output(output: Output, size: tuple[int, int], device_too: bool) -> None:
    """OutputError now for an output that cannot work on this machine: a stream protocol its FFmpeg lacks,
    NDI without its library; with `device_too`, a virtual camera with no loopback device (a show's own
    vcam waits for one instead, as a camera unplugged would: `modprobe` brings it mid-show)."""
    if isinstance(output, StreamOutput):
        check_protocol(output.label)
    elif isinstance(output, NdiOutput):
        load_ndi()
    elif isinstance(output, VcamOutput) and device_too:
        output.check(*size)


def outputs_for(show_entries: list[SendConfig], command_line: list[str], fps: float,
                size: tuple[int, int]) -> list[Output]:
    """The outputs a run sends to: the show's entries and the command line's `--send TARGET`s, each checked
    (check_output; the command line's virtual camera must be there now). OutputError names the first
    that cannot work here; one label given twice is refused too (two senders fighting over one port)."""
    configs = [*((entry, False) for entry in show_entries),
               *((_command_line_entry(text), True) for text in command_line)]
    outputs, labels = [], set()
    for config, device_too in configs:
        if config.label in labels:
            raise OutputError(f"{config.label} is asked for twice (in the show or with --send): once is enough")
        labels.add(config.label)
        output = make_output(config, fps)
        check_output(output, size, device_too)
        outputs.append(output)
    return outputs


def _command_line_entry(text: str) -> SendConfig:
    from pydantic import ValidationError

    try:
        return SendConfig.model_validate(text)
    except ValidationError as error:
        reason = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise OutputError(f"--send {text}: {reason}") from None
