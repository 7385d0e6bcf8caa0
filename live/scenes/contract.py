"""What the performer and the music ask of the scenes this frame: a plain snapshot passed to render().

The control bus and the audio analysis change all the time on other threads;
the inference step reads them once into a Drive, so one frame sees one
consistent set of values and scenes stay functions of (t, drive).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Drive:
    scale: float | None = None  # CPPN coordinate scale for every CPPN scene; None: each scene's own
    speed: float = 1.0  # multiplier of how fast latents travel through keyframes; negative runs backwards
    jitter: float = 0.0  # 0..1: how hard an onset kicks a CPPN's latent
    onset: bool = False  # an onset in the music since the last frame
    canny_sigma: float | None = None  # overrides the chain's Canny sigma when set
    style_strength: float = 1.0  # 0..1: a style model's output mixed over its input


STILL = Drive()  # nobody is driving: scenes follow their own clocks
