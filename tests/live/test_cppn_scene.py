import numpy as np

from live.cppn_scene import CppnScene, CppnSceneConfig
from live.engine import Engine, EngineConfig
from tests.conftest import REPO

FITTED = REPO / "models" / "cppn-astronaut.onnx"


def scene(**config) -> CppnScene:
    return CppnScene(Engine.load(FITTED, EngineConfig(providers="cpu")), CppnSceneConfig(**config))


def test_the_same_time_gives_the_same_picture_in_a_reused_buffer():
    s = scene(seed=5)
    first = s.render(1.25, 64, 36).copy()
    again = s.render(1.25, 64, 36)
    assert np.array_equal(first, again) and again.shape == (36, 64, 3) and again.dtype == np.uint8
    assert s.render(1.25, 64, 36) is again  # no allocation per frame
    assert not np.array_equal(first, s.render(2.5, 64, 36))


def test_wander_keeps_keyframes_near_the_fitted_latent():
    home = np.asarray(scene().engine.card.latent)
    wandering = scene(wander=0.05, keyframes=6).latents
    assert np.allclose(wandering[0], home)
    assert np.abs(wandering - home).max() <= 0.05 + 1e-6
    free = scene(keyframes=6).latents
    assert np.abs(free - home).max() > 0.3
