"""cppn-tensorflow's Sampler, for people who come from it: the same names and meanings over our CPPN.

    from trainers.cppn.sampler import Sampler
    sampler = Sampler(z_dim=8, c_dim=1, scale=10.0, net_size=32)
    z = sampler.generate_z()                       # (1, z_dim) in [-1, 1]
    image = sampler.generate(z, x_dim=1920, y_dim=1080, scale=10.0)   # (y_dim, x_dim, c_dim) in [0, 1]
    sampler.save_png(image, "still.png")
    sampler.save_anim_gif(z, sampler.generate_z(), "morph.gif", n_frame=30, duration=1 / 30)
    sampler.reinit()                               # new random weights; sampler.seed says which
    sampler.export("mine.onnx", z)                 # for the live stage; the card records that seed

As there, z is multiplied by the network's own scale (the constructor's) and
`generate`'s scale only zooms the coordinates, which span [-scale, scale] on
both axes; latents may be numpy arrays or torch tensors. What differs:
weights come from a recorded seed (cppn-tensorflow's reinit leaves no trace),
and save_png writes the picture as drawn, where cppn-tensorflow's writes 1 - image.
"""
from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
import torch

from trainers.common.images import save_png, to_uint8
from trainers.cppn.model import CPPN, CPPNConfig
from trainers.cppn.sample import save_gif


class Sampler:
    def __init__(self, z_dim: int = 8, c_dim: int = 1, scale: float = 10.0, net_size: int = 32, *,
                 depth: int = 3, arch: str = "tanh", seed: int | None = None):
        self.config = CPPNConfig(z_dim=z_dim, c_dim=c_dim, net_size=net_size, depth=depth, arch=arch,
                                 scale=scale, seed=_fresh_seed() if seed is None else seed)
        self._build()

    def _build(self) -> None:
        self.model = CPPN(self.config).eval()
        # latents follow from the weights' seed too, so a session's z's can be drawn again
        self._latents = np.random.default_rng(self.config.seed)

    @property
    def seed(self) -> int:
        """The weights' seed: Sampler(..., seed=this) draws the same pictures."""
        return self.config.seed

    def reinit(self, seed: int | None = None) -> int:
        """New random weights (a fresh seed unless one is given); returns the seed, also kept in .seed."""
        self.config.seed = _fresh_seed() if seed is None else seed
        self._build()
        return self.config.seed

    def generate_z(self) -> np.ndarray:
        """(1, z_dim) float32 drawn uniformly from [-1, 1], as cppn-tensorflow does."""
        return self._latents.uniform(-1.0, 1.0, size=(1, self.config.z_dim)).astype(np.float32)

    def generate(self, z=None, x_dim: int = 1080, y_dim: int = 1060, scale: float = 10.0) -> np.ndarray:
        """(y_dim, x_dim, c_dim) float32 in [0, 1]; z (numpy or torch, any shape of z_dim values)
        defaults to a fresh generate_z()."""
        z = self.generate_z() if z is None else z
        return self.model.render(x_dim, y_dim, z, scale=scale).numpy()

    def save_png(self, image_data, filename: str | Path) -> Path:
        """Write a generate() picture as an 8-bit PNG: gray for c_dim 1, RGB for 3."""
        image = np.asarray(image_data)
        return save_png(image.reshape(image.shape[0], image.shape[1], -1), filename)

    def save_anim_gif(self, z1, z2, filename: str | Path, n_frame: int = 10, duration1: float = 0.5,
                      duration2: float = 1.0, duration: float = 0.1, x_dim: int = 512, y_dim: int = 512,
                      scale: float = 10.0, reverse: bool = True) -> int:
        """A GIF morphing linearly from z1 to z2 through n_frame frames between them, as cppn-tensorflow's:
        the first frame held duration1 seconds, the last duration2, the others `duration` each; with
        reverse it then walks back to z1 (2 * n_frame + 3 frames). Returns the frames written."""
        if n_frame < 0:
            raise ValueError(f"n_frame must be 0 or more, got {n_frame}")
        z1 = np.asarray(z1, dtype=np.float32).reshape(-1)
        z2 = np.asarray(z2, dtype=np.float32).reshape(-1)
        step = (z2 - z1) / (n_frame + 1)
        latents = [z1 + step * i for i in range(n_frame + 2)]  # z1, n_frame between, z2
        durations = [duration1] + [duration] * n_frame + [duration2]
        if reverse:  # back again, without showing z2 twice; z1 is held as at the start
            latents += latents[-2::-1]
            durations += [duration] * n_frame + [duration1]
        frames = [to_uint8(np.broadcast_to(self.generate(z, x_dim, y_dim, scale), (y_dim, x_dim, 3)))
                  for z in latents]
        return save_gif(frames, filename, durations)

    def export(self, path: str | Path, z=None, command: str = "trainers.cppn.sampler.Sampler.export") -> Path:
        """The network as a latentstage .onnx file (parity-checked) whose card names this seed and,
        when given, z as its home latent."""
        from exporters.onnx import export

        latent = None if z is None else torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1)
        report = export(self.model, path, spec=self.model.export_spec(latent=latent), provenance={"command": command})
        return report.path


def _fresh_seed() -> int:
    return secrets.randbelow(2**31)
