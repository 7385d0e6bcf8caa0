"""CUDA, cuDNN and TensorRT libraries for ONNX Runtime: preloaded from pip's nvidia packages, and,
when missing, named with the pip package that brings each.

`pip install "onnxruntime-gpu[cuda,cudnn]"` puts the CUDA runtime and cuDNN in
nvidia-* wheels inside site-packages, where the dynamic loader never looks; ONNX
Runtime's `preload_dlls` loads them by path first, so a pip-only install finds
CUDA with no system packages. The cuda extra of onnxruntime-gpu 1.31 leaves out
cuBLAS (libcublasLt.so.13 is then missing), so `.ci/setup --gpu` adds it; for
anything else still missing, `install_hint` names the wheel by the library's
soname, with the major version the build asked for.
"""
from __future__ import annotations

import re

import onnxruntime as ort

# soname stem -> pip distribution; "{major}" is the soname's version (libcurand.so.10 -> 10)
_PACKAGES = (
    ("libcublasLt", "nvidia-cublas~={major}.0"),
    ("libcublas", "nvidia-cublas~={major}.0"),
    ("libcudart", "nvidia-cuda-runtime~={major}.0"),
    ("libnvrtc", "nvidia-cuda-nvrtc~={major}.0"),
    ("libcufft", "nvidia-cufft~={major}.0"),
    ("libcurand", "nvidia-curand~={major}.0"),
    ("libcudnn", "nvidia-cudnn-cu13~={major}.0"),
    ("libnvinfer", "tensorrt-cu13~={major}.0"),
    ("libnvonnxparser", "tensorrt-cu13~={major}.0"),
)
_LIBRARY = re.compile(r"(lib[\w+-]+?)\.so\.(\d+)")
_FAILED_PRELOAD = re.compile(r"Failed to load (lib[\w.+-]+\.so[\w.]*)")


def preload() -> None:
    """Load CUDA and cuDNN from pip's nvidia packages where installed (ORT 1.21+); prints a line per
    library it cannot find, which the caller captures (live.inference.providers probes inside that)."""
    if hasattr(ort, "preload_dlls"):
        ort.preload_dlls(cuda=True, cudnn=True, msvc=False)


def failed_preloads(printed: str) -> list[str]:
    """The sonames preload_dlls said it could not load, in order, once each."""
    return list(dict.fromkeys(_FAILED_PRELOAD.findall(printed)))


def install_hint(library: str) -> str | None:
    """The pip requirement that brings `library` (a soname such as libcublasLt.so.13), or None."""
    match = _LIBRARY.search(library)
    if match is None:
        return None
    stem, major = match.groups()
    for prefix, requirement in _PACKAGES:
        if stem.startswith(prefix):
            return requirement.format(major=major)
    return None
