"""trainers.pix2pix.train: learning happens, a resumed run is the same run, bad pairs are named."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from tests.trainers.tiny import StopAfter
from trainers.common.metrics import ssim
from trainers.pix2pix.evaluate import evaluate
from trainers.pix2pix.model import Pix2PixConfig
from trainers.pix2pix.pairs import PairSettings, side_by_side
from trainers.pix2pix.train import (
    CHECKPOINT_NAME,
    PairFolder,
    TrainConfig,
    linear_decay,
    train,
)

TINY_NETWORK = {"base_channels": 8, "depth": 3}


def pair_folder(folder, pictures) -> str:
    folder.mkdir(parents=True)
    for index, picture in enumerate(pictures):
        Image.fromarray(side_by_side(picture, PairSettings())).save(folder / f"{index:03d}.png")
    return str(folder)


def tiny_config(pairs: str, out_dir, **overrides) -> TrainConfig:
    settings = {"steps": 6, "decay_steps": 3, "load_size": 40, "crop_size": 32, "every": 0, "d_width": 8,
                "network": Pix2PixConfig(**TINY_NETWORK), "lr": 2e-3, **overrides}
    return TrainConfig(pairs=pairs, out_dir=str(out_dir), **settings)


def test_a_tiny_run_overfits_one_fixed_pair(tmp_path):
    # no crops or flips: the one pair is the whole task, and L1 must fall well below its start
    pairs = pair_folder(tmp_path / "pairs", [data.chelsea()[100:164, 180:244]])
    config = tiny_config(pairs, tmp_path / "run", steps=150, decay_steps=0, load_size=32, flip=False)
    result = train(config)
    l1 = result.losses["g_l1"]
    assert np.mean(l1[-10:]) < 0.5 * np.mean(l1[:5])
    assert (tmp_path / "run/samples.png").is_file() and (tmp_path / "run/loss.png").is_file()


def test_a_resumed_run_continues_the_same_curve_to_the_bit(tmp_path):
    pictures = [data.astronaut()[i * 40:i * 40 + 48, 100:148] for i in range(3)]
    pairs = pair_folder(tmp_path / "pairs", pictures)
    straight = train(tiny_config(pairs, tmp_path / "straight", steps=6))
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(pairs, tmp_path / "split", steps=6), callbacks=[StopAfter(3)])
    resumed = train(tiny_config(pairs, tmp_path / "split", steps=6), resume=tmp_path / "split" / CHECKPOINT_NAME)
    assert resumed.losses == straight.losses
    for name, network in straight.recipe.networks.items():
        for (key, value), other in zip(network.state_dict().items(), resumed.recipe.networks[name].state_dict().values()):
            assert torch.equal(value, other), f"{name}.{key}"


def test_pairs_kept_at_their_own_size_are_cropped_at_that_scale_and_judged_whole(tmp_path):
    # a film's frames, wider than high: load size 0 crops them as they are, as `render` shows them
    pictures = [data.astronaut()[i * 30:i * 30 + 40, 60:124] for i in range(3)]
    pairs = pair_folder(tmp_path / "pairs", pictures)
    result = train(tiny_config(pairs, tmp_path / "run", load_size=0, crop_size=32,
                               network=Pix2PixConfig(**TINY_NETWORK, upsample="resize")))
    assert len(result.losses["g_l1"]) == 6
    source, target = PairFolder(pairs, 0, 1)[0]
    assert source.shape == (1, 40, 64) and target.shape == (3, 40, 64)
    report = evaluate(result.recipe.generator, pairs, tmp_path / "report", 0)
    triptych = np.asarray(Image.open(next((tmp_path / "report/test").iterdir())))
    assert report.size == 0 and triptych.shape[0] == 40  # whole height (a multiple of 8), not a crop
    with pytest.raises(ValueError, match="smaller than the 48 crop"):
        train(tiny_config(pairs, tmp_path / "big", load_size=0, crop_size=48))


def test_the_learning_rate_holds_then_falls_linearly_to_nearly_zero():
    factor = linear_decay(steps=10, decay_steps=4)
    assert [round(factor(step), 2) for step in range(11)] == [1, 1, 1, 1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2]


def test_held_out_report_scores_a_perfect_copy_as_perfect(tmp_path):
    class Copy(torch.nn.Module):  # the generator's interface, giving back the target it was trained on
        config = Pix2PixConfig(**TINY_NETWORK)

        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(()))

        def forward(self, source):
            return self.target * 2 - 1 + self.weight

    picture = data.coffee()[:64, :64]
    pairs = pair_folder(tmp_path / "val", [picture])
    copy = Copy()
    copy.target = PairFolder(pairs, 32, 1)[0][1][None]
    report = evaluate(copy, pairs, tmp_path / "report", 32)
    assert report.pairs == 1 and report.l1 < 1e-6 and report.ssim > 0.9999
    assert (tmp_path / "report/test_sheet.png").is_file() and "| 1 | 32 |" in (tmp_path / "report/report.md").read_text()


def test_ssim_is_scikit_images():
    from skimage.metrics import structural_similarity

    clean = data.astronaut()[:96, :128] / 255.0
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.08, clean.shape), 0, 1)
    expected = structural_similarity(clean, noisy, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=1.0, channel_axis=2)
    assert ssim(clean, noisy) == pytest.approx(expected, abs=1e-9)


def test_pairs_that_are_not_two_halves_are_refused_by_name(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    Image.fromarray(np.zeros((32, 63, 3), np.uint8)).save(folder / "odd.png")
    with pytest.raises(ValueError, match="odd.png: 63x32 is not two halves"):
        PairFolder(folder, 32, 1)[0]


def test_a_crop_the_generator_cannot_run_is_refused_before_training():
    with pytest.raises(ValueError, match="not a multiple of 8"):
        tiny_config("pairs", "out", crop_size=36)
