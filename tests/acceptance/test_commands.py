"""Acceptance: the README's command table, each command run as a user runs it (the installed `latentstage`).

README promises checked here:
- `latentstage osc list [SHOW]`: "the OSC address space: every parameter with its type, range, default and
  meaning", for the bundled demo and for a show given on the command line, and the rule "Controllers set,
  mappings modulate";
- `latentstage doctor [--json]`: "what this machine can run: ONNX Runtime providers that really load,
  display, audio ..." with the verdicts that must hold on a machine like this one (the CPU provider loads,
  CUDA does not without a GPU, headless EGL works, no window without DISPLAY, a window with one, a sound
  input through PulseAudio);
- `latentstage check SHOW` and `latentstage rehearse SHOW -o OUT.mp4 --seconds S --size WxH`: every bundled
  show validates and rehearses into an MP4 that decodes to seconds x fps frames;
- `latentstage demo`: "otherwise rehearsed headless into `out/demo.mp4`, which it names when it is done",
  from the development install and from a wheel installed into a fresh virtual environment, run outside the
  repository (the package carries its shows and models).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from tests.conftest import DEMO_SHOW, REPO, latentstage
from tests.live.inference.test_engine import gpu_provider_loads
from tests.live.show.test_rehearsal import decoded_frames

NO_DISPLAY = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}
BUNDLED_SHOWS = sorted((REPO / "shows").glob("*.yaml"))


# --- osc list ---------------------------------------------------------------------------------------------------

def address_table(stdout: str) -> dict[str, dict[str, str]]:
    """`osc list`'s table as address -> {"type", "range", "default", "description"}, cut at the header's columns."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("address "))
    header = lines[start]
    names = header.split()
    columns = [header.index(name) for name in names]
    rows = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        cells = [line[begin:end].strip() for begin, end in zip(columns, columns[1:] + [None])]
        rows[cells[0]] = dict(zip(names[1:], cells[1:]))
    return rows


def test_osc_list_prints_the_bundled_demos_address_space_and_the_modulation_rule():
    result = latentstage("osc", "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OSC on udp://127.0.0.1:9000; query /latentstage/query, list /latentstage/list")
    rows = address_table(result.stdout)
    scenes = [scene["name"] for scene in yaml.safe_load(DEMO_SHOW.read_text())["scenes"]]  # the demo grows
    assert scenes[:3] == ["drift", "bloom", "portrait"]
    assert rows["/latentstage/scene"] | {"description": ""} == {
        "type": "str", "range": " | ".join(scenes), "default": "drift", "description": ""}
    # the style scene's performer parameters, with the show's starting values
    assert rows["/latentstage/cezanne/style/strength"]["default"] == "0.9"
    assert rows["/latentstage/vangogh/style/preserve_colour"]["type"] == "bool"
    assert (rows["/latentstage/scene/next"]["type"], rows["/latentstage/scene/previous"]["type"]) == ("trigger",) * 2
    assert rows["/latentstage/fade"]["type"] == "float" and rows["/latentstage/fade"]["range"] == "0 .. 30"
    for switch in ("hud", "mirror"):
        assert (rows[f"/latentstage/{switch}"]["type"], rows[f"/latentstage/{switch}"]["range"]) == ("bool", "0 / 1")
    # every scene's own parameters, with the scene's own defaults, and the on-screen aliases
    for scene, scale in (("drift", "6.0"), ("bloom", "4.0"), ("portrait", "2.5")):
        assert rows[f"/latentstage/{scene}/scale"] | {"description": ""} == {
            "type": "float", "range": "0.1 .. 64", "default": scale, "description": ""}
        assert rows[f"/latentstage/{scene}/speed"]["range"] == "-8 .. 8"
        assert rows[f"/latentstage/{scene}/jitter"]["range"] == "0 .. 1"
    for name in ("scale", "speed", "jitter"):
        assert rows[f"/latentstage/cppn/{name}"]["description"].startswith("on screen:")
    assert all(row["description"] for row in rows.values()), "every address says what it means"
    assert {"/latentstage/query", "/latentstage/follow", "/latentstage/list"} <= rows.keys()
    rule = " ".join(result.stdout.split("\n\n")[-1].split())  # the paragraph after the table, unwrapped
    assert rule.startswith("Controllers set, mappings modulate."), rule
    assert "Audio and LFO mappings never overwrite it" in rule and "Feedback and queries report the base value" in rule


def test_osc_list_of_a_given_show_names_its_scenes_host_port_and_defaults(tmp_path):
    show = tmp_path / "club.yaml"
    show.write_text(yaml.safe_dump({
        "osc": {"host": "0.0.0.0", "port": 9123},
        "scenes": [
            {"name": "edges", "kind": "pipeline", "source": {"kind": "pattern"},
             "chain": [{"canny": {"sigma": 0.4}}]},
            {"name": "swirl", "kind": "cppn", "model": str(REPO / "models" / "cppn-sine.onnx"), "cppn": {"scale": 5.0}},
        ]}))
    result = latentstage("osc", "list", str(show))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OSC on udp://0.0.0.0:9123;")
    rows = address_table(result.stdout)
    assert rows["/latentstage/scene"]["range"] == "edges | swirl"
    assert rows["/latentstage/edges/canny/sigma"] | {"description": ""} == {
        "type": "float", "range": "0 .. 1", "default": "0.4", "description": ""}
    assert rows["/latentstage/edges/style/strength"]["range"] == "0 .. 1"
    assert rows["/latentstage/swirl/scale"]["default"] == "5.0"
    assert {"/latentstage/canny/sigma", "/latentstage/style/strength", "/latentstage/cppn/scale"} <= rows.keys()
    assert not any(address.startswith(("/latentstage/drift", "/latentstage/bloom")) for address in rows), \
        "the demo's scenes leaked into another show's list"


# A sitecustomize that makes any ONNX Runtime session end the process, saying so: a command run with it on
# PYTHONPATH that still succeeds has opened none (model loading is what it proves absent).
NO_SESSIONS = """\
import onnxruntime

def _refused(path_or_bytes, *args, **kwargs):
    raise SystemExit(f"an InferenceSession was opened: {str(path_or_bytes)[:80]}")

onnxruntime.InferenceSession = _refused
"""


def test_osc_list_of_the_demo_opens_no_model_yet_gives_each_scene_s_own_defaults(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(NO_SESSIONS)
    env = {"PYTHONPATH": str(tmp_path)}
    loading = f"from live.inference.engine import Engine; Engine.load({str(REPO / 'models' / 'cppn-tanh.onnx')!r})"
    trapped = subprocess.run([sys.executable, "-c", loading], capture_output=True, text=True, timeout=120,
                             env={**os.environ, **env})
    assert "an InferenceSession was opened" in trapped.stderr, trapped.stderr  # the trap springs where one opens
    result = latentstage("osc", "list", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no model loaded, so no line about models or providers
    rows = address_table(result.stdout)
    for scene, scale in (("drift", "6.0"), ("bloom", "4.0"), ("portrait", "2.5")):
        assert rows[f"/latentstage/{scene}/scale"]["default"] == scale
    assert rows["/latentstage/snow/canny/sigma"]["default"] == "0.33"  # from the model's card: no canny step
    assert rows["/latentstage/painter/truncation"]["default"] == "0.7"


# --- doctor -----------------------------------------------------------------------------------------------------

def doctor_report(env: dict[str, str]) -> dict:
    result = latentstage("doctor", "--json", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_doctor_without_a_display_finds_the_cpu_provider_and_headless_egl_but_no_window():
    report = doctor_report(NO_DISPLAY)
    assert list(report) == ["versions", "onnxruntime", "display", "cppn", "audio", "cameras", "osc", "midi", "outputs"]
    providers = {p["name"]: p for p in report["onnxruntime"]["providers"]}
    assert providers["CPUExecutionProvider"]["loads"] is True
    assert report["onnxruntime"]["verdict"] != "missing"
    if not gpu_provider_loads():  # this machine has no GPU: CUDA must say it does not load, and why
        cuda = providers["CUDAExecutionProvider"]
        assert cuda["loads"] is False and cuda["reason"], cuda
        assert report["onnxruntime"]["verdict"] == "warn", report["onnxruntime"]
        library = cuda["reason"].split(":")[0]  # the first library CUDA lacks, named in one short line
        assert report["onnxruntime"]["summary"].startswith("CPU only: the GPU providers lack ") and library in \
            report["onnxruntime"]["summary"]
    display = report["display"]
    assert display["verdict"] == "warn", display  # no window, but rehearsal works
    assert display["summary"].startswith("no DISPLAY or WAYLAND_DISPLAY set; headless EGL works ("), display
    assert display["window"]["ok"] is False and display["headless"]["ok"] is True and display["headless"]["renderer"]

    # the table says the same, one aligned line per section
    table = latentstage("doctor", env=NO_DISPLAY, timeout=120)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.strip().splitlines()
    assert lines[0] == "latentstage doctor" and len(lines) == 1 + len(report)
    display_line = next(line for line in lines if line.split()[0] == "display")
    assert display_line.split()[1] == "warn" and "no DISPLAY or WAYLAND_DISPLAY set; headless EGL works" in display_line


def test_doctor_with_a_display_and_a_sound_server_finds_the_screen_and_an_input(xvfb_display, pulse_sink):
    report = doctor_report({**pulse_sink, "DISPLAY": xvfb_display})
    display = report["display"]
    assert display["verdict"] == "ok", display
    assert display["window"] == {"ok": True, "screens": ["1024x768"]}  # the Xvfb screen conftest starts
    assert display["summary"].startswith("display opens (screens 1024x768); headless EGL works"), display
    audio = report["audio"]
    assert audio["verdict"] == "ok" and "pulse" in audio["inputs"], audio


# --- every bundled show -----------------------------------------------------------------------------------------

def test_the_bundled_shows_are_the_ones_the_readme_names():
    assert [show.name for show in BUNDLED_SHOWS] == ["demo.yaml", "machineray.yaml", "mirror.yaml", "snowman.yaml",
                                                     "theatre.yaml", "vj.yaml"]


@pytest.mark.parametrize("show", BUNDLED_SHOWS, ids=lambda path: path.stem)
def test_every_bundled_show_checks_and_rehearses_into_an_mp4_of_seconds_times_fps_frames(tmp_path, show):
    written = yaml.safe_load(show.read_text())
    checked = latentstage("check", str(show))
    assert checked.returncode == 0, checked.stderr
    assert "INFO" not in checked.stderr, checked.stderr  # each model is named once, on stdout
    assert checked.stdout.rstrip().endswith(f"{show}: ok, {len(written['scenes'])} scenes, "
                                            f"{len(written.get('cues', []))} cues"), checked.stdout
    out = tmp_path / f"{show.stem}.mp4"
    result = latentstage("rehearse", str(show), "-o", str(out), "--seconds", "2", "--size", "160x90", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    fps = written["output"]["fps"]
    count = round(2 * fps)
    frames, times = decoded_frames(out)
    assert len(frames) == count and frames[0].shape == (90, 160, 3)
    assert f"wrote {out}: {count} frames" in result.stdout
    assert times[-1] == pytest.approx((count - 1) / fps, abs=1e-3)
    # a scene that cannot run here (the mirror's camera) is reported once, not once per frame
    warnings = [line.split(" ", 1)[1] for line in result.stderr.splitlines() if " WARNING " in line]
    assert len(warnings) == len(set(warnings)), "\n".join(warnings[:5])


# --- demo ---------------------------------------------------------------------------------------------------------

def assert_demo_rehearsed_into_out(result: subprocess.CompletedProcess, folder: Path) -> None:
    assert result.returncode == 0, result.stderr
    assert "no display: rehearsing the demo show into out/demo.mp4" in result.stdout
    assert re.search(r"^wrote out/demo\.mp4: 60 frames", result.stdout, re.MULTILINE), result.stdout
    frames, _ = decoded_frames(folder / "out" / "demo.mp4")
    assert len(frames) == 60 and frames[0].shape == (540, 960, 3)  # 2 s of the demo at its 30 fps and size
    assert frames[0].std() > 10, "a blank demo"


def test_demo_without_a_display_rehearses_into_out_demo_mp4_and_names_it(tmp_path):
    result = latentstage("demo", "--seconds", "2", env=NO_DISPLAY, cwd=tmp_path)
    assert_demo_rehearsed_into_out(result, tmp_path)


def test_a_wheel_installed_into_a_fresh_venv_plays_the_demo_outside_the_repository(tmp_path):
    """The wheel must carry the shows and models: run from elsewhere, with the repository nowhere on the path.
    The fresh venv sees this venv's site-packages for the dependencies only (a .pth line adds the folder
    itself; the editable install's own .pth files inside it are not processed)."""
    source = tmp_path / "source"  # a copy: pip builds in the tree it is given and would leave build/ behind
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "out", "build", "*.egg-info",
                                                                 "__pycache__", ".pytest_cache", ".hypothesis"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                            str(source)], capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("latentstage-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    asked = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           capture_output=True, text=True, check=True)
    site_packages = Path(asked.stdout.strip())
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "latentstage-test-dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                                str(wheel)], capture_output=True, text=True, timeout=600, check=False)
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | NO_DISPLAY
    code = "import live, shows, models; print(live.__file__, shows.__file__, models.__file__)"
    where = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=elsewhere, env=env,
                           check=True)
    assert all(Path(path).is_relative_to(site_packages) for path in where.stdout.split()), where.stdout
    result = subprocess.run([str(venv / "bin" / "latentstage"), "demo", "--seconds", "2"], capture_output=True,
                            text=True, cwd=elsewhere, env=env, timeout=300, check=False)
    assert_demo_rehearsed_into_out(result, elsewhere)


def test_a_warning_during_a_rehearsal_is_a_line_of_its_own_above_the_progress_bar(tmp_path):
    """A scene that cannot be rehearsed (a live camera) warns while the bar is drawn: the warning starts
    its own line, and the models' CPU fallback is said at most once."""
    show = tmp_path / "camera.yaml"
    show.write_text(yaml.safe_dump({
        "name": "camera", "output": {"width": 64, "height": 48, "fps": 10},
        "scenes": [{"name": "live", "kind": "pipeline", "source": {"kind": "camera", "device": 0}},
                   {"name": "drift", "kind": "cppn", "model": str(REPO / "models" / "cppn-tanh.onnx")}]}))
    done = latentstage("rehearse", str(show), "-o", str(tmp_path / "out.mp4"), "--seconds", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    warnings = [line for line in done.stderr.split("\n") if "WARNING latentstage.stage" in line]
    assert warnings and "rehearsing:" in done.stderr, done.stderr[-2000:]
    for line in warnings:  # what a terminal shows of the line: the text after its last carriage return
        shown = line.rsplit("\r", 1)[-1]
        assert re.match(r"\d\d:\d\d:\d\d WARNING latentstage\.stage: scene 'live'", shown), repr(line)
    assert done.stderr.count("no GPU provider loads") <= 1, done.stderr[-2000:]
