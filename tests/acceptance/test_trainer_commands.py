"""Acceptance: the CPPN trainer's commands through the installed `latentstage` (PyTorch is installed here).

README promises checked here:
- `latentstage cppn walk -o OUT.gif|OUT.mp4 [--keyframes K --steps N --interp slerp|linear --loop]`: "a latent
  walk", as a GIF and as an MP4 with the frame count the keyframes and steps make, linear differing from slerp
  between keyframes and meeting it on them;
- `latentstage cppn export -o OUT.onnx [--fp16]`: "export a CPPN with the model contract", which
  `latentstage check` accepts and a show rehearses with;
- `latentstage cppn fit IMAGE -o DIR [--resume CKPT]`: "train a CPPN to reproduce a picture, with progress,
  previews, a loss plot and a resumable checkpoint", and a resumed fit continues the same loss curve.

Commands that do not depend on each other run side by side: each spends most of its time importing torch.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import onnx
import yaml
from PIL import Image, ImageSequence
from skimage import data

from tests.acceptance.test_run_options import rehearsed
from tests.conftest import installed_command, latentstage

SMALL = ["--width", "32", "--height", "24", "--threads", "1"]  # a small picture, one torch thread per process


def run_side_by_side(folder: Path, *commands: list[str], timeout: float = 300) -> list[subprocess.CompletedProcess]:
    """`latentstage COMMAND` for each, all started at once, each waited for; their results in order."""
    processes = [subprocess.Popen([installed_command(), *command], cwd=folder,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for command in commands]
    results = []
    try:
        for command, process in zip(commands, processes):
            out, errors = process.communicate(timeout=timeout)
            results.append(subprocess.CompletedProcess(command, process.returncode, out, errors))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for result in results:
        assert result.returncode == 0, f"{' '.join(result.args)}:\n{result.stderr[-3000:]}"
    return results


def gif_frames(path: Path) -> list[np.ndarray]:
    with Image.open(path) as gif:
        return [np.asarray(frame.convert("RGB")).astype(int) for frame in ImageSequence.Iterator(gif)]


def test_walk_writes_linear_and_slerp_walks_as_gif_and_mp4_with_the_frames_asked_for(tmp_path):
    walk = ["cppn", "walk", "--keyframes", "3", "--steps", "4", *SMALL]
    linear_gif, linear_mp4, slerp_gif = run_side_by_side(
        tmp_path,
        [*walk, "--interp", "linear", "-o", "linear.gif"],
        [*walk, "--interp", "linear", "-o", "linear.mp4"],
        [*walk, "--interp", "slerp", "-o", "slerp.gif"])
    frames = 2 * 4 + 1  # two segments of 4 steps from keyframe to keyframe, and the last keyframe
    for result, name in ((linear_gif, "linear.gif"), (linear_mp4, "linear.mp4"), (slerp_gif, "slerp.gif")):
        assert f"wrote {frames} frames to {name}" in result.stdout, result.stdout
    linear, slerp = gif_frames(tmp_path / "linear.gif"), gif_frames(tmp_path / "slerp.gif")
    assert len(linear) == len(slerp) == frames and linear[0].shape == (24, 32, 3)
    with av.open(str(tmp_path / "linear.mp4")) as container:
        movie = [frame.to_ndarray(format="rgb24").astype(int) for frame in container.decode(video=0)]
    assert len(movie) == frames and movie[0].shape == (24, 32, 3)
    # the MP4 and the GIF show one walk, frame for frame (compared by brightness: H.264 halves the colour detail)
    luma = np.array([0.299, 0.587, 0.114])
    nearest = [int(np.argmin([np.abs((frame - still) @ luma).mean() for still in linear])) for frame in movie]
    assert nearest == list(range(frames)), nearest
    # both interpolations visit the same keyframes (frames 0, 4 and 8) and part between them
    for keyframe in (0, 4, 8):
        assert np.array_equal(linear[keyframe], slerp[keyframe]), keyframe
    assert max(np.abs(linear[i] - slerp[i]).mean() for i in (1, 2, 3, 5, 6, 7)) > 3, "linear and slerp are the same"
    assert np.abs(linear[0] - linear[4]).mean() > 3, "the walk does not move"


def astronaut_png(path: Path) -> Path:
    Image.fromarray(data.astronaut()).resize((64, 64)).save(path)
    return path


def test_an_fp16_export_passes_check_and_rehearses_and_a_fit_resumes_its_curve(tmp_path):
    from trainers.common.checkpoint import load_checkpoint

    picture = astronaut_png(tmp_path / "astronaut.png")
    fit = ["cppn", "fit", str(picture), "-o", "fit", "--size", "16", "--net-size", "8", "--depth", "2",
           "--preview-every", "0", "--threads", "1"]
    export = ["cppn", "export", "--fp16", "-o", "cppn-fp16.onnx", "--threads", "1"]
    exported, first = run_side_by_side(tmp_path, export, [*fit, "--steps", "20"])

    # the export: a half-precision file with the model contract, which a show names and rehearses
    assert "wrote cppn-fp16.onnx (fp16; cppn in=latent" in exported.stdout and "max |ORT - torch|" in exported.stdout
    model = onnx.load(tmp_path / "cppn-fp16.onnx")
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    assert metadata["latentstage.kind"] == "cppn" and metadata["latentstage.extra.precision"] == "fp16"
    assert onnx.TensorProto.FLOAT16 in {tensor.data_type for tensor in model.graph.initializer}
    show = tmp_path / "fp16.yaml"
    scene = {"name": "half", "kind": "cppn", "model": "cppn-fp16.onnx",
             "cppn": {"seed": 3, "keyframes": 3, "period": 0.5}}
    show.write_text(yaml.safe_dump({"output": {"width": 160, "height": 90, "fps": 30}, "scenes": [scene]}))
    checked = latentstage("check", str(show), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "scene 'half': cppn-fp16.onnx (cppn in=latent out=HWC" in checked.stdout and "ok, 1 scenes" in checked.stdout
    frames = rehearsed(show, "frames", 1.0)
    assert len(frames) == 30 and frames[0].shape == (90, 160, 3)
    assert frames[0].std() > 10, "a blank picture from the fp16 model"
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 2, "the latent did not morph"

    # the fit: its files, then a resume that continues the same loss curve to 40 steps
    checkpoint = tmp_path / "fit" / "cppn.pt"
    for name in ("cppn.pt", "preview.png", "loss.png"):
        assert (tmp_path / "fit" / name).is_file() and name in first.stdout, first.stdout
    before = load_checkpoint(checkpoint, "cppn")
    assert before.step == 20 and len(before.losses["mse"]) == 20
    (resumed,) = run_side_by_side(tmp_path, [*fit, "--steps", "40", "--resume", str(checkpoint)])
    after = load_checkpoint(checkpoint, "cppn")
    assert after.step == 40 and after.losses["mse"][:20] == before.losses["mse"], "the first 20 steps changed"
    # it continued the saved run (a fresh 40-step fit would give the same curve: that is what resuming promises)
    assert after.provenance["earlier_commands"] == [before.provenance["command"]], after.provenance
    assert "--resume" in after.provenance["command"] and "--resume" not in before.provenance["command"]
    assert min(after.losses["mse"][20:]) < min(before.losses["mse"]), "40 steps fit no better than 20"
    first_mse = first.stdout.split("MSE ")[1].split(" ->")[0]
    assert f"MSE {first_mse} -> " in resumed.stdout, resumed.stdout  # its history starts where the first run did
