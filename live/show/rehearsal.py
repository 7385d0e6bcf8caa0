"""Rehearsal: the show rendered offline on a virtual clock into a video file.

The same stage, director and renderer as a live run, on a headless GL surface,
with frame i shown at t = i / fps exactly. Nothing depends on the wall clock,
so the same show and seed give the same frames, run after run.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from live.control.controls import Controls, OscCue, show_audio
from live.output.render import open_renderer
from live.output.video import VideoWriter
from live.show.schema import Show, ShowError
from live.show.stage import Stage

log = logging.getLogger("latentstage.rehearse")


@dataclass(frozen=True)
class RehearsalReport:
    path: Path
    frames: int
    seconds: float  # of show time
    wall_seconds: float


def rehearse(show: Show, out_path: Path, seconds: float, progress: bool = True,
             frames_dir: Path | None = None, audio_file: Path | None = None,
             osc_script: list[OscCue] | None = None) -> RehearsalReport:
    """Render `seconds` of the show into out_path (H.264), and each frame as a PNG into frames_dir
    if given. The rendered frames are exactly reproducible; the H.264 file is lossy and x264's
    lookahead can round a few levels differently from run to run, so compare the PNGs.
    `audio_file` stands in for the show's sound input, `osc_script` for its controllers."""
    if frames_dir is not None:
        frames_dir.mkdir(parents=True, exist_ok=True)
    fps = show.output.fps
    frame_count = max(1, round(seconds * fps))
    audio = show_audio(show, rehearsal=True, audio_file=audio_file)
    audio.start()  # decoded before any model loads: a wrong file is refused at once
    sound = audio.status()
    if (show.audio.kind == "file" or audio_file is not None) and not sound.healthy:
        # live, a bad input degrades to silence; a rehearsal asked for this file
        raise ShowError(f"{sound.device}: cannot use it as the rehearsal's sound: {sound.message}")
    stage = Stage.build(show, rehearsal=True)
    controls = Controls.build(show, stage.scenes, rehearsal=True, audio=audio, osc_script=osc_script)
    controls.start()
    renderer = open_renderer(show.window, stage.size, headless=True, surface_size=stage.output_size)
    started = time.perf_counter()
    try:
        stage.attach_renderer(renderer)
        with VideoWriter(out_path, *stage.output_size, fps) as writer, \
                tqdm(total=frame_count, desc="rehearsing", unit="frame", disable=not progress) as bar:
            for index in range(frame_count):
                t = index / fps
                controls.update(t, stage.director)
                layers = stage.frame_at(t, moment_for=controls.moment)
                renderer.mirror = bool(controls.bus.get("mirror"))
                renderer.present(layers.current, layers.previous, layers.composition.mix)
                pixels = renderer.read_pixels()
                writer.write(pixels)
                if frames_dir is not None:
                    _save_png(pixels, frames_dir / f"frame-{index:06d}.png")
                bar.update()
    finally:
        renderer.close()
        controls.stop()
    return RehearsalReport(Path(out_path), frame_count, frame_count / fps, time.perf_counter() - started)


def _save_png(pixels: np.ndarray, path: Path) -> None:
    Image.fromarray(np.ascontiguousarray(pixels)).save(path, compress_level=1)  # fast: rehearsal is waiting
