"""trainers.pix2pix.compare: exported models scored as the trainer scores them, and the sheet's blank page."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from exporters.onnx import export
from trainers.pix2pix.compare import Painter, main, score, sheet
from trainers.pix2pix.evaluate import evaluate
from trainers.pix2pix.model import Pix2PixConfig, Pix2PixGenerator
from trainers.pix2pix.pairs import PairSettings, side_by_side


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Two tiny generators as exported files: replicate padding (today's) and zero padding (the old)."""
    folder = tmp_path_factory.mktemp("compare")
    made = {}
    for padding in ("replicate", "zeros"):
        torch.manual_seed(1)
        generator = Pix2PixGenerator(Pix2PixConfig(base_channels=8, depth=3, upsample="resize", padding=padding)).eval()
        made[padding] = (generator, export(generator, folder / f"{padding}.onnx").path)
    return made


def test_an_exported_model_scores_as_the_trainer_scores_its_network(models, tmp_path):
    pairs = tmp_path / "val"
    pairs.mkdir()
    for index, picture in enumerate((data.chelsea()[:96, :96], data.coffee()[100:196, 200:296])):
        Image.fromarray(side_by_side(picture, PairSettings())).save(pairs / f"{index}.png")
    generator, path = models["replicate"]
    exported = score(Painter(path), pairs, 32)
    trained = evaluate(generator, pairs, tmp_path / "report", 32)
    assert exported.pairs == 2
    # the same pairs and metrics; only ONNX Runtime and the 8-bit output differ
    assert exported.l1 == pytest.approx(trained.l1, abs=2e-3) and exported.ssim == pytest.approx(trained.ssim, abs=1e-2)


def test_the_sheets_blank_page_shows_which_model_paints_a_frame(models, tmp_path):
    painters = [Painter(models["zeros"][1]), Painter(models["replicate"][1])]
    blank = np.full((16, 32), 255, np.uint8)
    zeros, replicate = (painter.paint(blank).astype(int) for painter in painters)
    assert np.ptp(replicate, axis=(0, 1)).max() <= 1 and np.ptp(zeros, axis=(0, 1)).max() > 1
    grid = sheet(painters, [data.astronaut()], side=48)
    assert grid.shape[1] == 4 * 48 + 3 * 4  # edges | two models | picture, 4-pixel gaps
    out = tmp_path / "sheet.jpg"
    assert main([str(models["zeros"][1]), str(models["replicate"][1]), "-o", str(out), "--side", "48"]) == 0
    assert Image.open(out).format == "JPEG"


def test_a_missing_model_is_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "none.onnx")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
