"""live.inference.tiles: a CPPN run tile by tile on worker threads gives the frame ONNX Runtime gives whole."""
from __future__ import annotations

import numpy as np
import pytest

from exporters.onnx import export
from live.inference.engine import Engine, EngineConfig
from live.inference.tiles import PixelTiles
from live.scenes.cppn_math import coordinates
from trainers.cppn.model import CPPN, CPPNConfig


@pytest.mark.parametrize("c_dim", [1, 3])
def test_tiles_on_several_workers_give_the_whole_frame(tmp_path, c_dim):
    path = tmp_path / "cppn.onnx"
    export(CPPN(CPPNConfig(c_dim=c_dim, net_size=8, depth=2, seed=3)), path)
    whole = Engine.load(path, EngineConfig(providers="cpu"))
    inputs = {"coords": coordinates(67, 41, True), "z": np.full((1, 8), 0.25, np.float32),
              "scale": np.array([6.0], np.float32)}
    expected = whole.run(inputs)["image"].copy()
    for workers in (1, 3):
        tiles = PixelTiles(path, c_dim, net_size=8, workers=workers)
        tiles.tile = 500  # 67 * 41 = 2747 pixels: five whole tiles and a part
        image = tiles.run(inputs["coords"], inputs["z"], inputs["scale"])
        assert image.shape == (41, 67, c_dim) and image.std() > 0.01
        np.testing.assert_allclose(image, expected, atol=1e-5)
        assert tiles.run(inputs["coords"], inputs["z"], inputs["scale"]) is image  # the buffer is reused
        tiles.close()
