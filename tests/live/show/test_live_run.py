"""The live loop run headless for real: recording, live audio, the first frame, and a bounded soak with flat memory."""
import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import yaml

from tests.conftest import REPO, installed_command, run_cli, wait_for


def pattern_show(tmp_path: Path, model: Path | None = None) -> Path:
    scene = {"name": "pattern", "kind": "pipeline", "chain": [{"canny": {"sigma": 0.33}}],
             "source": {"kind": "pattern", "width": 320, "height": 180, "fps": 30}}
    if model is not None:
        scene["model"] = str(model)
    show = tmp_path / "show.yaml"
    show.write_text(yaml.safe_dump({"output": {"width": 320, "height": 180, "fps": 30}, "scenes": [scene]}))
    return show


def test_recording_writes_every_frame_it_was_given_with_real_timestamps(tmp_path):
    """Every presented frame is offered to the recorder and either written or counted as dropped;
    the file's timestamps are when frames were shown on the show clock, however fast this machine is."""
    recording = tmp_path / "recording.mp4"
    result = run_cli("run", str(pattern_show(tmp_path)), "--headless", "--seconds", "3",
                     "--record", str(recording), "--stats-json", str(tmp_path / "stats.json"))
    assert result.returncode == 0, result.stderr
    stats = json.loads((tmp_path / "stats.json").read_text())
    summary = re.search(r"recorded (\d+) frames into .* \((\d+) dropped\)", result.stdout)
    assert summary, result.stdout
    written, dropped = int(summary[1]), int(summary[2])
    with av.open(str(recording)) as container:
        times = [float(frame.time) for frame in container.decode(video=0)]
    assert written > 0 and len(times) == written
    assert written + dropped == stats["presented"]  # every frame shown was given to the recorder
    assert np.all(np.diff(times) > 0), "timestamps must increase"
    # Shown-at times, not frame counts: the file spans the run as the show clock measured it (the
    # sum of the intervals between presents), less any frames dropped at either end.
    span, shown_span = times[-1] - times[0], (stats["presented"] - 1) / stats["fps"]
    slack = (dropped + 2) * max(stats["frame_interval_ms"]["p99"] / 1000, 0.1)
    assert shown_span - slack <= span <= shown_span + 0.1, (span, shown_span, slack)
    assert span <= 3.0  # never longer than the run


def test_a_long_run_through_model_replacements_and_camera_outages_keeps_going_with_flat_memory(tmp_path, tiny_pix2pix):
    """75 s of camera -> canny -> pix2pix -> screen -> recorder, memory sampled every 5 s, while the model file is
    overwritten with garbage and then with a good copy, and the camera's device (a clip standing in for it) is
    unplugged and plugged back, over and over: every garbage version refused, every good one reloaded, the camera
    back each time, the show never stopped, and resident memory flat after warm-up."""
    from tests.conftest import write_test_video

    model = tmp_path / "model.onnx"
    shutil.copyfile(tiny_pix2pix, model)
    device, unplugged = write_test_video(tmp_path / "camera.mp4", frames=45, size=(320, 180)), tmp_path / "away.mp4"
    show = tmp_path / "show.yaml"
    show.write_text(yaml.safe_dump({"output": {"width": 320, "height": 180, "fps": 30}, "hold": 0.5, "scenes": [
        {"name": "cam", "kind": "pipeline", "model": str(model), "chain": [{"canny": {"sigma": 0.33}}],
         "source": {"kind": "camera", "device": str(device), "width": 320, "height": 180, "fps": 30}}]}))
    stats_path, status = tmp_path / "stats.json", tmp_path / "status.txt"
    run = subprocess.Popen([installed_command(), "run", str(show), "--headless", "--seconds", "75",
                            "--record", str(tmp_path / "soak.mp4"), "--stats-json", str(stats_path),
                            "--status-file", str(status)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def hud_shows(text: str) -> bool:
        """Whether the HUD shows `text` before the show ends (False once it has ended)."""
        return wait_for(lambda: run.poll() is not None or (status.exists() and text in status.read_text()), 60) \
            and run.poll() is None

    cycles = 0
    try:
        assert hud_shows("sources cam 320x180@30 ok"), "the camera never showed"
        while run.poll() is None:
            model.write_bytes(b"garbage" * 100)
            if not hud_shows(f"refused {cycles + 1}"):
                break
            shutil.copyfile(tiny_pix2pix, model)
            if not hud_shows(f"models reloaded {cycles + 1} "):
                break
            device.rename(unplugged)
            if not hud_shows("could not open"):
                break
            unplugged.rename(device)
            if not hud_shows("sources cam 320x180@30 ok"):
                break
            cycles += 1
        _, errors = run.communicate(timeout=120)
    finally:
        run.kill()
        if unplugged.exists():
            unplugged.rename(device)
    assert run.returncode == 0, errors
    stats = json.loads(stats_path.read_text())
    assert cycles >= 3 and stats["models"]["reloaded"] >= cycles and stats["models"]["refused"] >= cycles, \
        (cycles, stats["models"])
    assert len(re.findall(r"camera '.*camera.mp4': recovered after", errors)) >= cycles, errors[-3000:]
    samples = stats["resident_mb"]
    # after warm-up: the encoder's first GOPs, and the allocator's pools settling over the first reloads
    settled = [mb for seconds, mb in samples if seconds >= 20]
    print(f"{cycles} cycles, models {stats['models']}, fps {stats['fps']}, resident MB {samples}")
    assert len(settled) >= 9, samples
    # medians of three samples: a sample taken while a replacement and the model it replaces are both loaded
    # is a moment, not growth
    growth = statistics.median(settled[-3:]) / statistics.median(settled[:3]) - 1.0
    assert growth < 0.05, f"resident memory grew {100 * growth:.1f}%: {samples}"


def test_live_audio_drives_a_running_show(tmp_path, pulse_sink):
    """Sound played into the null sink while `latentstage run` performs the vj show: the audio
    features move and the bass mapping moves the scene's speed (the live clock and the audio
    input's stamps agree). The kicks start once the show hears its input, and the show is
    stopped once its HUD has found their tempo, however long that takes here."""
    from tests.live.inputs.test_audio import RATE, write_wav
    from tests.live.inputs.test_audio_beats import drum_loop

    # a bass drum: the mapping listens to the bass band, which a click without bass no longer lights
    track = write_wav(tmp_path / "kicks.wav", drum_loop({"kick": 0.8}, seconds=30.0, bpm=128.0, rate=RATE))
    show = tmp_path / "vj.yaml"
    show.write_text((REPO / "shows" / "vj.yaml").read_text().replace("port: 9000", "port: 0")
                    .replace("audio: {kind: input,", "audio: {kind: input, device: pulse,")
                    .replace("../models/", f"{REPO / 'models'}/"))
    stats_path, status = tmp_path / "stats.json", tmp_path / "status.txt"
    command = [sys.executable, "-m", "live", "run", str(show), "--headless", "--seconds", "600", "--size", "320x180",
               "--stats-json", str(stats_path), "--status-file", str(status)]
    run = subprocess.Popen(command, cwd=REPO, env=pulse_sink, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    player = None
    try:
        assert wait_for(lambda: status.exists() and "audio ok" in status.read_text(), timeout=120)
        player = subprocess.Popen(["paplay", "--device=latentstage_test", str(track)], env=pulse_sink)

        def found_the_tempo() -> bool:  # several clicks came through, and their beat was found
            tempo = re.search(r"audio ok .* (\d+) bpm", status.read_text())
            return tempo is not None and abs(int(tempo[1]) - 128) <= 2

        assert wait_for(found_the_tempo, timeout=120), status.read_text()
        run.send_signal(signal.SIGTERM)
        _, errors = run.communicate(timeout=60)
    finally:
        run.kill()
        if player is not None:
            player.kill()
            player.wait()
    assert run.returncode == 0, errors
    stats = json.loads(stats_path.read_text())
    assert stats["audio"]["peaks"]["level"] > 0.3 and stats["audio"]["onsets"] >= 3, stats["audio"]
    assert stats["audio"]["tempo_bpm"] is not None and abs(stats["audio"]["tempo_bpm"] - 128) < 3, stats["audio"]
    low, high = stats["parameters"]["pulse.speed"]  # bass -> cppn.speed over 0.4 .. 4.0
    assert high - low > 0.5, stats["parameters"]


def test_a_show_opens_on_its_scene_not_the_idle_one(tmp_path):
    """The first screenshot shows the picture from the scene's source, however slow the machine."""
    from PIL import Image
    from skimage import data

    folder = tmp_path / "pictures"
    folder.mkdir()
    Image.fromarray(data.astronaut()).resize((160, 160)).save(folder / "astronaut.png")
    show = tmp_path / "show.yaml"
    show.write_text(yaml.safe_dump({
        "output": {"width": 160, "height": 160, "fps": 30}, "window": {"width": 160, "height": 160},
        "scenes": [{"name": "still", "kind": "pipeline", "source": {"kind": "images", "folder": str(folder)}}]}))
    shots = tmp_path / "shots"
    result = run_cli("run", str(show), "--headless", "--seconds", "1", "--screenshots", str(shots),
                     "--screenshot-every", "0.2")
    assert result.returncode == 0, result.stderr
    first = np.asarray(Image.open(sorted(shots.iterdir())[0]).convert("RGB"), dtype=int)
    expected = np.asarray(Image.open(folder / "astronaut.png").convert("RGB"), dtype=int)
    assert np.abs(first - expected).mean() < 10


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_managed_stop_keeps_the_recording_and_the_figures(tmp_path, stop_signal):
    """systemd, Docker and supervisors send SIGTERM; an operator presses Ctrl-C: either ends the show
    as Esc does, with the summary, --stats-json and a playable recording."""
    recording, stats, status = tmp_path / "show.mp4", tmp_path / "stats.json", tmp_path / "status.txt"
    run = subprocess.Popen([installed_command(), "run", str(pattern_show(tmp_path)), "--headless", "--seconds", "600",
                            "--record", str(recording), "--stats-json", str(stats), "--status-file", str(status)],
                           cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: status.exists() and "scene pattern" in status.read_text(), timeout=60)
        run.send_signal(stop_signal)
        out, errors = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 0, errors
    assert "Traceback" not in errors and "recorded" in out
    assert json.loads(stats.read_text())["new_frames"] > 0
    with av.open(str(recording)) as container:
        assert sum(1 for _ in container.decode(video=0)) > 0
