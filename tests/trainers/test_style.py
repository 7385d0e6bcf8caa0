"""Style transfer's training side: the VGG loss network and its weights check, the losses, fast training
(learning, resume), and Gatys stills (the loss falls, stop-eps stops early). Tiny pictures, random VGG."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from tests.trainers.tiny import StopAfter
from trainers.common.checkpoint import load_checkpoint
from trainers.style import losses
from trainers.style.gatys import GatysConfig, stylize
from trainers.style.model import StyleConfig
from trainers.style.train import TrainConfig, train
from trainers.style.vgg import (
    LAYER_INDEX,
    LossNetwork,
    LossNetworkInfo,
    VGGWeightsError,
    features_from_state,
    load_imagenet_features,
    loss_network,
    random_features,
)

# torchvision's vgg16().features: the indices of its 13 convolutions and the shapes of a few
TORCHVISION_CONVS = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)


def _picture(name: str, size: tuple[int, int]) -> torch.Tensor:
    """A scikit-image sample as (3, H, W) float in [0, 1] at size (width, height)."""
    pixels = np.asarray(Image.fromarray(getattr(data, name)()).resize(size, Image.Resampling.LANCZOS))
    return torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1).contiguous()


@pytest.fixture(scope="module")
def vgg() -> LossNetwork:
    return LossNetwork(random_features(0), LossNetworkInfo("vgg16-random", "seed 0"))


def test_torchvision_state_dict_keys_load_into_our_layout():
    reference = random_features(7).state_dict()
    state = {f"features.{key}": value for key, value in reference.items()}
    state["classifier.0.weight"] = torch.zeros(4096, 25088)  # the classifier is ignored, as we never use it
    assert sorted({int(key.split(".")[1]) for key in state if key.startswith("features.")}) == list(TORCHVISION_CONVS)
    assert state["features.28.weight"].shape == (512, 512, 3, 3) and state["features.0.weight"].shape == (64, 3, 3, 3)
    features = features_from_state(state, "test")
    assert all(torch.equal(features.state_dict()[key], value) for key, value in reference.items())


def test_a_weights_file_with_the_wrong_hash_is_refused_in_one_line(tmp_path):
    path = tmp_path / "vgg16-397923af.pth"  # the right name is not enough
    torch.save({f"features.{key}": value for key, value in random_features(0).state_dict().items()}, path)
    with pytest.raises(VGGWeightsError, match=r"SHA-256 .* is not torchvision's vgg16-397923af.pth") as refused:
        load_imagenet_features(path)
    assert "\n" not in str(refused.value)
    with pytest.raises(VGGWeightsError, match="no such VGG weights file"):
        loss_network(tmp_path / "missing.pth")


def test_without_weights_it_says_so_and_uses_the_seeded_random_network(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty cache
    said = []
    first, second = loss_network(None, seed=3, warn=said.append), loss_network(None, seed=3)
    assert len(said) == 1 and "random-weight VGG-16 (seed 3)" in said[0]
    assert first.info.name == "vgg16-random"
    picture = torch.rand(1, 3, 32, 32)
    a, b = first(picture, ("relu4_3",))["relu4_3"], second(picture, ("relu4_3",))["relu4_3"]
    assert torch.equal(a, b) and a.std() > 0, "random features are not seeded, or dead"


def test_the_loss_network_normalises_inside_and_reads_the_named_layers(vgg):
    picture = torch.rand(2, 3, 32, 40)
    found = vgg(picture, losses.STYLE_LAYERS)
    assert [found[name].shape[1] for name in losses.STYLE_LAYERS] == [64, 128, 256, 512]
    assert found["relu4_3"].shape[-2:] == (4, 5)  # three poolings
    assert set(LAYER_INDEX) >= set(losses.STYLE_LAYERS) | {losses.CONTENT_LAYER}
    assert not any(parameter.requires_grad for parameter in vgg.parameters())


def test_gram_and_the_temporal_loss_of_a_network_that_follows_motion():
    features = torch.randn(2, 5, 6, 7)
    gram = losses.gram(features)
    assert gram.shape == (2, 5, 5) and torch.allclose(gram, gram.transpose(1, 2))
    picture = torch.rand(2, 3, 24, 24)
    matrices = losses.random_affine(2, 2.0, 0.03, 0.03, torch.Generator().manual_seed(0))
    # the identity network follows any motion: no temporal loss; a network that adds noise does not
    assert losses.temporal_loss(losses.warp(picture, matrices), picture, matrices) == 0
    noisy = losses.warp(picture, matrices) + 0.1 * torch.randn(picture.shape)
    assert losses.temporal_loss(noisy, picture, matrices) > 1e-3


def _training_config(tmp_path, **overrides) -> TrainConfig:
    folder = tmp_path / "content"
    if not folder.is_dir():
        folder.mkdir()
        for name in ("astronaut", "coffee", "chelsea"):
            Image.fromarray(getattr(data, name)()).resize((48, 48)).save(folder / f"{name}.png")
        Image.fromarray(data.immunohistochemistry()).resize((48, 48)).save(tmp_path / "style.png")
    settings = dict(style=str(tmp_path / "style.png"), images=str(folder), out_dir=str(tmp_path / "run"), steps=16,
                    size=32, style_size=32, batch_size=2, sample_every=0, temporal_weight=1.0,
                    network=StyleConfig(base_channels=4, residual_blocks=1, slim=True))
    return TrainConfig(**{**settings, **overrides})


def test_a_few_fast_training_steps_lower_the_loss_and_write_samples(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    result = train(_training_config(tmp_path))
    total = result.losses["total"]
    assert set(result.losses) == {"total", "content", "style", "tv", "temporal"}
    assert np.mean(total[-4:]) < 0.5 * np.mean(total[:4]), total
    assert result.loss_network == "vgg16-random (seed 0)"
    assert result.flicker > 0 and result.input_flicker > 0
    grid = np.asarray(Image.open(result.samples))
    assert grid.shape == (2 * 32 + 2, 4 * 32 + 3 * 2, 3)  # style + 3 contents, over their styled versions
    checkpoint = load_checkpoint(result.checkpoint, "style")
    assert checkpoint.step == 16 and checkpoint.provenance["loss_network"] == "vgg16-random (seed 0)"


def test_a_resumed_run_continues_the_very_same_curve(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    config = _training_config(tmp_path, steps=6)
    unbroken = train(dataclasses.replace(config, out_dir=str(tmp_path / "unbroken")))
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[StopAfter(3)])
    resumed = train(config, resume=tmp_path / "run" / "style.pt")
    assert resumed.losses == unbroken.losses
    for name, value in unbroken.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], value), name


def test_gatys_loss_falls_and_stop_eps_stops_it_early(vgg):
    content, style = _picture("chelsea", (40, 28)), _picture("immunohistochemistry", (40, 28))
    result = stylize(content, [style], [1.0], vgg, GatysConfig(max_epochs=60))
    total = result.losses["total"]
    assert result.stopped_early and result.epochs < 60, result.losses["change"]
    assert result.losses["change"][-1] < 0.005 <= max(result.losses["change"])
    assert total[-1] < 0.8 * total[0], total
    assert result.image.shape == content.shape and 0 <= result.image.min() and result.image.max() <= 1
    assert (result.image - content).abs().mean() > 0.01, "the picture did not change"


def test_gatys_with_adam_from_noise_and_two_weighted_styles_lowers_the_loss(vgg):
    content = _picture("astronaut", (24, 24))
    styles = [_picture("immunohistochemistry", (24, 24)), _picture("coffee", (24, 24))]
    result = stylize(content, styles, [3.0, 1.0], vgg,
                     GatysConfig(optimizer="adam", init="noise", max_epochs=15, stop_eps=0.0))
    assert result.epochs == 15 and not result.stopped_early
    assert result.losses["total"][-1] < 0.8 * result.losses["total"][0]
    with pytest.raises(ValueError, match="one weight for each style"):
        stylize(content, styles, [1.0], vgg, GatysConfig(max_epochs=1))


def test_a_video_serves_as_the_content_pictures(tmp_path):
    from tests.conftest import write_test_video
    from trainers.style.train import CROP_MARGIN, content_dataset

    video = write_test_video(tmp_path / "clip.mp4", frames=20, fps=10, size=(96, 64))
    dataset = content_dataset(_training_config(tmp_path, images=str(video)))
    assert len(dataset) == 4  # two frames a second of a two-second clip
    side = round(32 * CROP_MARGIN)
    assert dataset[0].shape == (3, side, side) and max(frame.max() for frame in dataset) > 0.5  # the square
