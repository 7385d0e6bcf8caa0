"""live.doctor run as users run it (README "Commands": `latentstage doctor [--json]`): a subprocess,
its JSON and its table, with the verdicts this kind of machine must get (the CPU provider loads; with
no GPU, CUDA does not and says why; headless EGL works; a PulseAudio input and an X display are found)."""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECTIONS = ["versions", "onnxruntime", "display", "cppn", "audio", "cameras", "osc", "midi", "outputs"]
GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


def run_doctor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "live.doctor", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def without_display(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name not in ("DISPLAY", "WAYLAND_DISPLAY")}


def test_json_report_gives_this_machine_its_verdicts(pulse_sink):
    result = run_doctor("--json", env=without_display(pulse_sink))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == SECTIONS
    for name, section in report.items():
        assert section["verdict"] in ("ok", "warn", "missing"), name
        assert section["summary"] and "\n" not in section["summary"], name

    # outputs: streams and NDI (the ndi extra) work here; SRT (no libsrt in PyAV's FFmpeg) and the virtual
    # camera (no v4l2loopback) do not, each said in its own words
    outputs = report["outputs"]
    assert outputs["verdict"] == "ok" and outputs["ready"] == ["udp://", "tcp://", "ndi"], outputs
    assert [problem.split(":")[0] for problem in outputs["missing"]] == ["srt", "vcam"], outputs

    # every runtime library is installed here (the setup script installs them)
    assert report["versions"]["verdict"] == "ok", report["versions"]
    assert report["versions"]["versions"]["onnxruntime"]

    runtime = report["onnxruntime"]
    providers = {p["name"]: p for p in runtime["providers"]}
    assert list(providers) == [*GPU_PROVIDERS, "CPUExecutionProvider"]
    assert providers["CPUExecutionProvider"]["loads"] is True and providers["CPUExecutionProvider"]["reason"] == ""
    gpus_loading = [name for name in GPU_PROVIDERS if providers[name]["loads"]]
    if not glob.glob("/dev/nvidia[0-9]*"):  # no GPU in this machine: no GPU provider can load
        assert gpus_loading == [], providers
    cuda = providers["CUDAExecutionProvider"]
    if gpus_loading:  # a GPU machine with its libraries: the verdict names what runs
        assert runtime["verdict"] == "ok" and runtime["summary"].startswith("runs on "), runtime
    else:
        assert cuda["reason"] and "\n" not in cuda["reason"], cuda  # a CUDA that does not load says why
        assert runtime["verdict"] == "warn", runtime
        library = cuda["reason"].split(":")[0]
        assert runtime["summary"].startswith("CPU only: the GPU providers lack ") and library in runtime["summary"]
        # short, and each pip package named once however many of its libraries are missing
        assert len(runtime["summary"]) <= 240 and runtime["summary"].count("nvidia-cublas") == 1, runtime
        # each missing library named with the pip package that brings it (in --json)
        assert {"library": library, "install": 'pip install "nvidia-cublas~=13.0"'} in runtime["missing_libraries"]
        assert "bash .ci/setup --gpu" in runtime["summary"]

    # no display variable, but Mesa's EGL renders headless
    display = report["display"]
    assert display["verdict"] == "warn" and display["headless"]["ok"], display
    assert display["summary"].startswith("no DISPLAY or WAYLAND_DISPLAY set; headless EGL works")
    # Mesa's llvmpipe compiles and runs the bundled CPPN's shader, but on the CPU: auto keeps ONNX Runtime
    cppn = report["cppn"]
    assert cppn["verdict"] == "ok" and cppn["backend"] == "onnx" and cppn["probe"]["spread"] > 1.0, cppn
    assert cppn["summary"].startswith("backend auto runs CPPNs on ONNX Runtime: the GL renderer (llvmpipe")
    # the private PulseAudio daemon's null-sink monitor is an input device
    audio = report["audio"]
    assert audio["verdict"] == "ok" and audio["inputs"], audio
    # cameras and the OSC port: the verdict follows what was found
    cameras = report["cameras"]
    assert isinstance(cameras["devices"], list)
    assert cameras["verdict"] == ("ok" if cameras["devices"] else "warn"), cameras
    osc = report["osc"]
    assert osc["address"] == "udp://127.0.0.1:9000"
    assert osc["verdict"] == ("ok" if osc["free"] else "warn"), osc


def test_plain_output_is_a_short_table_and_the_probe_is_quiet(xvfb_display):
    result = run_doctor(env={**os.environ, "DISPLAY": xvfb_display})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "latentstage doctor"
    assert [line.split()[0] for line in lines[1:]] == SECTIONS
    assert all(line.split()[1] in ("ok", "warn", "missing") for line in lines[1:])
    assert len({line.index(line.split()[1]) for line in lines[1:]}) == 1  # verdicts line up
    display = next(line for line in lines if line.split()[0] == "display")
    assert display.split()[1] == "ok" and "screens 1024x768" in display, display  # the X server and EGL both work
    # ORT's provider-loading errors are turned into reasons, not printed.
    assert "EP Error" not in result.stdout + result.stderr
    assert "onnxruntime:Default" not in result.stderr


def test_midi_names_the_ports_a_jack_server_offers_and_says_what_to_start_without_one(jack_server):
    from tests.midi_player import Player

    with Player("doctor pads"):
        report = json.loads(run_doctor("--json", env=jack_server).stdout)
    midi = report["midi"]
    assert midi["verdict"] == "ok" and midi["api"] == "jack", midi
    assert any("doctor pads" in name for name in midi["inputs"]), midi
    assert any("doctor pads feedback" in name for name in midi["outputs"]), midi
    result = run_doctor(env={**jack_server, "JACK_DEFAULT_SERVER": "no-server-here"})
    line = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["midi"])
    assert line.split()[1] == "warn" and "no JACK server is running (start one: jackd -d dummy" in line, line
    assert "JackShm" not in result.stderr and "Cannot connect" not in result.stderr  # libjack's noise held back
