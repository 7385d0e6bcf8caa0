"""live.inference.upscaler: an sr model run tile by tile gives the picture ONNX Runtime gives whole; other
kinds of model are refused in one line; the "sr" card kind reads back whichever module came first."""
from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch

from exporters.onnx import export
from live.inference.engine import Engine, EngineConfig, EngineError
from live.inference.upscaler import Upscaler, _windows, upscale_to
from tests.conftest import REPO
from tests.onnx_graph import card_of
from trainers.sr.model import SRConfig, SRNetwork


@pytest.fixture(scope="module")
def sr_file(tmp_path_factory):
    """A small sr network with random (not zero) residual weights, so tiles that saw too little of the
    picture around them would show."""
    torch.manual_seed(5)
    network = SRNetwork(SRConfig(width=8, blocks=1))
    torch.nn.init.normal_(network.tail.weight, std=0.05)
    path = tmp_path_factory.mktemp("sr") / "sr.onnx"
    export(network, path)
    return path


def test_tiles_give_the_whole_picture(sr_file):
    picture = skimage.data.coffee()[:150, :203]  # odd width: tiles of 64 end in a part tile each way
    whole = Engine.load(sr_file, EngineConfig(providers="cpu"))
    planes = (picture.transpose(2, 0, 1)[None] / 255.0).astype(np.float32)
    expected = np.clip(whole.run({"image": planes})["output"][0].transpose(1, 2, 0) * 255 + 0.5, 0, 255).astype(np.uint8)
    upscaler = Upscaler.load(sr_file, EngineConfig(providers="cpu"), tile=64, margin=8)
    made = upscaler.upscale(picture)
    assert made.shape == (600, 812, 3)
    assert np.abs(made.astype(int) - expected).max() <= 1  # float rounding at most, no seams
    assert upscaler.upscale(picture) is made  # the buffer is reused at the same size
    assert [size for signature in whole.input_shapes() for size in signature.values()] == [(1, 3, 150, 203)]
    assert len(upscaler.engine.input_shapes()) == 1  # every tile window has one shape


def test_windows_cover_the_axis_with_their_margin():
    for length in (1, 63, 64, 80, 81, 200, 1024):
        windows = _windows(length, 64, 8)
        assert [start for start, *_ in windows] == list(range(0, length, 64))
        assert windows[-1][1] == length
        for start, end, window_start, window_end in windows:
            assert window_end - window_start == min(length, 80)
            assert 0 <= window_start <= start and end <= window_end <= length
            # context on each side wherever the picture has it
            assert start - window_start >= min(8, start) and window_end - end >= min(8, length - end)


def test_a_smaller_scale_shrinks_the_output_and_a_larger_one_is_refused(sr_file):
    upscaler = Upscaler.load(sr_file, EngineConfig(providers="cpu"))
    picture = skimage.data.astronaut()[::8, ::8]  # 64 x 64
    assert upscale_to(upscaler, picture, 2).shape == (128, 128, 3)
    with pytest.raises(ValueError, match="upscales 4x, so 1 to 4 only"):
        upscale_to(upscaler, picture, 8)


def test_other_kinds_and_missing_files_are_refused_in_one_line(tmp_path):
    with pytest.raises(EngineError, match="a style model, not a super-resolution") as refused:
        Upscaler.load(REPO / "models" / "style-cezanne-slim.onnx")
    assert "\n" not in str(refused.value)
    with pytest.raises(EngineError, match="no such model file"):
        Upscaler.load(tmp_path / "missing.onnx")


def test_the_card_says_sr_and_its_scale(sr_file):
    card = card_of(sr_file)
    assert (card.kind, card.input, card.scale) == ("sr", "rgb", 4.0)
    assert "scale=x4" in card.describe()


def test_an_sr_card_reads_in_a_process_that_never_imported_the_upscaler(sr_file):
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from live.inference.engine import read_card; "
            "card = read_card(Path(sys.argv[1])); assert 'live.inference.upscaler' in sys.modules; print(card.kind)")
    done = subprocess.run([sys.executable, "-c", code, str(sr_file)], capture_output=True, text=True, cwd=REPO)
    assert (done.returncode, done.stdout.strip()) == (0, "sr"), done.stderr
