"""The GAN trainer (trainers/gan) and its exporter (exporters/gan.py), through `latentstage train gan` where a
user would go: a tiny GAN learns the colours of its pictures, a resumed run is the unbroken run to the bit,
the exported file agrees with PyTorch and keeps the contract, bad input is one line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from exporters.gan import GanGraph, export_gan
from exporters.onnx import ExportError
from live.inference.model_card import PREFIX
from trainers.common.checkpoint import load_checkpoint
from trainers.gan.augment import diff_augment, parse_policy
from trainers.gan.cli import main
from trainers.gan.model import Discriminator, GanConfig, Generator

REPO = Path(__file__).resolve().parents[2]
ORANGE = np.array([0.8, 0.3, 0.1])
# a 16-pixel GAN small enough to train a few hundred steps in seconds
TINY_NETWORK = ["--resolution", "16", "--channel-base", "128", "--channel-max", "32", "--z-dim", "16",
                "--w-dim", "16", "--mapping-layers", "2"]
TINY = [*TINY_NETWORK, "--batch-size", "8", "--every", "0"]


@pytest.fixture(scope="module")
def orange(tmp_path_factory) -> Path:
    """Eight noisy orange pictures, some in a sub-folder (the trainer reads folders recursively)."""
    folder = tmp_path_factory.mktemp("orange")
    (folder / "more").mkdir()
    generator = np.random.default_rng(0)
    for index in range(8):
        pixels = np.clip(ORANGE + 0.05 * generator.standard_normal((24, 24, 3)), 0, 1)
        where = folder / "more" if index % 2 else folder
        Image.fromarray((pixels * 255).round().astype(np.uint8)).save(where / f"{index}.png")
    return folder


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _pictures(session: ort.InferenceSession, z: np.ndarray, psi: float | list[float] = 1.0) -> np.ndarray:
    truncation = np.broadcast_to(np.asarray(psi, np.float32), (len(z),)).copy()
    return session.run(["image"], {"z": z.astype(np.float32), "truncation": truncation})[0]


def _mean_colour_error(model: Path) -> float:
    pictures = _pictures(_session(model), np.random.default_rng(1).standard_normal((32, 16)))
    return float(np.abs(pictures.mean(axis=(0, 2, 3)) - ORANGE).mean())


def test_a_tiny_gan_learns_the_colour_of_its_pictures(orange, tmp_path):
    assert main([str(orange), "-o", str(tmp_path / "untrained"), "--steps", "0", *TINY]) == 0
    assert main([str(orange), "-o", str(tmp_path / "trained"), "--steps", "120", "--lr", "0.005", *TINY]) == 0
    before, after = (_mean_colour_error(tmp_path / run / "gan.onnx") for run in ("untrained", "trained"))
    # untrained pictures are about mid-gray (0.3 from orange); the EMA generator's must come close
    assert before > 0.15 and after < before / 3, (before, after)
    assert (tmp_path / "trained/samples.png").is_file() and (tmp_path / "trained/loss.png").is_file()
    checkpoint = load_checkpoint(tmp_path / "trained/gan.pt", "gan")
    assert checkpoint.provenance["pictures"] == 8 and checkpoint.provenance["train_seconds"] > 0
    assert set(checkpoint.losses) == {"g", "d", "r1", "d_accuracy"}


def test_a_resumed_run_is_the_unbroken_run_to_the_bit(orange, tmp_path):
    arguments = [str(orange), *TINY, "--r1-every", "4", "--no-export"]  # R1 steps in both halves
    assert main([*arguments, "-o", str(tmp_path / "whole"), "--steps", "10"]) == 0
    assert main([*arguments, "-o", str(tmp_path / "parts"), "--steps", "5"]) == 0
    assert main([*arguments, "-o", str(tmp_path / "parts"), "--steps", "10",
                 "--resume", str(tmp_path / "parts/gan.pt")]) == 0
    whole, parts = (load_checkpoint(tmp_path / run / "gan.pt", "gan") for run in ("whole", "parts"))
    assert parts.step == 10 and parts.losses == whole.losses
    for network, states in whole.networks.items():
        for name, tensor in states.items():
            assert torch.equal(parts.networks[network][name], tensor), f"{network}.{name}"
    assert parts.provenance["earlier_commands"][0].endswith("--steps 5")


def test_the_exported_file_keeps_the_contract_and_agrees_with_pytorch(tmp_path):
    torch.manual_seed(0)
    config = GanConfig(resolution=16, z_dim=12, w_dim=10, mapping_layers=2, channel_base=64, channel_max=16)
    generator = Generator(config)
    with torch.no_grad():
        generator.w_avg.normal_()  # a mean w away from zero, so truncation moves pictures
        for layer in generator.layers:
            layer.noise_strength.fill_(0.5)  # the baked noise shows
    report = export_gan(generator, tmp_path / "g.onnx", {"kid": "0.5"}, {"command": "pytest", "steps": 3})
    assert max(report.max_abs_error.values()) < 1e-4

    model = onnx.load(tmp_path / "g.onnx")
    assert [i.name for i in model.graph.input] == ["z", "truncation"] and model.graph.output[0].name == "image"
    card = {prop.key: prop.value for prop in model.metadata_props}
    assert card[PREFIX + "kind"] == "gan" and card[PREFIX + "z_dim"] == "12"
    # w_dim and resolution: card fields once the gan kind declares them (gan-live), under extra before
    assert [card.get(PREFIX + name, card.get(PREFIX + "extra." + name)) for name in ("w_dim", "resolution")] == ["10", "16"]
    assert card[PREFIX + "output_range"] == "0.0,1.0" and card[PREFIX + "channel_order"] == "RGB"
    assert card[PREFIX + "extra.kid"] == "0.5" and card[PREFIX + "steps"] == "3"

    session = _session(tmp_path / "g.onnx")
    z = np.random.default_rng(2).standard_normal((3, 12)).astype(np.float32)
    graph = GanGraph(generator.eval())
    for psi in (1.0, 0.5):  # two truncations, three latents in one batch (N is free)
        got = _pictures(session, z, psi)
        with torch.no_grad():
            want = graph(torch.from_numpy(z), torch.full((3,), psi)).numpy()
        assert got.shape == (3, 3, 16, 16) and 0 <= got.min() and got.max() <= 1
        np.testing.assert_allclose(got, want, atol=1e-4)
    # noise made from z: one z and psi is one picture, alone or in a batch; psi 0 is the mean picture for any z
    np.testing.assert_allclose(_pictures(session, z[1:2]), _pictures(session, z)[1:2], atol=1e-5)
    mean = _pictures(session, z, 0.0)
    np.testing.assert_allclose(mean[0], mean[2], atol=1e-5)
    assert np.abs(_pictures(session, z)[0] - _pictures(session, z)[2]).mean() > 1e-3


def test_each_latent_has_noise_of_its_own_and_truncation_pulls_it_to_the_fixed_noise():
    torch.manual_seed(0)
    generator = Generator(GanConfig(resolution=16, z_dim=32, w_dim=8, mapping_layers=1, channel_base=32,
                                    channel_max=8))
    layer = generator.layers[-1]
    z = torch.randn(2, 32)
    own = generator.latent_noise(layer, z, 1.0)
    assert own.shape == (2, 1, 16, 16) and 0.7 < own.std() < 1.3  # about N(0, 1) per pixel
    assert torch.equal(generator.latent_noise(layer, z, 1.0), own)  # a fixed function of z
    assert (own[0] - own[1]).abs().mean() > 0.5  # two latents, two noise maps
    assert (own - layer.fixed_noise).abs().mean() > 0.5
    torch.testing.assert_close(generator.latent_noise(layer, z, 0.0), layer.fixed_noise.expand(2, -1, -1, -1))
    half = generator.latent_noise(layer, z, 0.5)
    assert 0.7 < half.std() < 1.3  # still unit variance between the two
    # the projections are made again from their seeds: not in a checkpoint, the same in a new generator
    assert "layers.0.noise_projection" not in generator.state_dict()
    again = Generator(generator.config)
    assert torch.equal(again.layers[-1].noise_projection, layer.noise_projection)


class _RandomNoiseGraph(GanGraph):
    """A graph whose noise is drawn at each call: its pictures cannot match PyTorch's."""

    def forward(self, z, truncation):
        return ((self.generator(z, truncation=truncation, random_noise=True) + 1) / 2).clamp(0, 1)


def test_an_export_that_disagrees_with_pytorch_writes_nothing(tmp_path, monkeypatch):
    import exporters.gan

    generator = Generator(GanConfig(resolution=8, z_dim=4, w_dim=4, mapping_layers=1, channel_base=16,
                                    channel_max=4))
    with torch.no_grad():
        for layer in generator.layers:
            layer.noise_strength.fill_(1.0)
    monkeypatch.setattr(exporters.gan, "GanGraph", _RandomNoiseGraph)
    with pytest.raises(ExportError, match="ONNX Runtime disagrees with PyTorch"):
        export_gan(generator, tmp_path / "g.onnx")
    assert list(tmp_path.iterdir()) == []


def test_diff_augment_keeps_gradients_and_draws_each_picture_its_own():
    pictures = torch.zeros(6, 3, 16, 16, requires_grad=True)
    made = diff_augment(pictures + 0.5, parse_policy("color,translation,cutout"))
    made.sum().backward()
    assert pictures.grad is not None and pictures.grad.abs().sum() > 0
    assert len({round(float(picture.mean()), 5) for picture in made}) > 1
    with pytest.raises(ValueError, match="unknown augmentation blur"):
        parse_policy("color,blur")


def test_the_discriminator_sees_each_picture_with_its_group_and_the_widths_follow_the_config():
    config = GanConfig(resolution=32, channel_base=256, channel_max=32)
    assert [config.channels(r) for r in config.resolutions] == [32, 32, 16, 8]
    assert Discriminator(config)(torch.randn(6, 3, 32, 32)).shape == (6,)  # groups of 3 when 4 does not divide
    with pytest.raises(ValueError, match="power of two from 8 to 1024"):
        GanConfig(resolution=48)


def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    cases = ((["empty", "-o", "run"], "empty: no pictures"),
             (["missing", "-o", "run"], "missing: no such folder"),
             (["empty", "-o", "run", "--resolution", "100"], "power of two"),
             (["export", "--checkpoint", "nothing.pt", "-o", "g.onnx"], "nothing.pt: no such checkpoint file"))
    for arguments, message in cases:
        assert main(arguments) == 2, arguments
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and lines[0].startswith("latentstage train gan"), lines


def test_torchrun_trains_the_gan_on_two_processes_as_the_module_docstring_says(orange, tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "trainers.gan.cli", str(orange), "-o", str(tmp_path / "ddp"), "--steps", "4",
               "--r1-every", "2", "--device", "cpu", *TINY_NETWORK, "--batch-size", "4", "--every", "0"]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoint = load_checkpoint(tmp_path / "ddp/gan.pt", "gan")
    assert checkpoint.step == 4 and len(checkpoint.rng) == 2  # both processes' random states
    assert (tmp_path / "ddp/gan.onnx").is_file() and result.stdout.count("wrote ") == 1  # rank 0 speaks


def test_kid_is_plotted_as_it_trains_kept_across_a_resume_and_named_on_the_card(orange, tmp_path):
    arguments = [str(orange), "-o", str(tmp_path / "run"), *TINY, "--batch-size", "4", "--kid-every", "3"]
    assert main([*arguments, "--steps", "3", "--no-export"]) == 0
    assert main([*arguments, "--steps", "6", "--resume", str(tmp_path / "run/gan.pt")]) == 0
    measured = json.loads((tmp_path / "run/kid.json").read_text())
    assert measured["features"] == "ImageNet VGG16 pool5 features (128 px)"
    assert [figure["step"] for figure in measured["figures"]] == [3, 6]
    assert all(np.isfinite(figure["mean"]) and figure["samples"] == 8 for figure in measured["figures"])
    for picture in ("kid.png", "nearest.png"):
        assert Image.open(tmp_path / "run" / picture).size[0] > 200
    card = {prop.key: prop.value for prop in onnx.load(tmp_path / "run/gan.onnx").metadata_props}
    assert card[PREFIX + "extra.kid_features"] == measured["features"]
    assert card[PREFIX + "extra.kid"].startswith(f"{measured['figures'][-1]['mean']:.4f}")
    assert card[PREFIX + "extra.kid_step"] == "6"
