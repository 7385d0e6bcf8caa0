"""The CPPN trainer end to end: stills at 4K, walks as GIF and MP4, fitting a real picture,
checkpoints, stopping and resuming a fit, ONNX export through the CLI, and one-line errors for bad input."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import onnx
import pytest
import torch
from PIL import Image, ImageSequence
from skimage import data

from live.scenes.cppn_math import coordinates
from live.inference.model_card import ModelCard
from tests.trainers.tiny import StopAfter
from trainers.common import checkpoint as common
from trainers.common.checkpoint import CheckpointError
from trainers.common.images import save_png
from trainers.cppn.checkpoint import load_checkpoint
from trainers.cppn.cli import main
from trainers.cppn.fit import CPPNFit, FitConfig, fit
from trainers.cppn.model import ARCHITECTURES, CPPN, CPPNConfig
from trainers.cppn.sample import walk_frame_count, write_walk

REPO = Path(__file__).resolve().parents[2]
SMALL_NETWORK = ["--net-size", "8", "--depth", "2"]  # keeps renders cheap; the CLI path is what is tested


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """The test machine's cores are shared: one thread avoids torch's workers waiting on busy cores
    (measured: a 48 px fit took 3 s on one thread, 42 s on two, with other jobs running)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="module")
def astronaut_png(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pictures") / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


@pytest.fixture(scope="module")
def fitted(astronaut_png, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("fit")
    config = FitConfig(image=str(astronaut_png), out_dir=str(out_dir), steps=150, size=48, preview_every=50,
                       command="pytest fit")
    return fit(config)


def test_sample_writes_a_4k_png_of_exactly_that_size(tmp_path):
    out = tmp_path / "still.png"
    assert main(["sample", "-o", str(out), "--width", "3840", "--height", "2160", "--keep-aspect",
                 *SMALL_NETWORK]) == 0
    with Image.open(out) as image:
        assert image.size == (3840, 2160)
        assert image.mode == "RGB"
        corner = np.asarray(image.crop((0, 0, 256, 256)))
    assert corner.std() > 1.0  # a picture, not a flat fill


def test_seeds_name_pictures(tmp_path):
    def still(name: str, *options: str) -> np.ndarray:
        assert main(["sample", "-o", str(tmp_path / name), "--width", "96", "--height", "64", *options]) == 0
        return pixels(tmp_path / name)

    first, again, other = still("a.png", "--seed", "1"), still("b.png", "--seed", "1"), still("c.png", "--seed", "2")
    np.testing.assert_array_equal(first, again)
    assert np.abs(first.astype(int) - other.astype(int)).mean() > 5
    other_latent = still("d.png", "--seed", "1", "--latent-seed", "7")
    assert np.abs(first.astype(int) - other_latent.astype(int)).mean() > 1


def test_reinit_prints_a_seed_that_reproduces_the_picture(tmp_path, capsys):
    assert main(["sample", "-o", str(tmp_path / "r.png"), "--width", "64", "--height", "64", "--reinit"]) == 0
    seed = capsys.readouterr().out.split("--seed ")[1].split(")")[0]
    assert main(["sample", "-o", str(tmp_path / "s.png"), "--width", "64", "--height", "64", "--seed", seed]) == 0
    np.testing.assert_array_equal(pixels(tmp_path / "r.png"), pixels(tmp_path / "s.png"))


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_architecture_draws_a_picture_in_range(arch):
    model = CPPN(CPPNConfig(arch=arch, seed=3))
    image = model.render(80, 60, torch.linspace(-1, 1, 8))
    assert image.shape == (60, 80, 3)
    assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
    assert float(image.std()) > 0.02, f"{arch} drew a flat picture"


def test_gray_network_saves_a_gray_png(tmp_path):
    image = CPPN(CPPNConfig(c_dim=1)).render(40, 30, torch.zeros(8))  # (30, 40, 1)
    with Image.open(save_png(image, tmp_path / "gray.png")) as png:
        assert png.mode == "L" and png.size == (40, 30)
        np.testing.assert_array_equal(np.asarray(png), np.rint(image[..., 0].numpy() * 255).astype(np.uint8))


def decoded_frames(path: Path) -> tuple[int, tuple[int, int]]:
    """(frames, (width, height)) as a player sees them."""
    if path.suffix == ".gif":
        with Image.open(path) as gif:
            return gif.n_frames, gif.size
    with av.open(str(path)) as container:
        frames = [frame for frame in container.decode(video=0)]
    return len(frames), (frames[0].width, frames[0].height)


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
@pytest.mark.parametrize("loop", [False, True])
def test_walk_frame_counts_follow_keyframes_and_steps(tmp_path, capsys, suffix, loop):
    out = tmp_path / f"walk{suffix}"
    # 3 keyframes, 5 steps each: 2 segments + the last keyframe, or 3 segments when looping
    expected = 3 * 5 if loop else 2 * 5 + 1
    options = ["--loop"] if loop else []
    assert main(["walk", "-o", str(out), "--keyframes", "3", "--steps", "5", "--width", "40", "--height", "32",
                 "--fps", "12", *options, *SMALL_NETWORK]) == 0
    assert f"wrote {expected} frames" in capsys.readouterr().out
    assert decoded_frames(out) == (expected, (40, 32))
    assert walk_frame_count(3, 5, loop) == expected  # the progress bar's total


def test_mp4_walk_with_odd_size_is_cropped_to_even_and_says_so(tmp_path, capsys):
    out = tmp_path / "odd.mp4"
    assert main(["walk", "-o", str(out), "--keyframes", "2", "--steps", "2", "--width", "41", "--height", "31",
                 *SMALL_NETWORK]) == 0
    assert "needs even sides" in capsys.readouterr().err
    assert decoded_frames(out) == (3, (40, 30))


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_a_walk_without_frames_is_refused_and_leaves_no_file(tmp_path, suffix):
    out = tmp_path / f"empty{suffix}"
    with pytest.raises(ValueError, match="at least one frame"):
        write_walk(iter([]), out, fps=30)
    assert not out.exists()


def test_gif_walk_runs_at_the_asked_frame_rate(tmp_path):
    out = tmp_path / "timed.gif"
    assert main(["walk", "-o", str(out), "--keyframes", "2", "--steps", "3", "--fps", "20", "--width", "24",
                 "--height", "24", *SMALL_NETWORK]) == 0
    with Image.open(out) as gif:
        assert gif.info["duration"] == 50  # milliseconds per frame at 20 fps
        assert gif.info["loop"] == 0  # forever
    # 30 fps does not fit whole centiseconds: 3, 3, 4 cs... keeps the walk's length right
    assert main(["walk", "-o", str(out), "--keyframes", "2", "--steps", "29", "--fps", "30", "--width", "24",
                 "--height", "24", *SMALL_NETWORK]) == 0
    with Image.open(out) as gif:
        delays = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
    assert len(delays) == 30 and sum(delays) == 1000


def test_fit_to_a_real_picture_lowers_the_loss_and_writes_its_artifacts(fitted):
    history = fitted.loss_history
    assert len(history) == 150
    assert history[-1] < 0.5 * history[0], f"loss went {history[0]:.4f} -> {history[-1]:.4f}"
    with Image.open(fitted.preview) as preview:
        assert preview.size == (2 * 48, 48)  # target | current, astronaut is square
    with Image.open(fitted.loss_plot) as plot:
        assert plot.format == "PNG" and plot.size[0] > 100
    assert common.load_checkpoint(fitted.checkpoint, "cppn").losses == {"mse": history}


def test_fitted_checkpoint_loads_back_into_the_same_network(fitted, astronaut_png):
    model, z, provenance = load_checkpoint(fitted.checkpoint)
    grid = torch.from_numpy(coordinates(48, 48, keep_aspect=True).copy())
    scale = torch.tensor([model.config.scale])
    with torch.no_grad():
        torch.testing.assert_close(model(grid, z.reshape(1, -1), scale),
                                   fitted.model(grid, fitted.z.reshape(1, -1), scale), rtol=0, atol=0)
    assert provenance["data"] == str(astronaut_png)
    assert provenance["steps"] == 150
    assert provenance["command"] == "pytest fit"
    assert provenance["date"].startswith("20")


def test_checkpoint_round_trip_keeps_config_weights_latent_and_provenance(astronaut_png, tmp_path):
    network = CPPNConfig(z_dim=5, c_dim=1, net_size=12, depth=2, arch="gaussian", scale=3.5, seed=11)
    config = FitConfig(image=str(astronaut_png), out_dir=str(tmp_path / "deep" / "run"), steps=2, size=12,
                       latent_seed=4, network=network, command="latentstage cppn test")
    result = fit(config)
    loaded, loaded_z, provenance = load_checkpoint(result.checkpoint)
    assert loaded.config == network
    torch.testing.assert_close(loaded_z, result.z, rtol=0, atol=0)
    assert loaded_z.shape == (5,)
    assert (provenance["command"], provenance["data"], provenance["steps"]) == ("latentstage cppn test",
                                                                                str(astronaut_png), 2)
    torch.testing.assert_close(loaded.render(20, 10, loaded_z), result.model.render(20, 10, result.z), rtol=0, atol=0)
    assert common.load_checkpoint(result.checkpoint, "cppn").losses == {"mse": result.loss_history}


def test_wrong_kind_and_corrupt_checkpoints_name_the_file(tmp_path):
    foreign = tmp_path / "pix2pix.pt"
    torch.save({"kind": "pix2pix", "state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match=r"pix2pix\.pt: not a 'cppn' checkpoint"):
        load_checkpoint(foreign)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x80\x02not a checkpoint at all")
    with pytest.raises(CheckpointError, match=r"corrupt\.pt: not a readable checkpoint"):
        load_checkpoint(corrupt)


def small_fit(picture: Path, out_dir: Path, steps: int) -> FitConfig:
    return FitConfig(image=str(picture), out_dir=str(out_dir), steps=steps, size=24, preview_every=0,
                     network=CPPNConfig(net_size=16, depth=2, scale=2.5))


def assert_same_weights(model: torch.nn.Module, other: torch.nn.Module) -> None:
    other_state = other.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, other_state[name]), name


def test_a_stopped_and_resumed_fit_matches_an_uninterrupted_one(astronaut_png, tmp_path):
    whole = fit(small_fit(astronaut_png, tmp_path / "whole", 12))
    with pytest.raises(KeyboardInterrupt):
        fit(small_fit(astronaut_png, tmp_path / "split", 12), callbacks=[StopAfter(5)])
    checkpoint = tmp_path / "split" / "cppn.pt"
    assert common.load_checkpoint(checkpoint, "cppn").step == 5
    resumed = fit(small_fit(astronaut_png, tmp_path / "split", 12), resume=checkpoint)
    assert resumed.loss_history == whole.loss_history  # exact, step for step
    assert_same_weights(resumed.model, whole.model)
    torch.testing.assert_close(resumed.z, whole.z, rtol=0, atol=0)


def test_ctrl_c_stops_a_cli_fit_on_a_saved_step_and_resume_continues_its_curve(astronaut_png, tmp_path,
                                                                               monkeypatch, capsys):
    options = ["--steps", "6", "--size", "16", "--preview-every", "0", *SMALL_NETWORK]
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert main(["fit", str(astronaut_png), "-o", str(whole), *options]) == 0

    train_step = CPPNFit.train_step

    def pressed_during_step_3(self, batch, step):
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, before the step's update
        return train_step(self, batch, step)

    monkeypatch.setattr(CPPNFit, "train_step", pressed_during_step_3)
    assert main(["fit", str(astronaut_png), "-o", str(split), *options]) == 130
    assert f"continue with --resume {split / 'cppn.pt'}" in capsys.readouterr().err
    assert common.load_checkpoint(split / "cppn.pt", "cppn").step == 3
    monkeypatch.undo()

    refused = main(["fit", str(astronaut_png), "-o", str(split), *options, "--lr", "0.1",
                    "--resume", str(split / "cppn.pt")])
    assert refused == 2 and "lr (checkpoint 0.005, this run 0.1)" in capsys.readouterr().err
    assert main(["fit", str(astronaut_png), "-o", str(split), *options, "--resume", str(split / "cppn.pt")]) == 0
    unbroken, resumed = (common.load_checkpoint(path / "cppn.pt", "cppn") for path in (whole, split))
    assert resumed.step == 6 and resumed.losses == unbroken.losses
    for name, state in unbroken.networks.items():
        assert all(torch.equal(tensor, resumed.networks[name][key]) for key, tensor in state.items())
    assert resumed.provenance["earlier_commands"] == [f"latentstage cppn fit {astronaut_png} -o {split} "
                                                      + " ".join(options)]
    for name in ("preview.png", "loss.png"):
        assert (split / name).is_file()


def test_sample_from_a_fitted_checkpoint_draws_the_fitted_picture(fitted, tmp_path):
    out = tmp_path / "from_checkpoint.png"
    assert main(["sample", "-o", str(out), "--width", "48", "--height", "48", "--keep-aspect",
                 "--checkpoint", str(fitted.checkpoint)]) == 0
    expected = np.rint(fitted.model.render(48, 48, fitted.z, keep_aspect=True).numpy() * 255)
    assert np.abs(pixels(out).astype(float) - expected).max() <= 1


def test_scale_zooms_a_fitted_checkpoint_and_export_keeps_its_own(fitted, tmp_path, capsys):
    own = fitted.model.config.scale
    near, far = tmp_path / "near.png", tmp_path / "far.png"
    assert main(["sample", "-o", str(near), "--width", "33", "--height", "33", "--checkpoint",
                 str(fitted.checkpoint)]) == 0
    assert main(["sample", "-o", str(far), "--width", "65", "--height", "65", "--scale", str(2 * own),
                 "--checkpoint", str(fitted.checkpoint)]) == 0
    # the centre of the picture zoomed out twice is the picture itself: z kept its fitted scale
    assert np.abs(pixels(far)[16:49, 16:49].astype(int) - pixels(near).astype(int)).max() <= 1
    assert main(["export", "-o", str(tmp_path / "x.onnx"), "--scale", "3", "--checkpoint",
                 str(fitted.checkpoint)]) == 2
    assert "--scale cannot change a network loaded from --checkpoint" in capsys.readouterr().err


def test_export_a_fitted_checkpoint_carries_its_provenance(fitted, tmp_path, capsys, astronaut_png):
    out = tmp_path / "fitted.onnx"
    assert main(["export", "-o", str(out), "--checkpoint", str(fitted.checkpoint)]) == 0
    assert "max |ORT - torch|" in capsys.readouterr().out
    card = ModelCard.from_metadata({p.key: p.value for p in onnx.load(str(out)).metadata_props}, str(out))
    assert (card.kind, card.z_dim, card.c_dim, card.arch) == ("cppn", 8, 3, fitted.model.config.arch)
    assert card.data == str(astronaut_png) and card.steps == 150
    assert card.command.startswith("latentstage cppn export -o ")


def test_fit_through_the_cli_reports_where_it_wrote(astronaut_png, tmp_path, capsys):
    out_dir = tmp_path / "run"
    assert main(["fit", str(astronaut_png), "-o", str(out_dir), "--steps", "5", "--size", "24",
                 "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    for name in ("cppn.pt", "preview.png", "loss.png"):
        assert (out_dir / name).is_file() and name in printed
    _, _, provenance = load_checkpoint(out_dir / "cppn.pt")
    assert provenance["command"] == f"latentstage cppn fit {astronaut_png} -o {out_dir} --steps 5 --size 24 --threads 1"


@pytest.mark.parametrize("argv, message", [
    (["sample", "-o", "x.png", "--arch", "bogus"], "invalid choice: 'bogus'"),
    (["sample", "-o", "x.png", "--width", "0"], "--width: must be at least 1"),
    (["fit", "missing.png", "-o", "out"], "missing.png: no such image"),
    (["walk", "-o", "walk.avi"], "unknown output format '.avi'"),
    (["sample", "-o", "x.png", "--checkpoint", "nothing.pt"], "nothing.pt: no such checkpoint"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not any(tmp_path.iterdir()), "bad input must not leave files behind"


def test_module_entry_point_exits_2_on_a_bad_arch(tmp_path):
    result = subprocess.run([sys.executable, "-m", "trainers.cppn.cli", "sample", "-o", str(tmp_path / "x.png"),
                             "--arch", "nonsense"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("latentstage cppn: error:") and "nonsense" in result.stderr
    assert "Traceback" not in result.stderr
