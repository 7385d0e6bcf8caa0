"""Rehearsal: the show rendered offline on a virtual clock into a video file.

The same stage, director, renderer and frame step (the conductor's) as a live
run, on a headless GL surface, with frame i shown at t = i / fps exactly.
Nothing depends on the wall clock, so the same show and seed give the same
frames, run after run. Stand-ins take the venue's place: a video file for each
camera, a song for the sound input (and the preview's sound track), a script
of OSC messages for the operator. A contact sheet beside the preview shows
each scene change and the sound.

A replay renders a live run's event log instead: each frame at the show time
the live run composed it, after the controller writes it had seen, hearing the
sound features it heard and firing quantised cues on the beats it was given
(a replay has no Link or MIDI clock), so the frames are the night's frames.
"""
from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from live.control.osc_script import OscCue
from live.output.render import open_renderer
from live.output.video import VideoWriter, song_track
from live.show.conductor import Conductor, show_audio
from live.show.contact_sheet import ContactSheet
from live.show.event_log import RecordedAudio, RecordedBeats, RecordedRun, replayed_frames
from live.show.schema import Show, ShowError
from live.show.show_reload import ShowReloader
from live.show.stage import Stage

log = logging.getLogger("latentstage.rehearse")


@dataclass(frozen=True)
class RehearsalReport:
    path: Path
    frames: int
    seconds: float  # of show time
    wall_seconds: float
    contact_sheet: Path
    sound: str  # what the preview's sound track holds: "none", or where it came from


def with_camera_stand_in(show: Show, clip: Path) -> Show:
    """The show with every camera source replaced by `clip`, looping: the venue's camera, rehearsed."""
    if not clip.is_file():
        raise ShowError(f"{clip}: no such video to stand in for the camera")
    return show.replaced(scenes=[scene.with_camera_stand_in(clip.resolve()) for scene in show.scenes])


def rehearse(show: Show, out_path: Path, seconds: float, progress: bool = True,
             frames_dir: Path | None = None, audio_file: Path | None = None,
             osc_script: list[OscCue] | None = None, replay: RecordedRun | None = None,
             rungs: dict[str, int] | None = None) -> RehearsalReport:
    """Render `seconds` of the show into out_path (H.264), and each frame as a PNG into frames_dir
    if given. The rendered frames, and so the H.264 file, are exactly reproducible.
    `audio_file` stands in for the show's sound input, `osc_script` for its controllers; `replay`
    (a live run's log) for both, and gives the frames' times (`seconds` is then ignored) and the ladder
    rungs its governor chose. `rungs` (scene -> rung of its ladder) rehearses scenes on a lower rung:
    how the show looks where the venue's machine steps them down."""
    if frames_dir is not None:
        frames_dir.mkdir(parents=True, exist_ok=True)
    fps = show.output.fps
    frame_count = replay.frames if replay is not None else max(1, round(seconds * fps))
    if replay is not None:
        audio = RecordedAudio(replay.path, show.audio.samplerate)
    else:
        audio = show_audio(show, rehearsal=True, audio_file=audio_file)
    audio.start()  # decoded before any model loads: a wrong file is refused at once
    sound = audio.status()
    if (show.audio.kind == "file" or audio_file is not None) and not sound.healthy:
        # live, a bad input degrades to silence; a rehearsal asked for this file
        raise ShowError(f"{sound.device}: cannot use it as the rehearsal's sound: {sound.message}")
    stage = Stage.build(show, rehearsal=True)
    for scene, rung in (rungs or {}).items():
        try:
            stage.use_rung(scene, rung)
        except ValueError as error:
            raise ShowError(f"--ladder {scene}={rung}: {error}") from None
    beats = RecordedBeats(replay.path) if replay is not None else None  # the night's, Link's or MIDI clock's too
    conductor = Conductor.build(show, stage.scenes, rehearsal=True, audio=audio, osc_script=osc_script,
                                tempo_for=(lambda config: beats) if beats is not None else None)
    conductor.start()
    renderer = open_renderer(show.window, stage.size, headless=True, surface_size=stage.output_size)
    if replay is not None:
        frames = ((frame.frame, frame.t) for frame in replayed_frames(
            replay, conductor, [audio, beats], _show_reloads(show, stage, conductor, renderer), stage.use_rung))
    else:
        frames = ((index, index / fps) for index in range(frame_count))
    sheet = ContactSheet([scene.name for scene in show.scenes], fps)
    heard = audio_file or (show.audio.path if show.audio.kind == "file" and replay is None else None)
    started = time.perf_counter()
    try:
        stage.attach_renderer(renderer)
        with contextlib.ExitStack() as files:
            writer = files.enter_context(VideoWriter(out_path, *stage.output_size, fps))
            song = song_track(files, writer, heard)  # the stand-in, else the show's own sound file
            bar = files.enter_context(tqdm(total=frame_count, desc="rehearsing", unit="frame", disable=not progress))
            files.enter_context(_log_lines_above_the_bar())
            for index, t in frames:
                layers = conductor.step(stage, t)
                renderer.mirror = conductor.mirror
                renderer.present(layers.current, layers.previous, layers.composition.mix)
                pixels = renderer.read_pixels()
                writer.write(pixels)
                sheet.add(t, layers.composition, stage.director.fade_at(t), conductor.features, pixels)
                if frames_dir is not None:
                    _save_png(pixels, frames_dir / f"frame-{index:06d}.png")
                bar.update()
            if song is not None:
                song(frame_count / fps)
    finally:
        renderer.close()
        conductor.stop()
    contact_sheet = sheet.save(Path(out_path).with_suffix(".png"), pixels)
    return RehearsalReport(Path(out_path), frame_count, frame_count / fps, time.perf_counter() - started,
                           contact_sheet, str(heard) if heard is not None else "none")


class _AboveTheBar:
    """A log stream that lifts the progress bar off its line for each log line, and draws it again under it."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        with tqdm.external_write_mode(file=sys.stderr):  # the bar draws on stderr; the log may be a copy of it
            self.stream.write(text)
            self.stream.flush()

    def flush(self) -> None:
        self.stream.flush()


@contextlib.contextmanager
def _log_lines_above_the_bar() -> Iterator[None]:
    """While the bar is drawn, a warning is a line of its own above it, never glued to the bar's end."""
    handlers = [handler for handler in logging.getLogger().handlers
                if type(handler) is logging.StreamHandler]  # the console's, not a file's
    streams = [handler.setStream(_AboveTheBar(handler.stream)) for handler in handlers]
    try:
        yield
    finally:
        for handler, stream in zip(handlers, streams):
            handler.setStream(stream)


def _show_reloads(show: Show, stage: Stage, conductor: Conductor, renderer) -> Callable[[str, float], None]:
    """How a replay swaps in a show file that was edited during the recorded run: as the live run did."""
    reloader = ShowReloader(show.source, stage, time.perf_counter, rehearsal=True)

    def reload(text: str, t: float) -> None:
        if reloader.apply_now(text, stage, conductor, t, renderer) is None:
            log.warning("replay: the show file's edit at %.2f s cannot be used now: %s", t, reloader.problem)
    return reload


def _save_png(pixels: np.ndarray, path: Path) -> None:
    Image.fromarray(np.ascontiguousarray(pixels)).save(path, compress_level=1)  # fast: rehearsal is waiting
