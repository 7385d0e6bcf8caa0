"""Acceptance: the options of `latentstage run` and the show settings that change the picture, from the
installed command.

README promises checked here:
- `latentstage run [SHOW] [--fullscreen] ... [--mirror] ... [--headless]`: fullscreen fills the screen,
  mirror flips the picture left-right;
- "`engine.providers` chooses where models run ... `cuda`, `tensorrt` or `require_gpu: true` refuse to start
  without a GPU rather than fall back" (as `--providers` and `--require-gpu`), and `--providers cpu` runs;
- "`render_scale` renders the models at a fraction of the output size and lets the GPU scale up";
- a pipeline scene `edges` "has `edges.canny.sigma` and `edges.style.strength`", also reachable as
  `canny.sigma` and `style.strength` for the scene on screen, over OSC as `/latentstage/<name with dots as
  slashes>`, here through `rehearse --osc-script`: sigma changes the edges, strength mixes a style model's
  picture over its input (0 the input, 1 fully styled).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from skimage import data

from live.inference.providers import CUDA, probe_providers
from tests.acceptance.test_window import (
    START_TIMEOUT,
    LiveShow,
    cppn_scene,
    hud_figures,
    scene_on_screen,
    window_line,
    write_show,
)
from tests.conftest import latentstage
from tests.live.inference.test_engine import gpu_provider_loads
from tests.live.output.test_render import solid_folder
from tests.live.show.test_rehearsal import rendered_frames


def rehearsed(show: Path, name: str, seconds: float, *options: str) -> list[np.ndarray]:
    """`latentstage rehearse SHOW` for `seconds`; the frames exactly as rendered (the --frames PNGs)."""
    folder = show.parent / name
    result = latentstage("rehearse", str(show), "-o", str(folder.with_suffix(".mp4")), "--seconds", str(seconds),
                         "--frames", str(folder), *options, cwd=show.parent)
    assert result.returncode == 0, result.stderr
    return rendered_frames(folder)


def osc_script(path: Path, *messages: tuple[float, str, object]) -> Path:
    """A rehearsal's OSC script: (seconds, address, value) each."""
    cues = [{"at": at, "address": address, "args": [value]} for at, address, value in messages]
    path.write_text(yaml.safe_dump(cues))
    return path


def picture_folder(folder: Path, picture: np.ndarray) -> Path:
    """An `images` source folder holding one (H, W, 3) uint8 RGB picture."""
    folder.mkdir(parents=True)
    Image.fromarray(picture).save(folder / "picture.png")
    return folder


def astronaut(width: int = 160, height: int = 90) -> np.ndarray:
    """scikit-image's astronaut, cropped to the aspect and scaled to the size: (height, width, 3) uint8."""
    picture = Image.fromarray(data.astronaut())
    top = (picture.height - picture.width * height // width) // 2
    cropped = picture.crop((0, top, picture.width, top + picture.width * height // width))
    return np.asarray(cropped.resize((width, height), Image.LANCZOS))


# --- window and picture options ---------------------------------------------------------------------------------

def test_fullscreen_fills_the_screen_and_the_hud_says_so(tmp_path, xvfb_display):
    show = write_show(tmp_path, [cppn_scene("drift")])  # its window is 160x90 when not fullscreen
    with LiveShow(show, "--fullscreen", env={"DISPLAY": xvfb_display}) as run:
        hud = run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift", START_TIMEOUT)
        # the whole Xvfb screen (conftest starts it at 1024x768), not the show's window size
        assert window_line(hud).split() == ["hud", "off", "mirror", "off", "fullscreen", "on", "1024x768"], hud
        assert run.stop() == 0, run.errors()


def first_screenshot(show: Path, shots: Path, *options: str) -> tuple[np.ndarray, str]:
    """The first screenshot of a headless run (taken once its first frame is shown) and the HUD text then."""
    with LiveShow(show, "--headless", "--screenshots", str(shots), "--screenshot-every", "0.1", *options) as run:
        hud = run.wait_for_hud(lambda hud: len(list(shots.glob("*.png"))) >= 2, START_TIMEOUT)  # the first is whole
        assert run.stop() == 0, run.errors()
    return np.asarray(Image.open(min(shots.glob("*.png"))).convert("RGB")), hud


def test_mirror_flips_the_picture_left_to_right(tmp_path):
    solid_folder(tmp_path / "split", left=(255, 0, 0), right=(0, 0, 255), size=(160, 90))
    show = write_show(tmp_path, [{"name": "split", "kind": "pipeline",
                                  "source": {"kind": "images", "folder": "split"}}])
    plain, plain_hud = first_screenshot(show, tmp_path / "plain")
    mirrored, mirrored_hud = first_screenshot(show, tmp_path / "mirrored", "--mirror")
    assert "mirror off" in window_line(plain_hud) and "mirror on" in window_line(mirrored_hud)
    assert plain.shape == mirrored.shape == (90, 160, 3)
    assert plain[45, 20].tolist() == [255, 0, 0] and plain[45, 140].tolist() == [0, 0, 255]
    assert np.array_equal(mirrored, plain[:, ::-1])


# --- execution providers ---------------------------------------------------------------------------------------

def test_providers_cpu_runs_the_show_on_the_cpu_without_trying_a_gpu(tmp_path):
    show = write_show(tmp_path, [cppn_scene("drift")])
    with LiveShow(show, "--headless", "--providers", "cpu") as run:
        # healthy, and a frame on screen (the latency figure counts frames shown, so it is 0 until one is)
        hud = run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift" and hud.rstrip().endswith("health ok")
                               and hud_figures(hud).get("latency_p50", 0) > 0, START_TIMEOUT)
        assert re.search(r"^scene drift\s+providers CPUExecutionProvider$", hud, re.MULTILINE), hud
        assert run.stop() == 0, run.errors()
    assert run.stats()["new_frames"] > 0
    assert "no GPU provider loads" not in run.errors()  # asked for the CPU: no GPU probed, no fallback warning


@pytest.mark.skipif(gpu_provider_loads(), reason="a GPU provider loads on this machine")
@pytest.mark.parametrize("command", ["run", "rehearse"])
@pytest.mark.parametrize("option", [["--providers", "cuda"], ["--require-gpu"]], ids=["providers-cuda", "require-gpu"])
def test_asking_for_a_gpu_without_one_refuses_to_start_with_one_line(tmp_path, command, option):
    show = write_show(tmp_path, [cppn_scene("drift")])
    out = ["-o", str(tmp_path / "never.mp4")] if command == "rehearse" else ["--headless"]
    result = latentstage(command, str(show), *out, "--seconds", "5", *option, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("latentstage: "), result.stderr
    cuda_reason = next(status.reason for status in probe_providers() if status.name == CUDA)
    assert cuda_reason and "cppn-tanh.onnx" in lines[0], lines[0]  # the model, the provider, and why
    if option[0] == "--providers":
        assert f"providers='cuda' but CUDA: {cuda_reason}; not falling back to CPU" in lines[0], lines[0]
    else:
        assert "require_gpu is set but no GPU provider loads (" in lines[0] and f"CUDA: {cuda_reason}" in lines[0]
    assert "presented" not in result.stdout and not (tmp_path / "never.mp4").exists()


# --- render_scale ------------------------------------------------------------------------------------------------

def test_render_scale_renders_the_scene_at_that_fraction_and_scales_it_up(tmp_path):
    """A one-pixel checkerboard of two colours at the output size (160x90): at render_scale 1 it reaches the
    screen pixel for pixel, colours exact; at 0.5 the scene renders at 80x45, which cannot hold it, and the GPU
    scales up an even mix of the two."""
    rows, columns = np.mgrid[0:90, 0:160]
    colours = np.array([(37, 120, 201), (201, 66, 13)], np.uint8)
    board = colours[(rows + columns) % 2]  # (90, 160, 3)
    picture_folder(tmp_path / "board", board)
    frames = {}
    for scale in (1.0, 0.5):
        folder = tmp_path / f"scale-{scale}"
        folder.mkdir()
        show = write_show(folder, [{"name": "board", "kind": "pipeline",
                                    "source": {"kind": "images", "folder": str(tmp_path / "board")}}],
                          output={"width": 160, "height": 90, "fps": 30, "render_scale": scale})
        frames[scale] = rehearsed(show, "frames", 0.1)[0].astype(int)
    assert frames[1.0].shape == frames[0.5].shape == (90, 160, 3)  # both fill the output size
    assert np.array_equal(frames[1.0], board)
    half = frames[0.5].reshape(-1, 3)
    assert np.all(np.abs(half.mean(axis=0) - colours.mean(axis=0)) < 3) and half.std(axis=0).max() < 3, \
        (half.mean(axis=0), half.std(axis=0))


# --- performer parameters of a pipeline scene -------------------------------------------------------------------

def edge_pixels(frame: np.ndarray) -> int:
    return int((frame.max(axis=2) > 128).sum())


def test_canny_sigma_from_osc_changes_the_edges_by_alias_and_by_the_scenes_own_address(tmp_path):
    picture_folder(tmp_path / "photo", astronaut())
    show = write_show(tmp_path, [{"name": "edges", "kind": "pipeline", "source": {"kind": "images", "folder": "photo"},
                                  "chain": [{"canny": {"sigma": 0.33}}]}],
                      output={"width": 160, "height": 90, "fps": 10})
    script = osc_script(tmp_path / "sigma.yaml",
                        (0.0, "/latentstage/canny/sigma", 0.9),  # the alias for the scene on screen
                        (0.1, "/latentstage/edges/canny/sigma", 0.05),  # the scene's own address
                        (0.2, "/latentstage/edges/canny/sigma", 0.9))
    still = rehearsed(show, "still", 0.3)
    moved = rehearsed(show, "moved", 0.3, "--osc-script", str(script))
    assert len(still) == len(moved) == 3
    assert np.array_equal(still[0], still[2])  # one picture, one sigma: one frame
    counts = [edge_pixels(frame) for frame in moved]
    # higher sigma keeps fainter edges: 0.9 more than the show's 0.33, 0.05 fewer
    assert counts[0] > edge_pixels(still[0]) > counts[1], (counts, edge_pixels(still[0]))
    assert np.array_equal(moved[0], moved[2]), "the alias and the scene's own address are one parameter"


@pytest.fixture(scope="module")
def tiny_style(tmp_path_factory) -> Path:
    """A small untrained style network (RGB in, RGB out), exported with the model contract."""
    import torch

    from exporters.onnx import export
    from trainers.style.model import StyleConfig, StyleNetwork

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("models") / "style-tiny.onnx"
    export(StyleNetwork(StyleConfig(base_channels=4, residual_blocks=1)), path)
    return path


def test_style_strength_mixes_the_styled_picture_over_its_input(tmp_path, tiny_style):
    picture_folder(tmp_path / "photo", astronaut())
    output = {"width": 160, "height": 90, "fps": 10}
    source = {"kind": "images", "folder": str(tmp_path / "photo")}
    for name, model in (("styled", {"model": str(tiny_style)}), ("plain", {})):
        (tmp_path / name).mkdir()
        write_show(tmp_path / name, [{"name": "look", "kind": "pipeline", "source": source, **model}], output=output)
    script = osc_script(tmp_path / "strength.yaml",
                        (0.0, "/latentstage/style/strength", 0.0),
                        (0.1, "/latentstage/look/style/strength", 0.5),
                        (0.2, "/latentstage/style/strength", 1.0))
    unstyled = rehearsed(tmp_path / "plain" / "show.yaml", "frames", 0.1)[0].astype(int)
    styled = rehearsed(tmp_path / "styled" / "show.yaml", "full", 0.1)[0].astype(int)  # the default strength, 1
    moved = [frame.astype(int) for frame in rehearsed(tmp_path / "styled" / "show.yaml", "moved", 0.3,
                                                      "--osc-script", str(script))]
    assert np.abs(styled - unstyled).mean() > 20, "the style model did not change the picture"
    assert np.array_equal(moved[0], unstyled), "strength 0 is the unstyled picture"
    assert np.array_equal(moved[2], styled), "strength 1 is the styled picture"
    halfway = np.abs(moved[1] - (styled + unstyled) / 2)
    assert halfway.max() <= 1.0, halfway.max()  # 0.5: half of each, to the rounding of a level
