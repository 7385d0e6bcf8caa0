"""Where TensorRT keeps the engines it builds: one folder per model file's content and GPU.

Building a TensorRT engine takes from seconds to minutes per model; ONNX Runtime
can save the built engine and reuse it, so the second start of a show is fast.
The folder is named by the model's SHA-256 (a re-exported or retrained file gets
a new one, never a stale engine) and the GPU's model name (an engine is built
for one GPU), under the user's cache folder: $XDG_CACHE_HOME or ~/.cache on
Linux and macOS, %LOCALAPPDATA% on Windows.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
from pathlib import Path


def cache_root() -> Path:
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "latentstage" / "tensorrt"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "latentstage" / "tensorrt"


@functools.lru_cache(maxsize=32)
def _file_digest(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def gpu_name(device_id: int, drivers: Path = Path("/proc/driver/nvidia/gpus")) -> str:
    """The NVIDIA GPU's model name ("NVIDIA H200") from the driver, by bus order; "gpuN" where unknown."""
    try:
        informations = sorted(drivers.glob("*/information"))
        text = informations[device_id].read_text()
    except (OSError, IndexError):
        return f"gpu{device_id}"
    match = re.search(r"^Model:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else f"gpu{device_id}"


def engine_folder(model: Path, device_id: int) -> Path:
    stat = model.stat()
    digest = _file_digest(model.resolve(), stat.st_size, stat.st_mtime_ns)
    gpu = re.sub(r"[^A-Za-z0-9]+", "-", gpu_name(device_id)).strip("-").lower()
    return cache_root() / f"{digest[:16]}-{gpu}"


def tensorrt_options(model: Path, device_id: int) -> dict[str, str]:
    """TensorRT provider options that save and reuse built engines (and timing) in engine_folder."""
    folder = engine_folder(model, device_id)
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "device_id": str(device_id),
        "trt_engine_cache_enable": "True",
        "trt_engine_cache_path": str(folder),
        "trt_timing_cache_enable": "True",
        "trt_timing_cache_path": str(folder),
    }
