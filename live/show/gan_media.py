"""`latentstage gan sample` and `gan walk`: a GAN file's pictures as a grid, and its latent walks as videos.

A sample grid is N seeded latents at one truncation, in one ONNX Runtime run. A
walk is the live scene's walk (live.scenes.latent_walk): slerp through seeded
Gaussian keyframes, each frame the generator's square fitted to the video's
size (`cover` crops it to the aspect, `contain` letterboxes it, `stretch`
unsquashes it as MachineRay did with its squashed training pictures), through a
super-resolution model first when one is given (MachineRay's 4x pass).

With a song the walk dances, through the project's own audio analysis (the
live input's Analyser, read frame by frame as a rehearsal reads it): the
music's energy (level) drives the speed, each onset kicks the latent by its
strength, and once a tempo is found one keyframe lasts `beats` beats, so the
walk changes picture on the music's bars. The song is muxed into the MP4.
"""
from __future__ import annotations

import contextlib
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image
from tqdm import tqdm

from live.core.imaging import FitMode
from live.inference.engine import EngineConfig
from live.inference.gan_generator import GanGenerator, gaussian_latents
from live.inference.upscaler import Upscaler
from live.inputs.audio import AudioConfig, FileAudio, check_audio_file
from live.output.video import VideoWriter, song_track
from live.scenes.filters import fit_to
from live.scenes.latent_walk import LatentWalk

QUIET_SPEED = 0.15  # keyframes per period when the music is silent: the painting still breathes
LOUD_SPEED = 2.0  # ... and at full level
DEFAULT_SHORT_SIDE = 512  # pixels: a walk's height (or width) when only its aspect is given


class GanMediaError(ValueError):
    """Bad input to a gan command, said in one line."""


@dataclass(frozen=True)
class WalkResult:
    frames: int
    seconds: float  # wall-clock time of the whole walk
    size: tuple[int, int]  # (width, height)
    sound: str  # "none", or the song's name
    onsets: int  # onsets the analysis heard (0 without a song)
    tempo_bpm: float | None  # the last tempo it found


def load_generator(model: Path, providers: str = "auto") -> GanGenerator:
    if not model.is_file():
        raise GanMediaError(f"{model}: no such model file")
    return GanGenerator.load(model, EngineConfig(providers=providers))


def load_upscaler(path: Path | None, providers: str = "auto") -> Upscaler | None:
    """The super-resolution model at `path` (kind sr; any other kind refused in one line), or None."""
    if path is None:
        return None
    if not path.is_file():
        raise GanMediaError(f"{path}: no such model file")
    return Upscaler.load(path, EngineConfig(providers=providers))


def sample_grid(model: Path, output: Path, n: int = 16, psi: float = 0.7, seed: int = 0,
                providers: str = "auto", upscale: Path | None = None, aspects: Path | None = None,
                fit: FitMode = "cover") -> np.ndarray:
    """A PNG grid of n pictures (seeded latents, truncation psi), rows of ceil(sqrt(n)), each through the
    super-resolution model `upscale` if given; with `aspects` (a `data paintings` manifest) each picture
    takes the aspect ratio of a painting drawn (seeded) from it, fitted (`fit`) and centred in its cell;
    (H, W, 3) uint8."""
    if n < 1:
        raise GanMediaError(f"--n {n}: give at least one picture")
    _check_psi(psi)
    _check_suffix(output, (".png", ".jpg", ".jpeg"), "the grid")
    ratios = painting_aspects(aspects, n, seed) if aspects is not None else None
    generator = load_generator(model, providers)
    upscaler = load_upscaler(upscale, providers)
    pictures = generator.pictures(gaussian_latents(seed, n, generator.z_dim), psi)  # (n, R, R, 3)
    if upscaler is not None:
        pictures = np.stack([upscaler.upscale(picture).copy() for picture in pictures])  # (n, sR, sR, 3)
    columns = math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    side = pictures.shape[1]
    grid = np.zeros((rows * side, columns * side, 3), dtype=np.uint8)
    for index, picture in enumerate(pictures):
        row, column = divmod(index, columns)
        cell = grid[row * side:(row + 1) * side, column * side:(column + 1) * side]
        if ratios is None:
            cell[:] = picture
            continue
        width, height = (side, max(1, round(side / ratios[index]))) if ratios[index] >= 1 else \
            (max(1, round(side * ratios[index])), side)
        top, left = (side - height) // 2, (side - width) // 2
        fit_to(picture, width, height, fit, out=cell[top:top + height, left:left + width])
    output.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(output)
    return grid


def painting_aspects(manifest: Path, n: int, seed: int) -> list[float]:
    """n aspect ratios (width / height) drawn with replacement, seeded, from the paintings a `latentstage
    data paintings` manifest lists: the data's own shapes, as MachineRay drew its outputs' shapes."""
    try:
        paintings = json.loads(manifest.read_text(encoding="utf-8"))["paintings"]
        ratios = [float(painting["aspect"]) for painting in paintings]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise GanMediaError(f"{manifest}: not a `data paintings` manifest with each painting's aspect "
                            f"({type(error).__name__}: {error})") from None
    ratios = [ratio for ratio in ratios if 0.1 <= ratio <= 10]
    if not ratios:
        raise GanMediaError(f"{manifest}: lists no painting with an aspect ratio")
    return list(np.random.default_rng(seed).choice(ratios, size=n))


def parse_size(text: str) -> tuple[int, int]:
    """"640x360" -> (640, 360): even sides (H.264) from 16 to 8192 pixels."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if match is None:
        raise GanMediaError(f"--size {text!r}: write it as WIDTHxHEIGHT in pixels, like 640x360")
    width, height = int(match[1]), int(match[2])
    for side in (width, height):
        if not 16 <= side <= 8192 or side % 2:
            raise GanMediaError(f"--size {text}: each side must be an even number of pixels from 16 to 8192")
    return width, height


def aspect_size(text: str, short_side: int = DEFAULT_SHORT_SIDE) -> tuple[int, int]:
    """"16:9" or "1.5" (width over height) -> an even (width, height) whose short side is `short_side`."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:[:/]\s*(\d+(?:\.\d+)?))?\s*", text)
    ratio = float(match[1]) / float(match[2] or 1) if match is not None and float(match[2] or 1) > 0 else 0.0
    if not 0.1 <= ratio <= 10:
        raise GanMediaError(f"--aspect {text!r}: give width:height (16:9, 3:4) or one number (1.5), from 1:10 to 10:1")
    if ratio >= 1:
        width, height = round(short_side * ratio), short_side
    else:
        width, height = short_side, round(short_side / ratio)
    return width + width % 2, height + height % 2


def walk_video(model: Path, output: Path, size: tuple[int, int], seconds: float | None = None, fps: float = 30.0,
               keyframes: int = 6, psi: float = 0.7, seed: int = 0, period: float = 4.0, fit: FitMode = "cover",
               audio: Path | None = None, beats: float = 8.0, jitter: float = 0.35, upscale: Path | None = None,
               providers: str = "auto") -> WalkResult:
    """An MP4 of the walk through `keyframes` seeded keyframes at `period` seconds each (with a song:
    `beats` beats each once its tempo is known), looping, each picture through the super-resolution model
    `upscale` if given, fitted to `size`; the song muxed in."""
    _check_suffix(output, (".mp4",), "the walk")
    _check_psi(psi)
    if keyframes < 2:
        raise GanMediaError(f"--keyframes {keyframes}: a walk needs at least 2")
    if not 1 <= fps <= 240:
        raise GanMediaError(f"--fps {fps:g}: give 1 to 240 frames a second")
    for option, value in (("--period", period), ("--beats", beats)):
        if value <= 0:
            raise GanMediaError(f"{option} {value:g}: give a positive length")
    if jitter < 0:
        raise GanMediaError(f"--jitter {jitter:g}: give 0 (no kicks) or more")
    sound = _song(audio) if audio is not None else None
    if seconds is None:
        seconds = sound.duration if sound is not None else keyframes * period
    if seconds <= 0:
        raise GanMediaError(f"--seconds {seconds:g}: give a positive length")
    generator = load_generator(model, providers)
    upscaler = load_upscaler(upscale, providers)
    walk = LatentWalk(gaussian_latents(seed, keyframes, generator.z_dim), period, "slerp", seed)
    kick = jitter * math.sqrt(generator.z_dim)  # latent units: a fraction of a typical latent's length
    width, height = size
    frame = np.empty((height, width, 3), dtype=np.uint8)
    count = max(1, round(seconds * fps))
    onsets, tempo = 0, None
    started = time.perf_counter()
    with contextlib.ExitStack() as files:
        writer = files.enter_context(VideoWriter(output, width, height, fps))
        carry = song_track(files, writer, audio) if sound is not None else None
        for index in tqdm(range(count), desc=f"walk {model.name}", unit="frame"):
            t = index / fps
            if sound is None:
                z = walk.at(t)
            else:
                features = sound.analysis.features_at(t)
                tempo = features.tempo_bpm or tempo
                speed = (QUIET_SPEED + (LOUD_SPEED - QUIET_SPEED) * features.level) * _tempo_factor(tempo, period, beats)
                onsets += features.onset
                z = walk.at(t, speed, kick * (0.5 + features.onset_strength), features.onset)
            picture = generator.picture(z, psi)  # (R, R, 3)
            if upscaler is not None:
                picture = upscaler.upscale(picture)
            writer.write(fit_to(picture, width, height, fit, out=frame))
        if carry is not None:
            carry(count / fps)
    return WalkResult(count, time.perf_counter() - started, size, audio.name if carry is not None else "none",
                      onsets, tempo)


@dataclass
class _Song:
    analysis: FileAudio
    duration: float  # seconds


def _song(path: Path) -> _Song:
    if not path.is_file():
        raise GanMediaError(f"{path}: no such sound file")
    try:
        check_audio_file(path)
    except ValueError as error:
        raise GanMediaError(str(error)) from None
    analysis = FileAudio(AudioConfig(kind="file", path=path))
    analysis.start()  # decodes it once
    status = analysis.status()
    if not status.healthy:
        raise GanMediaError(status.message)
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        duration = float(stream.duration * stream.time_base) if stream.duration else \
            (container.duration or 0) / av.time_base
    return _Song(analysis, duration)


def _tempo_factor(tempo: float | None, period: float, beats: float) -> float:
    """How much faster than `period` seconds a keyframe goes so that it lasts `beats` beats; 1 without a tempo."""
    return 1.0 if tempo is None else period / (beats * 60.0 / tempo)


def _check_psi(psi: float) -> None:
    if not 0.0 <= psi <= 1.5:
        raise GanMediaError(f"--psi {psi:g}: truncation runs from 0 (the mean picture) to 1 (none), 1.5 at most")


def _check_suffix(path: Path, suffixes: tuple[str, ...], what: str) -> None:
    if path.suffix.lower() not in suffixes:
        raise GanMediaError(f"{path}: {what} is written as {' or '.join(suffixes)}")

