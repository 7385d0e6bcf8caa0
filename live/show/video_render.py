"""`latentstage render`: a whole video through an image model, the SnowGAN post-production in one command.

Each frame is decoded (PyAV), made into what the model eats as its card says
(the live filter chain: auto-Canny edges with the card's settings, or gray),
run through the model (ONNX Runtime), and encoded as H.264 at the timestamp
the input frame had, so the result has the same frame count and timing; the
input's sound track is carried over untouched (copied packet for packet, or
re-encoded to AAC when MP4 cannot hold its codec). With `triptych` each frame
is model input | model output | original side by side.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from tqdm import tqdm

from live.core.imaging import as_rgb
from live.inference.engine import Engine, EngineConfig
from live.inference.model_inputs import declared_inputs
from live.inference.model_io import ImageModelIO
from live.output.video import SoundTrack, VideoWriter, even_size
from live.scenes.filters import FilterChain, with_model_inputs
from live.show.schema import ShowError


@dataclass
class RenderResult:
    frames: int
    seconds: float  # wall-clock time of the whole render
    audio: str  # what happened to the sound: "copied", "re-encoded to AAC" or "none"


def render_video(video: str | Path, model: str | Path, output: str | Path, triptych: bool = False,
                 engine_config: EngineConfig | None = None) -> RenderResult:
    video, output = Path(video), Path(output)
    if not video.is_file():
        raise ShowError(f"{video}: no such video")
    if output.suffix.lower() != ".mp4":
        raise ShowError(f"{output}: renders are written as .mp4")
    engine = Engine.load(model, engine_config)
    if engine.card.kind not in ("pix2pix", "style"):
        raise ShowError(f"{model}: a {engine.card.kind} model makes pictures from nothing; render takes an "
                        "image model (pix2pix or style)")
    io = ImageModelIO(engine.card)
    model_input, model_output = engine.input_names[0], engine.output_names[0]
    # the model's other inputs at the values its card gives (a multi-style network's first style)
    extra = {declared.onnx_name: declared.feed(list(declared.default)) for declared in declared_inputs(engine.card)}
    chain = FilterChain(with_model_inputs([], engine.card))
    started = time.perf_counter()
    try:
        source = av.open(str(video))
    except av.error.FFmpegError as error:
        raise ShowError(f"{video}: not a readable video ({error})") from None
    with source:
        if not source.streams.video:
            raise ShowError(f"{video}: has no video stream")
        frames_in = source.streams.video[0]
        frames_in.thread_type = "AUTO"
        sound = source.streams.audio[0] if source.streams.audio else None
        width, height = even_size(frames_in.codec_context.width, frames_in.codec_context.height)
        fps = float(frames_in.average_rate or 30)
        writer = VideoWriter(output, width * (3 if triptych else 1), height, fps, timestamped=True)
        track = SoundTrack(writer, sound) if sound is not None else None
        frames = 0
        try:
            with tqdm(total=frames_in.frames or None, desc=f"render {video.name}", unit="frame") as bar:
                for packet in source.demux(*(stream for stream in (frames_in, sound) if stream is not None)):
                    if packet.stream is sound:
                        track.carry(packet)
                        continue
                    for frame in packet.decode():
                        picture = frame.to_ndarray(format="rgb24")[:height, :width]
                        made = chain.apply(picture)
                        result = engine.run({model_input: io.to_input(made), **extra})[model_output]
                        styled = io.to_frame(result, width, height)
                        shown = np.concatenate([as_rgb(made), styled, picture], axis=1) if triptych else styled
                        writer.write(shown, at=_seconds(frame, frames, fps))
                        frames += 1
                        bar.update(1)
                if track is not None:
                    track.finish()
        finally:
            writer.close()
    if frames == 0:
        raise ShowError(f"{video}: the video has no frames")
    return RenderResult(frames, time.perf_counter() - started, track.how if track is not None else "none")


def _seconds(frame: av.VideoFrame, index: int, fps: float) -> float:
    """The frame's own time from the start, or its place at the nominal rate when it carries none."""
    return frame.time if frame.time is not None else index / fps
