"""trainers.pix2pix.stills: many views of each still at several scales, whole stills held out, a real run."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest
from PIL import Image
from skimage import data

from tests.onnx_graph import card_of
from trainers import data_cli
from trainers.pix2pix import cli as train_cli
from trainers.pix2pix.pairs import PairSettings, network_input
from trainers.pix2pix.stills import StillViews, random_view, write_still_pairs

NAMES = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry")


@pytest.fixture(scope="module")
def stills(tmp_path_factory):
    """Five pictures of different sizes and aspects, as a folder of paintings would be."""
    folder = tmp_path_factory.mktemp("stills")
    for index, name in enumerate(NAMES):
        picture = Image.fromarray(getattr(data, name)())
        picture.thumbnail((120 + 20 * index, 120))
        picture.save(folder / f"{name}.png")
    return folder


def halves(path) -> tuple[np.ndarray, np.ndarray]:
    pair = np.asarray(Image.open(path).convert("RGB"))
    width = pair.shape[1] // 2
    return pair[:, :width], pair[:, width:]


def test_views_are_windows_at_several_scales_and_the_whole_at_scale_one():
    # red counts columns, green rows: a view's spread of each tells how much of the still it shows
    ramp = np.arange(256, dtype=np.uint8)
    still = Image.fromarray(np.stack([np.tile(ramp, (256, 1)), np.tile(ramp[:, None], (1, 256)),
                                      np.zeros((256, 256), np.uint8)], -1))
    rng = random.Random(0)

    def spreads(min_scale: float) -> list[int]:
        return [int(np.ptp(random_view(still, (64, 64), min_scale, rng)[..., 0])) for _ in range(60)]

    assert min(spreads(1.0)) > 245  # the whole width every time
    varied = spreads(0.25)
    assert min(varied) < 100 and max(varied) > 200  # close-ups and near-whole views both come
    mirrored = [random_view(still, (64, 64), 1.0, rng)[0, 0, 0] > 128 for _ in range(40)]
    assert 5 < sum(mirrored) < 35  # about half the views are mirrored (red falls left to right)


def test_whole_stills_are_held_out_and_every_training_view_is_edges_of_itself(stills, tmp_path):
    settings = PairSettings(size=(48, 40), seed=3)
    manifest = write_still_pairs(stills, tmp_path, settings, StillViews(views=3, hold_out=2))
    held = manifest["held_out"]
    train = sorted(path.name for path in (tmp_path / "train").iterdir())
    assert len(held) == 2 and manifest["val_pairs"] == 2 and manifest["train_pairs"] == len(train) == 9
    assert sorted(path.name for path in (tmp_path / "val").iterdir()) == sorted(held)
    assert not any(name.startswith(tuple(h[:-4] + "-" for h in held)) for name in train)  # none seen in training
    for name in held:  # the whole picture, squeezed to the pair size: nothing cut away
        edges, picture = halves(tmp_path / "val" / name)
        whole = np.asarray(Image.open(stills / name).convert("RGB").resize((48, 40), Image.Resampling.LANCZOS))
        np.testing.assert_array_equal(picture, whole)
    views = [halves(tmp_path / "train" / name) for name in train]
    for edges, picture in views:  # edges found on the view as shown, as live finds them
        assert picture.shape == (40, 48, 3)
        np.testing.assert_array_equal(edges[..., 0], network_input(picture, settings))
    assert len({picture.tobytes() for _, picture in views}) == 9
    assert json.loads((tmp_path / "pairs.json").read_text())["held_out"] == held


def test_bad_still_options_are_one_line(stills, tmp_path, capsys):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not read")
    assert data_cli.main(["pairs", str(video), "-o", str(tmp_path / "a"), "--views", "2"]) == 2
    assert data_cli.main(["pairs", str(stills), "-o", str(tmp_path / "b"), "--hold-out", "1"]) == 2
    assert data_cli.main(["pairs", str(stills), "-o", str(tmp_path / "c"), "--views", "2", "--hold-out", "5"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("latentstage data: error: ") for line in errors)
    assert "not a video" in errors[0] and "--views" in errors[1] and "nothing to train on" in errors[2]


def test_a_tiny_real_run_on_still_views_exports_a_flat_padded_model_with_held_out_figures(stills, tmp_path):
    pairs, run = tmp_path / "pairs", tmp_path / "run"
    assert data_cli.main(["pairs", str(stills), "-o", str(pairs), "--views", "4", "--hold-out", "1",
                          "--size", "40", "--min-scale", "0.5"]) == 0
    assert train_cli.main([str(pairs), "-o", str(run), "--width", "8", "--depth", "3", "--upsample", "resize",
                           "--load-size", "40", "--crop-size", "32", "--d-width", "8", "--steps", "4",
                           "--decay-steps", "2", "--every", "0", "--threads", "1", "--credit", "scikit-image"]) == 0
    card = card_of(run / "pix2pix.onnx")
    assert card.extra["padding"] == "replicate" and card.extra["heldout_pairs"] == "1"
    assert card.extra["credit"] == "scikit-image"
    assert card.extra["canny_sigma"] == "0.33" and 0 < float(card.extra["heldout_l1"]) < 1
    assert len(list((run / "test").iterdir())) == 1
