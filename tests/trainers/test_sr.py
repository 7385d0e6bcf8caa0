"""Super-resolution's training side: a tiny run learns beyond bicubic on a held-out picture, resume continues
the very same curve (perceptual loss through the ImageNet VGG-16 included), the held-out list stays out of
training, the degradation and PSNR do what they say, and the command refuses bad data in one line and
writes a parity-checked sr file with its card."""
from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from tests.onnx_graph import card_of
from tests.trainers.tiny import StopAfter
from trainers.common.metrics import psnr
from trainers.sr import data as sr_data
from trainers.sr.cli import main as sr_main
from trainers.sr.model import SRConfig, SRNetwork, bicubic
from trainers.sr.train import TrainConfig, train

# the fifth file (sorted) is held out with holdout_every=5: the cat, whose fur is the detail to recover
PICTURES = ("astronaut", "coffee", "rocket", "hubble_deep_field", "chelsea")


@pytest.fixture(scope="module")
def paintings(tmp_path_factory):
    """Five scikit-image pictures, their longest side 200 pixels, named so the cat is held out."""
    folder = tmp_path_factory.mktemp("pictures")
    for index, name in enumerate(PICTURES):
        picture = getattr(skimage.data, name)()
        ratio = 200 / max(picture.shape[:2])
        size = (round(picture.shape[1] * ratio), round(picture.shape[0] * ratio))
        small = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / f"{index}-{name}.png"), cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    return folder


def _config(paintings, tmp_path, **overrides) -> TrainConfig:
    settings = dict(data=str(paintings), out_dir=str(tmp_path / "run"), steps=150, patch=32, batch_size=8, lr=2e-3,
                    perceptual_weight=0.0, holdout_every=5, sample_every=0, network=SRConfig(width=16, blocks=1))
    return TrainConfig(**{**settings, **overrides})


def test_a_tiny_run_beats_bicubic_on_the_held_out_picture(paintings, tmp_path):
    result = train(_config(paintings, tmp_path))
    assert result.held_out == ["4-chelsea.png"]
    # the network starts as bicubic (its residual is zero); 150 steps of L1 learn to sharpen beyond it
    assert result.psnr > result.psnr_bicubic + 0.1, (result.psnr, result.psnr_bicubic)
    history = json.loads((tmp_path / "run" / "psnr.json").read_text())
    assert [entry["step"] for entry in history] == [150] and history[0]["sr"] > history[0]["bicubic"]
    for name in ("samples.png", "loss.png", "psnr.png", "sr.pt"):
        assert (tmp_path / "run" / name).stat().st_size > 1000, name
    # the triptych: bicubic | SR | original for the one held-out picture, 192 pixels a side each
    samples = cv2.imread(str(tmp_path / "run" / "samples.png"))
    assert samples.shape[:2] == (132, 3 * 132 + 4)


def test_an_untrained_network_is_bicubic_and_its_output_stays_in_range():
    network = SRNetwork(SRConfig(width=4, blocks=1)).eval()
    low = torch.rand(1, 3, 9, 13)
    with torch.no_grad():
        made = network(low)
    assert made.shape == (1, 3, 36, 52)
    assert torch.allclose(made, bicubic(low, 4).clamp(0, 1))


def test_a_resumed_run_continues_the_very_same_curve(paintings, tmp_path):
    config = _config(paintings, tmp_path, steps=4, perceptual_weight=0.02)  # the ImageNet VGG-16 in the loss
    unbroken = train(dataclasses.replace(config, out_dir=str(tmp_path / "unbroken")))
    assert set(unbroken.losses) == {"total", "pixel", "perceptual"}
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[StopAfter(2)])
    resumed = train(config, resume=tmp_path / "run" / "sr.pt")
    assert resumed.losses == unbroken.losses
    for name, value in unbroken.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], value), name
    # the PSNR history kept the stopped run's entry and added the resumed run's
    assert [entry["step"] for entry in json.loads((tmp_path / "run" / "psnr.json").read_text())] == [2, 4]


def test_the_held_out_pictures_are_never_trained_on(paintings):
    files = sr_data.painting_files(paintings)
    training, held = sr_data.split_held_out(files, 2)
    assert [path.name for path in held] == ["1-coffee.png", "3-hubble_deep_field.png"]
    assert not set(training) & set(held) and len(training) + len(held) == len(files)
    assert sr_data.split_held_out(files, 50)[1] == [files[-1]]  # at least one, even when every is large
    with pytest.raises(ValueError, match="at least 2 pictures"):
        sr_data.split_held_out(files[:1], 5)


def test_the_degradation_blurs_and_shrinks_and_the_fixed_one_averages():
    torch.manual_seed(0)
    high = torch.rand(2, 3, 32, 48)
    low = sr_data.degrade(high, 4, 1.0)
    assert low.shape == (2, 3, 8, 12)
    assert torch.equal(low, torch.round(low * 255) / 255)  # 8-bit levels, as a stored picture
    picture = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    assert np.array_equal(sr_data.downscale(picture, 4)[0, 0], np.round(picture[:4, :4].mean(axis=(0, 1))))
    blurred = sr_data.gaussian_blur(high, 1.0)
    assert blurred.shape == high.shape and blurred.std() < high.std()


def test_psnr():
    target = np.full((4, 4, 3), 0.5)
    assert psnr(target, target) == float("inf")
    assert psnr(target + 0.1, target) == pytest.approx(20.0)


def test_the_command_refuses_bad_data_in_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    for index in range(2):
        cv2.imwrite(str(tiny / f"{index}.png"), np.zeros((20, 20, 3), np.uint8))
    for folder, said in ((tmp_path / "nowhere", "no such folder of paintings"), (empty, "no pictures"),
                         (tiny, "smaller than the 96-pixel patches")):
        assert sr_main([str(folder), "-o", str(tmp_path / "run")]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and said in lines[0], lines
    assert sr_main([str(tiny), "-o", str(tmp_path / "run"), "--patch", "30"]) == 2
    assert "multiple of the scale 4" in capsys.readouterr().err


def test_the_command_trains_and_writes_an_sr_file_with_its_card(paintings, tmp_path, capsys):
    run = tmp_path / "run"
    assert sr_main([str(paintings), "-o", str(run), "--steps", "3", "--patch", "32", "--width", "8", "--blocks", "1",
                    "--holdout-every", "5", "--perceptual-weight", "0", "--data-licence", "scikit-image samples",
                    "--threads", "1"]) == 0
    said = capsys.readouterr().out
    assert "held-out PSNR over 1 paintings" in said and "max |ORT - torch|" in said
    card = card_of(run / "sr.onnx")
    assert (card.kind, card.scale, card.input, card.steps) == ("sr", 4.0, "rgb", 3)
    assert card.extra["held_out"] == "4-chelsea.png" and card.extra["data_licence"] == "scikit-image samples"
    assert float(card.extra["psnr_heldout_db"]) > 20 and float(card.extra["psnr_bicubic_heldout_db"]) > 20
    assert card.command.startswith("latentstage train sr ")
    # re-export from the checkpoint: the same card fields
    assert sr_main(["export", "--checkpoint", str(run / "sr.pt"), "-o", str(tmp_path / "again.onnx")]) == 0
    assert card_of(tmp_path / "again.onnx").extra["psnr_heldout_db"] == card.extra["psnr_heldout_db"]
