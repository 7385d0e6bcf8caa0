"""Which ONNX Runtime execution providers actually work on this machine, found out quietly.

onnxruntime-gpu lists TensorRT and CUDA as available even where their libraries
are missing; asking for them then prints coloured C++ errors (and, for TensorRT,
a Python banner on stdout) and silently falls back to CPU. `probe_providers`
opens a one-node in-memory model with each provider alone, with the process's
stdout and stderr file descriptors redirected into a temporary file, and turns
what was printed into a one-line reason such as
"libcublasLt.so.13: cannot open shared object file". The answer is cached per
process: provider libraries load once, and the probe costs ~0.1 s each.
"""
from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import onnxruntime as ort

from live.inference import gpu_libraries

TENSORRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
PROBED = (TENSORRT, CUDA, CPU)  # fastest first
GPU_PROVIDERS = (TENSORRT, CUDA)

SHORT_NAMES = {TENSORRT: "TensorRT", CUDA: "CUDA", CPU: "CPU"}

_REDIRECT_LOCK = threading.Lock()
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
_MISSING_LIBRARY = re.compile(r"([\w.+-]+\.so[\w.]*): cannot open shared object file")
_ORT_LOG_PREFIX = re.compile(r"^\S+ \S+ \[[EWIV]:onnxruntime:[^\]]*\] ")
# The probe's model, serialized: y = x + x on a float[4] (Add has kernels on every provider, so a failure
# means the provider, not the model), opset 17, IR version 8 (readable by every ORT from 1.14 on). Its
# bytes and not onnx.helper's calls, as importing onnx costs more than the whole probe;
# tests/live/inference/test_providers.py builds it with onnx.helper and compares.
PROBE_MODEL = (b'\x08\x08:E\n\x0e\n\x01x\n\x01x\x12\x01y"\x03Add\x12\x11latentstage_probeZ\x0f\n\x01x\x12\n\n\x08'
               b'\x08\x01\x12\x04\n\x02\x08\x04b\x0f\n\x01y\x12\n\n\x08\x08\x01\x12\x04\n\x02\x08\x04B\x04\n\x00\x10\x11')


@dataclass(frozen=True)
class ProviderStatus:
    name: str  # ORT's name, e.g. "CUDAExecutionProvider"
    compiled_in: bool  # listed by ort.get_available_providers()
    loads: bool  # a session with this provider alone really runs on it
    reason: str  # why not, one line; "" when it loads

    @property
    def short_name(self) -> str:
        return SHORT_NAMES.get(self.name, self.name)


def probe_providers() -> list[ProviderStatus]:
    """TensorRT, CUDA and CPU, in that order; cached for the life of the process."""
    return list(_probe_all())


def missing_gpu_libraries() -> list[str]:
    """Sonames of CUDA and cuDNN libraries that ONNX Runtime's preload could not find (pip or system)."""
    _probe_all()
    return list(_preload_failures)


_preload_failures: list[str] = []


@functools.lru_cache(maxsize=1)
def _probe_all() -> tuple[ProviderStatus, ...]:
    compiled = set(ort.get_available_providers())
    if CUDA in compiled:  # first: CUDA and cuDNN from pip's nvidia wheels, where installed
        # preload_dlls reports through Python's print: catch sys.stdout too, wherever it points
        with _captured_output() as captured, contextlib.redirect_stdout(io.StringIO()) as printed:
            gpu_libraries.preload()
        _preload_failures[:] = gpu_libraries.failed_preloads(captured.text + printed.getvalue())
    return tuple(_probe(name, name in compiled, PROBE_MODEL) for name in PROBED)


def _probe(name: str, compiled_in: bool, model_bytes: bytes) -> ProviderStatus:
    if not compiled_in:
        return ProviderStatus(name, False, False, "not compiled into this onnxruntime build")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the session's own warnings are noise here
    with _captured_output() as captured:
        try:
            session = ort.InferenceSession(model_bytes, options, providers=[name])
            active = session.get_providers()
            error = ""
        except Exception as failure:  # ORT raises its own Fail/RuntimeException types
            active = []
            error = str(failure)
    # ORT falls back to CPU instead of failing, so only the active list tells the truth.
    if active and active[0] == name:
        return ProviderStatus(name, True, True, "")
    return ProviderStatus(name, True, False, _reason(error + "\n" + captured.text))


class _Captured:
    text = ""


@contextlib.contextmanager
def _captured_output() -> Iterator[_Captured]:
    """Redirect file descriptors 1 and 2 (C++ logs and Python prints alike) into a
    temporary file for the block. The lock keeps two probes from interleaving;
    other threads' writes during the block are captured too, which is why probing
    happens once, at start-up."""
    captured = _Captured()
    with _REDIRECT_LOCK, tempfile.TemporaryFile(mode="w+b") as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield captured
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            sink.seek(0)
            captured.text = sink.read().decode("utf-8", errors="replace")


def _reason(text: str) -> str:
    """The most useful single line of what ORT printed while a provider failed."""
    clean = _ANSI_ESCAPE.sub("", text)
    missing = _MISSING_LIBRARY.search(clean)
    if missing:
        return f"{missing.group(1)}: cannot open shared object file"
    lines = [_ORT_LOG_PREFIX.sub("", line).strip() for line in clean.splitlines()]
    lines = [line for line in lines if line and not set(line) <= set("*")]
    if not lines:
        return "did not load (ONNX Runtime said nothing)"
    for line in lines:
        if line.startswith(("Failed to create", "Please install", "EP Error")):
            return line[:200]
    return lines[0][:200]
