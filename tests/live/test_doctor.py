"""live.doctor run as users run it: a subprocess, its JSON and its table."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECTIONS = ["versions", "onnxruntime", "display", "audio", "cameras", "osc"]


def run_doctor(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "live.doctor", *args], cwd=REPO,
                            capture_output=True, text=True, timeout=30)
    return result, time.monotonic() - started


def test_json_report_has_every_section_with_a_verdict():
    result, seconds = run_doctor("--json")
    assert result.returncode == 0, result.stderr
    assert seconds < 10
    report = json.loads(result.stdout)
    assert list(report) == SECTIONS
    for name, section in report.items():
        assert section["verdict"] in ("ok", "warn", "missing"), name
        assert section["summary"] and "\n" not in section["summary"], name
    assert report["versions"]["versions"]["onnxruntime"]
    providers = {p["name"]: p for p in report["onnxruntime"]["providers"]}
    assert list(providers) == ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert providers["CPUExecutionProvider"]["loads"] is True
    cuda = providers["CUDAExecutionProvider"]
    assert cuda["loads"] or cuda["reason"]  # a CUDA that does not load says why
    assert report["osc"]["address"] == "udp://127.0.0.1:9000"
    assert isinstance(report["cameras"]["devices"], list)


def test_plain_output_is_a_short_table_and_the_probe_is_quiet():
    result, _ = run_doctor()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "latentstage doctor"
    assert [line.split()[0] for line in lines[1:]] == SECTIONS
    assert all(line.split()[1] in ("ok", "warn", "missing") for line in lines[1:])
    assert len({line.index(line.split()[1]) for line in lines[1:]}) == 1  # verdicts line up
    # ORT's provider-loading errors are turned into reasons, not printed.
    assert "EP Error" not in result.stdout + result.stderr
    assert "onnxruntime:Default" not in result.stderr
