"""Acceptance: a scene that fails during a live show (`latentstage run --headless`), seen from outside.

README promises checked here ("Sources", "Shows"):
- "When a scene fails (a camera unplugged, a model erroring) its last good frame holds for `hold` seconds,
  then the idle scene shows, with the reason on the HUD, until the scene recovers by itself: never a black
  screen or a frozen one";
- `hold:` and `idle:` in a show file, and the default idle scene ("the first CPPN scene, or the bundled CPPN");
- the camera source: "a frame that stops arriving ... counts as a failure"; a video file given as the camera's
  `device` stands in for it and ends as an unplugged camera does;
- a model file replaced while the show runs: garbage is refused in one line and the loaded model runs on, a good
  model of the same kind is swapped in between frames.

Times come from the show itself: the recording (`--record`) stamps every frame with the show clock, so
"idle does not show before `hold`" is read from the file, whatever the machine's speed; waits for the HUD
text (`--status-file`) are conditions with generous timeouts.
"""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

from tests.acceptance.test_window import START_TIMEOUT, LiveShow, cppn_scene, scene_on_screen, write_show
from tests.conftest import REPO, wait_for, write_test_video
from tests.live.output.video_files import decoded_pictures, decoded_times

HOLD = 3.0  # seconds


def health_line(hud: str) -> str:
    return next((line for line in hud.splitlines() if line.startswith("health ")), "")


def camera_frame(picture: np.ndarray) -> int | None:
    """Which frame of write_test_video's clip this is, read from its 16-pixel yellow square (rows 24-40), which
    moves 3 pixels a frame: from the square's centre, so H.264's soft edges do not matter. None if absent."""
    band = picture[24:40].astype(int)
    yellow = ((band[..., 0] > 180) & (band[..., 1] > 160) & (band[..., 2] < 120)).sum(axis=0)  # per column
    if yellow.sum() < 64:
        return None
    centre = (yellow * np.arange(len(yellow))).sum() / yellow.sum()
    return round((centre - 7.5) / 3)


def is_green(picture: np.ndarray) -> bool:
    red, green, blue = picture.reshape(-1, 3).mean(axis=0)
    return green > 200 and red < 50 and blue < 50


def first_lit(pictures: list[np.ndarray]) -> int:
    """Index of the first recorded picture that is not black: a live run presents (and records) its window
    from the start, before the first picture has been rendered into it."""
    return next(index for index, picture in enumerate(pictures) if picture.max() > 40)


def test_a_camera_that_stops_holds_its_last_frame_for_hold_seconds_then_the_idle_scene_shows(tmp_path):
    # the "camera" is a clip of 0.8 s that then ends, as an unplugged camera stops; it does not come back
    # within the test (reconnects wait 10 minutes), so the idle scene stays once it has taken over
    write_test_video(tmp_path / "camera.mp4", frames=24, fps=30.0, size=(96, 64))
    (tmp_path / "card").mkdir()
    Image.fromarray(np.full((64, 96, 3), (0, 255, 0), np.uint8)).save(tmp_path / "card" / "green.png")
    show = write_show(tmp_path, [
        {"name": "cam", "kind": "pipeline", "source": {
            "kind": "camera", "device": "camera.mp4", "width": 96, "height": 64, "fps": 30,
            "backoff_start": 600, "backoff_max": 600}},
        {"name": "card", "kind": "pipeline", "source": {"kind": "images", "folder": "card"}},
    ], output={"width": 96, "height": 64, "fps": 30}, window={"width": 96, "height": 64},
        cues=[{"at": 0, "scene": "cam"}], hold=HOLD, idle="card")
    recording = tmp_path / "show.mp4"
    with LiveShow(show, "--headless", "--record", str(recording)) as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "cam", START_TIMEOUT)
        run.wait_for_hud(lambda hud: health_line(hud).startswith("health cam:"), START_TIMEOUT)
        idle = run.wait_for_hud(lambda hud: scene_on_screen(hud) == "idle", HOLD + 30)
        assert run.stop() == 0, run.errors()
    reason = "health cam: no frame (device lost, or end of stream)"
    assert health_line(idle) == reason and "cam 96x64@30 down" in idle, idle  # why, on the HUD

    pictures, times = decoded_pictures(recording), decoded_times(recording)
    opening = first_lit(pictures)  # the window is blank for the moment before the first picture is rendered
    pictures, times = pictures[opening:], times[opening:]
    kinds = ["idle" if is_green(p) else camera_frame(p) for p in pictures]
    assert None not in kinds, "a frame that is neither the camera's nor the idle scene's (black?)"
    first_idle = kinds.index("idle")
    assert all(kind == "idle" for kind in kinds[first_idle:]), "the idle scene gave way although nothing recovered"
    held = kinds[first_idle - 1]  # the camera's last frame on screen
    first_held = first_idle
    while first_held > 0 and kinds[first_held - 1] == held:
        first_held -= 1
    assert first_held > 0, "the camera's picture never moved before it stopped"
    # the recording starts with the show; the camera's last frame held, unchanged, for about `hold` seconds
    # (less the moment between its rendering and its showing), and not a second less
    assert times[first_idle] - times[first_held] >= HOLD - 1.0, (times[first_held], times[first_idle])
    assert times[first_idle] >= HOLD - 1.0, times[first_idle]


def test_a_model_that_errors_at_run_time_fails_over_to_the_idle_scene_and_recovers_by_itself(tmp_path):
    """A style model exported for one fixed size (64x64) whose card says any size: it runs on the folder's
    64x64 picture and fails inside ONNX Runtime on the 96x64 one. The show keeps going on the bundled idle
    CPPN and returns to the scene by itself when the 64x64 picture comes round again."""
    import torch

    from exporters.onnx import export
    from trainers.style.model import StyleConfig, StyleNetwork

    torch.manual_seed(0)
    network = StyleNetwork(StyleConfig(base_channels=4, residual_blocks=1))
    fixed = dataclasses.replace(network.export_spec(), dynamic_axes={}, parity_sizes=((64, 64),))
    export(network, tmp_path / "fixed-size.onnx", spec=fixed)
    folder = tmp_path / "pictures"
    folder.mkdir()
    noise = np.random.default_rng(0)
    Image.fromarray(noise.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / "a-square.png")
    Image.fromarray(noise.integers(0, 256, (64, 96, 3), dtype=np.uint8)).save(folder / "b-wide.png")
    show = write_show(tmp_path, [
        {"name": "styled", "kind": "pipeline", "model": "fixed-size.onnx",
         "source": {"kind": "images", "folder": "pictures", "seconds_per_image": 1.5}},
    ], output={"width": 64, "height": 64, "fps": 30}, window={"width": 64, "height": 64}, hold=0.75)
    recording = tmp_path / "show.mp4"
    with LiveShow(show, "--headless", "--record", str(recording)) as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "styled" and health_line(hud) == "health ok",
                         START_TIMEOUT)
        idle = run.wait_for_hud(lambda hud: scene_on_screen(hud) == "idle", START_TIMEOUT)
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "styled" and health_line(hud) == "health ok",
                         START_TIMEOUT)
        assert run.process.poll() is None, "the show stopped"
        assert run.stop() == 0, run.errors()
    reason = health_line(idle)
    # the scene and ONNX Runtime's own words, on one line (ORT's message spans several)
    assert reason.startswith("health styled: RuntimeError: ") and re.search(r"\b96\b.*\b64\b", reason), idle
    assert "scene 'styled' recovered" in run.errors()
    stats = run.stats()
    assert stats["new_frames"] > 0 and "idle (bundled).scale" in stats["parameters"], stats  # the bundled CPPN drew
    pictures = decoded_pictures(recording)
    assert all(picture.max() > 40 for picture in pictures[first_lit(pictures):]), "a black frame reached the screen"


def screenshots(folder: Path) -> list[Path]:
    return sorted(folder.glob("frame-*.png")) if folder.exists() else []


def picture_after(folder: Path, seen: int) -> np.ndarray:
    """The second screenshot taken after the first `seen`: made from a frame composed after that moment
    (the first may show a frame composed just before). Read once the next one exists: it is written whole by then."""
    assert wait_for(lambda: len(screenshots(folder)) >= seen + 3, START_TIMEOUT), "the show stopped taking pictures"
    return np.asarray(Image.open(screenshots(folder)[seen + 1]).convert("RGB"), dtype=int)


def test_a_model_file_replaced_while_the_show_runs_is_refused_as_garbage_and_swapped_in_when_good(tmp_path):
    """The show's model is overwritten with garbage, then with another CPPN of the same kind: the show goes on
    with the loaded model, says once why the garbage is not used, and then shows the new model's picture.
    The keyframes are 10^5 s apart, so the picture only changes when the model does."""
    model = tmp_path / "model.onnx"
    shutil.copyfile(REPO / "models" / "cppn-tanh.onnx", model)
    show = write_show(tmp_path, [{"name": "drift", "kind": "cppn", "model": "model.onnx",
                                  "cppn": {"seed": 4, "period": 100000.0, "scale": 6.0}}])
    shots = tmp_path / "shots"
    with LiveShow(show, "--headless", "--screenshots", str(shots), "--screenshot-every", "0.1") as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "drift" and health_line(hud) == "health ok", START_TIMEOUT)
        first = picture_after(shots, 0)

        model.write_bytes(b"not a model, a half-copied file " * 64)
        refused = run.wait_for_hud(lambda hud: "refused 1" in hud, START_TIMEOUT)
        held = picture_after(shots, len(screenshots(shots)))

        shutil.copyfile(REPO / "models" / "cppn-sine.onnx", model)
        reloaded = run.wait_for_hud(lambda hud: "models reloaded 1 refused 1" in hud, START_TIMEOUT)
        new = picture_after(shots, len(screenshots(shots)))
        assert run.stop() == 0, run.errors()
    assert health_line(refused).startswith(f"health {model}: not a readable ONNX file"), refused
    assert health_line(refused).endswith("; running the model loaded before"), refused
    assert health_line(reloaded) == "health ok", reloaded
    assert np.abs(held - first).mean() < 2, "the picture changed although the loaded model kept running"
    assert np.abs(new - first).mean() > 20, "the new model's picture never showed"
    errors = run.stderr_path.read_text()
    assert errors.count("cannot be used") == 1 and errors.count("reloaded") == 1, errors
    assert "Traceback" not in errors, errors
    assert run.stats()["models"] == {"reloaded": 1, "refused": 1}, run.stats()


def test_a_camera_unplugged_and_plugged_back_shows_again_without_a_restart(tmp_path):
    """The camera's device (a clip standing in for it) disappears: the camera ends, cannot be reopened, and the
    idle scene shows with the reason; the device comes back: the camera's frames are on screen again, same run."""
    device = write_test_video(tmp_path / "camera.mp4", frames=30, fps=30.0, size=(96, 64))
    show = write_show(tmp_path, [
        {"name": "cam", "kind": "pipeline", "source": {
            "kind": "camera", "device": "camera.mp4", "width": 96, "height": 64, "fps": 30}},
    ], output={"width": 96, "height": 64, "fps": 30}, window={"width": 96, "height": 64}, hold=0.5)
    with LiveShow(show, "--headless") as run:
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "cam" and "cam 96x64@30 ok" in hud, START_TIMEOUT)
        device.rename(tmp_path / "unplugged.mp4")
        gone = run.wait_for_hud(lambda hud: "could not open" in health_line(hud) and scene_on_screen(hud) == "idle",
                                START_TIMEOUT)
        (tmp_path / "unplugged.mp4").rename(device)
        run.wait_for_hud(lambda hud: scene_on_screen(hud) == "cam" and "cam 96x64@30 ok" in hud, START_TIMEOUT)
        assert run.stop() == 0, run.errors()
    assert health_line(gone) == "health cam: could not open 'camera.mp4'", gone
    assert "recovered after" in run.errors()


def test_the_sound_input_unplugged_and_plugged_back_is_heard_again_and_the_show_never_stops(tmp_path, pulse_sink):
    """The PulseAudio null sink whose monitor the show listens to is unloaded (the interface unplugged) and loaded
    again: the HUD says the audio is gone and then back; the render loop writes the HUD file, so the show drew on
    throughout, and the input came back by itself."""
    sink = ["pactl", "load-module", "module-null-sink", "sink_name=latentstage_test", "rate=48000"]
    show = write_show(tmp_path, [cppn_scene("drift")], audio={"kind": "input", "device": "pulse"})
    try:
        with LiveShow(show, "--headless", env=pulse_sink) as run:
            run.wait_for_hud(lambda hud: "audio ok" in hud, START_TIMEOUT)
            subprocess.run(["pactl", "unload-module", "module-null-sink"], env=pulse_sink, check=True)
            run.wait_for_hud(lambda hud: re.search(r"^audio (?!ok)", hud, re.MULTILINE), START_TIMEOUT)
            subprocess.run(sink, env=pulse_sink, check=True, capture_output=True)
            subprocess.run(["pactl", "set-default-source", "latentstage_test.monitor"], env=pulse_sink, check=True)
            run.wait_for_hud(lambda hud: "audio ok" in hud, START_TIMEOUT)
            assert run.stop() == 0, run.errors()
    finally:
        sinks = subprocess.run(["pactl", "list", "short", "sinks"], env=pulse_sink, capture_output=True, text=True,
                               check=False)
        if "latentstage_test" not in sinks.stdout:  # the test failed with the sink away: later tests need it
            subprocess.run(sink, env=pulse_sink, capture_output=True, check=False)
            subprocess.run(["pactl", "set-default-source", "latentstage_test.monitor"], env=pulse_sink, check=False)
    assert "audio input: recovered after" in run.errors()
