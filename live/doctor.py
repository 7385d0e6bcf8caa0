"""`latentstage doctor`: what this machine can do for a show, in one short table.

Checks library versions, ONNX Runtime providers (quietly, see live.inference.providers),
the display (a window, and headless EGL), audio devices, cameras and the
default OSC port. Anything that can crash or hang (GL drivers, X connections,
PortAudio) is probed in a short-lived subprocess with a timeout, so a broken
driver shows as a verdict instead of killing the doctor. Each section gets a
verdict, "ok", "warn" or "missing", and a one-line summary. The exit code is
0 even with warnings, because this is a diagnosis; it is 1 only when the
runtime itself is broken (ONNX Runtime missing or its CPU provider not loading).
"""
from __future__ import annotations

import argparse
import glob
import importlib.metadata
import importlib.util
import json
import os
import platform
import socket
import subprocess
import sys
from typing import Any

OK, WARN, MISSING = "ok", "warn", "missing"
OSC_HOST, OSC_PORT = "127.0.0.1", 9000  # the default OSC listening address
PROBE_TIMEOUT = 8.0  # seconds per subprocess probe; they run side by side

# Shown name -> distribution names to try, first found wins.
LIBRARIES = {
    "numpy": ("numpy",),
    "onnxruntime": ("onnxruntime-gpu", "onnxruntime"),
    "onnx": ("onnx",),
    "pyglet": ("pyglet",),
    "av": ("av",),
    "sounddevice": ("sounddevice",),
    "python-osc": ("python-osc",),
    "mido": ("mido",),
    "python-rtmidi": ("python-rtmidi",),
    "ableton-link": ("LinkPython-extern",),  # the Link tempo source and leader (import link)
}

# Each probe prints one JSON line. Kept as source text: they run in a fresh interpreter.
_WINDOW_PROBE = """
import json, pyglet
screens = pyglet.display.get_display().get_screens()
print(json.dumps({"screens": [f"{s.width}x{s.height}" for s in screens]}))
"""
_HEADLESS_PROBE = """
import json, pyglet
pyglet.options["headless"] = True
import pyglet.window
from pyglet import gl
window = pyglet.window.Window(16, 16, visible=False)
renderer = gl.gl_info.get_renderer()
window.close()
print(json.dumps({"renderer": renderer}))
"""
# The bundled CPPN drawn by the renderer's GL shader, headless, as `backend: auto` would draw it.
_CPPN_SHADER_PROBE = """
import importlib.resources, json
import numpy as np
from live.scenes.cppn_shader import fragment_source, shader_picture
from live.output.render import RenderConfig, open_renderer
from live.inference.cppn_weights import read_cppn_weights
weights = read_cppn_weights(importlib.resources.files("models") / "cppn-tanh.onnx")
renderer = open_renderer(RenderConfig(width=32, height=32, vsync=False), (32, 32), headless=True)
from pyglet import gl
program = fragment_source(weights, "cppn-tanh.onnx")
renderer.shaders.prepare(program)
renderer.upload(1, shader_picture(program, weights, np.zeros(weights.card.z_dim), weights.card.scale, 32, 32, True))
renderer.draw(1.0)
spread = float(renderer.read_pixels().std())
renderer.close()
print(json.dumps({"renderer": gl.gl_info.get_renderer(), "spread": spread}))
"""
_AUDIO_PROBE = """
import json
try:
    import sounddevice as sd
except OSError as error:
    print(json.dumps({"portaudio": False, "error": str(error)}))
    raise SystemExit
devices = sd.query_devices()
default_input = sd.default.device[0]
print(json.dumps({
    "portaudio": True,
    "portaudio_version": sd.get_portaudio_version()[1],
    "inputs": [d["name"] for d in devices if d["max_input_channels"] > 0],
    "outputs": [d["name"] for d in devices if d["max_output_channels"] > 0],
    "default_input": devices[default_input]["name"] if default_input is not None and default_input >= 0 else None,
}))
"""


def collect() -> dict[str, dict[str, Any]]:
    """Section name -> {"verdict", "summary", and the section's details}."""
    # Started first so they run while the in-process checks do.
    probes = {
        "window": _start_probe(_WINDOW_PROBE),
        "headless": _start_probe(_HEADLESS_PROBE),
        "audio": _start_probe(_AUDIO_PROBE),
        "cppn": _start_probe(_CPPN_SHADER_PROBE),
    }
    report = {
        "versions": _versions(),
        "onnxruntime": _onnxruntime(),
        "cameras": _cameras(),
        "osc": _osc_port(),
        "midi": _midi(),
        "outputs": _outputs(),
    }
    results = {name: _finish_probe(process) for name, process in probes.items()}
    report["display"] = _display(results["window"], results["headless"])
    report["audio"] = _audio(results["audio"])
    report["cppn"] = _cppn(results["cppn"])
    order = ("versions", "onnxruntime", "display", "cppn", "audio", "cameras", "osc", "midi", "outputs")
    return {name: report[name] for name in order}


def runtime_broken(report: dict[str, dict[str, Any]]) -> bool:
    return report["onnxruntime"]["verdict"] == MISSING


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="latentstage doctor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)
    report = collect()
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 1 if runtime_broken(report) else 0


def format_table(report: dict[str, dict[str, Any]]) -> str:
    width = max(len(name) for name in report)
    lines = ["latentstage doctor"]
    lines += [f"  {name:<{width}}  {section['verdict']:<7}  {section['summary']}" for name, section in report.items()]
    return "\n".join(lines)


def _section(verdict: str, summary: str, **details: Any) -> dict[str, Any]:
    return {"verdict": verdict, "summary": summary, **details}


def _versions() -> dict[str, Any]:
    versions = {"python": platform.python_version()}
    versions.update({shown: _distribution_version(names) for shown, names in LIBRARIES.items()})
    # Only trainers and exporters need torch: look it up without importing it.
    versions["torch"] = _distribution_version(("torch",)) if importlib.util.find_spec("torch") else None
    absent = [name for name, version in versions.items() if version is None and name != "torch"]
    if absent:
        return _section(MISSING, f"not installed: {', '.join(absent)}", versions=versions)
    torch_text = f"torch {versions['torch']} (for trainers)" if versions["torch"] else "no torch (runtime only)"
    summary = (f"python {versions['python']}, onnxruntime {versions['onnxruntime']}, "
               f"all {len(LIBRARIES)} runtime libraries present; {torch_text}")
    return _section(OK, summary, versions=versions)


def _distribution_version(names: tuple[str, ...]) -> str | None:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _onnxruntime() -> dict[str, Any]:
    try:
        from live.inference import gpu_libraries  # imported here: a broken ORT is a finding, not a crash
        from live.inference.providers import missing_gpu_libraries, probe_providers
    except ImportError as error:
        return _section(MISSING, f"onnxruntime does not import: {error}", providers=[])
    statuses = probe_providers()
    providers = [
        {"name": s.name, "compiled_in": s.compiled_in, "loads": s.loads, "reason": s.reason} for s in statuses
    ]
    loading = [s.short_name for s in statuses if s.loads]
    failing = "; ".join(f"{s.short_name}: {s.reason}" for s in statuses if not s.loads)
    # each library a GPU provider lacks, with the pip package that brings it
    libraries = [s.reason.split(":")[0] for s in statuses if not s.loads and ".so" in s.reason]
    missing = [{"library": library, "install": f'pip install "{gpu_libraries.install_hint(library)}"'}
               for library in dict.fromkeys([*libraries, *missing_gpu_libraries()])
               if gpu_libraries.install_hint(library)]
    if "CPU" not in loading:
        return _section(MISSING, f"the CPU provider does not load ({failing})", providers=providers,
                        missing_libraries=missing)
    if loading == ["CPU"]:
        return _section(WARN, f"CPU only: {_why_no_gpu(statuses, missing)}", providers=providers,
                        missing_libraries=missing)
    return _section(OK, f"runs on {', '.join(loading)}", providers=providers, missing_libraries=missing)


def _why_no_gpu(statuses, missing: list[dict[str, str]]) -> str:
    """One short reason the GPU providers do not load, and one fix (the details are in --json)."""
    if not missing:
        return "; ".join(f"{s.short_name}: {s.reason}" for s in statuses if not s.loads)
    libraries = ", ".join(m["library"] for m in missing)
    packages = " ".join(dict.fromkeys(m["install"].removeprefix("pip install ") for m in missing))
    return f"the GPU providers lack {libraries}; for a GPU: bash .ci/setup --gpu (or pip install {packages})"


def _cppn(probe: dict[str, Any]) -> dict[str, Any]:
    """Which backend a CPPN scene's `backend: auto` gets: the renderer's GL shader, or ONNX Runtime."""
    from live.output.render import is_software_renderer

    if probe["ok"] and probe["spread"] > 1.0:
        if is_software_renderer(probe["renderer"]):
            return _section(OK, f"backend auto runs CPPNs on ONNX Runtime: the GL renderer ({probe['renderer']}) "
                                "rasterises on the CPU, where ONNX Runtime is faster; backend: shader works too",
                            backend="onnx", probe=probe)
        return _section(OK, f"backend auto draws CPPNs with the GL shader ({probe['renderer']}, headless)",
                        backend="shader", probe=probe)
    why = probe.get("error") or "the shader drew a flat picture"
    return _section(WARN, f"backend auto falls back to ONNX Runtime: the GL shader fails headless ({why})",
                    backend="onnx", probe=probe)


def _start_probe(source: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", source], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),  # live/ and models/ import from here too
    )


def _finish_probe(process: subprocess.Popen[str]) -> dict[str, Any]:
    """{"ok": True, ...the probe's JSON} or {"ok": False, "error": one line}."""
    try:
        stdout, stderr = process.communicate(timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return {"ok": False, "error": f"timed out after {PROBE_TIMEOUT:.0f} s"}
    lines = stdout.strip().splitlines()
    if process.returncode == 0 and lines:
        return {"ok": True, **json.loads(lines[-1])}
    errors = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return {"ok": False, "error": errors[-1] if errors else f"exit status {process.returncode}"}


def _display(window: dict[str, Any], headless: dict[str, Any]) -> dict[str, Any]:
    if _module_missing(window):
        return _section(MISSING, "pyglet is not installed")
    variables = {name: os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY")}
    has_variable = any(variables.values())
    headless_text = (f"headless EGL works ({headless['renderer']})" if headless["ok"]
                     else f"headless EGL fails: {headless['error']}")
    details = {"environment": variables, "window": window, "headless": headless}
    if window["ok"]:
        screens = ", ".join(window["screens"])
        verdict = OK if headless["ok"] else WARN
        return _section(verdict, f"display opens (screens {screens}); {headless_text}", **details)
    why = "no DISPLAY or WAYLAND_DISPLAY set" if not has_variable else f"display does not open: {window['error']}"
    verdict = WARN if headless["ok"] else MISSING
    return _section(verdict, f"{why}; {headless_text}", **details)


def _module_missing(probe: dict[str, Any]) -> bool:
    return not probe["ok"] and "No module named" in probe["error"]


def _audio(probe: dict[str, Any]) -> dict[str, Any]:
    if _module_missing(probe):
        return _section(MISSING, "sounddevice is not installed")
    if not probe["ok"]:
        return _section(MISSING, f"audio probe failed: {probe['error']}", probe=probe)
    if not probe["portaudio"]:
        return _section(MISSING, f"PortAudio not found: {probe['error']}", probe=probe)
    details = {key: probe[key] for key in ("portaudio_version", "inputs", "outputs", "default_input")}
    if not probe["inputs"]:
        return _section(WARN, "no audio input device (use a WAV file for audio-driven scenes)", **details)
    default = probe["default_input"] or "none"
    return _section(OK, f"{len(probe['inputs'])} input device(s), default: {default}", **details)


def _cameras() -> dict[str, Any]:
    if not sys.platform.startswith("linux"):
        return _section(WARN, "camera listing is only implemented on Linux", devices=[])
    devices = sorted(glob.glob("/dev/video*"))
    if not devices:
        return _section(WARN, "no /dev/video* camera (use a video file or test pattern source)", devices=devices)
    return _section(OK, f"{len(devices)} device(s): {', '.join(devices)}", devices=devices)


def _osc_port() -> dict[str, Any]:
    address = f"udp://{OSC_HOST}:{OSC_PORT}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((OSC_HOST, OSC_PORT))
        except OSError as error:
            return _section(WARN, f"{address} is taken ({error.strerror}); set another OSC port in the show",
                            address=address, free=False)
    return _section(OK, f"{address} is free", address=address, free=True)


def _midi() -> dict[str, Any]:
    from live.control.midi_ports import MidiUnavailable, api_name, port_names

    api = api_name()
    try:
        inputs, outputs = port_names("input"), port_names("output")
    except MidiUnavailable as error:
        return _section(WARN, f"{error}; a show's MIDI devices stay absent (the show runs without them)",
                        api=api, inputs=[], outputs=[])
    return _section(OK, f"{api.upper()}: {len(inputs)} input(s), {len(outputs)} output(s) "
                        "(`latentstage midi list` names them)", api=api, inputs=inputs, outputs=outputs)


def _outputs() -> dict[str, Any]:
    """Which `--send` outputs can work here: streams (and SRT), NDI, the virtual camera."""
    from live.output.sender import OutputError
    from live.output.send_targets import SendConfig, check_output, make_output

    ready, missing = ["udp://", "tcp://"], []
    for target, name in (("srt://127.0.0.1:9", "srt://"), ("ndi:doctor", "ndi"), ("vcam", "vcam")):
        try:
            check_output(make_output(SendConfig.model_validate(target), 30.0), (640, 360), device_too=True)
            ready.append(name)
        except OutputError as error:
            missing.append(str(error))
    summary = f"can send to {', '.join(ready)}" + (f"; not: {'; '.join(missing)}" if missing else "")
    return _section(OK if "ndi" in ready else WARN, summary, ready=ready, missing=missing)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
