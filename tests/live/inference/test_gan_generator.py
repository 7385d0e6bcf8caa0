"""A GAN file through ONNX Runtime: its card kind, its pictures, truncation, and the files it refuses."""
from pathlib import Path

import numpy as np
import onnx
import pytest

from live.inference.engine import EngineConfig, EngineError
from live.inference.gan_generator import GanGenerator, gaussian_latents
from live.inference.model_card import ModelCard, ModelCardError
from tests.conftest import REPO


def load(path: Path) -> GanGenerator:
    return GanGenerator.load(path, EngineConfig(providers="cpu"))


def test_the_card_kind_gan_reads_its_latent_sizes_and_resolution(tiny_gan):
    card = load(tiny_gan).engine.card
    assert (card.kind, card.z_dim, card.w_dim, card.resolution, card.input) == ("gan", 16, 16, 64, "latent")
    assert "z=16 w=16 64x64" in card.describe()


def test_a_gan_card_without_its_resolution_is_refused_in_one_line(tiny_gan):
    props = {p.key: p.value for p in onnx.load(tiny_gan).metadata_props}
    del props["latentstage.resolution"]
    with pytest.raises(ModelCardError, match="a gan model must give z_dim, w_dim and resolution"):
        ModelCard.from_metadata(props, "gan.onnx")


def test_the_same_latent_gives_the_same_picture_and_others_differ(tiny_gan):
    generator = load(tiny_gan)
    z_a, z_b = gaussian_latents(1, 2, generator.z_dim)
    first = generator.picture(z_a, 0.7).copy()
    assert first.shape == (64, 64, 3) and first.dtype == np.uint8
    assert np.array_equal(first, generator.picture(z_a, 0.7))
    assert np.abs(first.astype(int) - generator.picture(z_b, 0.7)).mean() > 5
    batch = generator.pictures(np.stack([z_a, z_b]), 0.7)
    assert batch.shape == (2, 64, 64, 3) and np.array_equal(batch[0], first)


def test_truncation_pulls_every_latent_towards_the_one_mean_picture(tiny_gan):
    generator = load(tiny_gan)
    latents = gaussian_latents(2, 4, generator.z_dim)
    mean = generator.pictures(latents, 0.0)
    assert all(np.array_equal(picture, mean[0]) for picture in mean)  # psi 0: the mean picture, whatever z
    spread = [generator.pictures(latents, psi).astype(float).std(axis=0).mean() for psi in (0.3, 0.7, 1.0)]
    assert spread[0] < spread[1] < spread[2], spread


def test_files_of_another_kind_are_refused_before_a_session_opens(tmp_path):
    with pytest.raises(EngineError, match="a cppn model, not a GAN generator"):
        load(REPO / "models" / "cppn-tanh.onnx")
    # a file whose card claims gan but whose graph lacks the contract's inputs
    with pytest.raises(EngineError, match="a GAN file takes z and truncation"):
        GanGenerator.__init__(object.__new__(GanGenerator), _engine_of(REPO / "models" / "cppn-tanh.onnx", tmp_path))


def _engine_of(cppn: Path, folder: Path):
    """An engine over a CPPN file whose card was rewritten to say gan."""
    from live.inference.engine import Engine

    model = onnx.load(cppn)
    props = {p.key: p.value for p in model.metadata_props}
    props.update({"latentstage.kind": "gan", "latentstage.w_dim": "8", "latentstage.resolution": "16"})
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, props)
    path = folder / "liar.onnx"
    onnx.save(model, path)
    return Engine.load(path, EngineConfig(providers="cpu"))


def test_gaussian_latents_are_seeded_and_standard_normal():
    latents = gaussian_latents(3, 400, 64)
    assert np.array_equal(latents, gaussian_latents(3, 400, 64)) and latents.dtype == np.float32
    assert abs(latents.mean()) < 0.02 and abs(latents.std() - 1) < 0.02
    with pytest.raises(ValueError):
        gaussian_latents(0, 0, 8)



def test_a_card_that_wrote_w_dim_and_resolution_under_extra_reads_them_as_its_fields(tiny_gan):
    props = {p.key: p.value for p in onnx.load(tiny_gan).metadata_props}
    for name in ("w_dim", "resolution"):  # as the first GAN exports wrote them
        props[f"latentstage.extra.{name}"] = props.pop(f"latentstage.{name}")
    card = ModelCard.from_metadata(props, "first-export.onnx")
    assert (card.w_dim, card.resolution) == (16, 64)
