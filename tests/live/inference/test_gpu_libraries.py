"""NVIDIA without system CUDA: the pip package named for each missing library, TensorRT's engine
cache per model content and GPU, and the engine asking TensorRT for it (checked on this CPU-only
machine through the provider choice itself; no GPU runs here)."""
from __future__ import annotations

from pathlib import Path

from live.inference import gpu_libraries
from live.inference.engine import EngineConfig, _choose_providers
from live.inference.providers import CPU, CUDA, TENSORRT, ProviderStatus, missing_gpu_libraries
from live.inference.tensorrt_cache import engine_folder, gpu_name


def test_each_missing_library_is_named_with_the_wheel_that_brings_it():
    assert gpu_libraries.install_hint("libcublasLt.so.13") == "nvidia-cublas~=13.0"
    assert gpu_libraries.install_hint("libcublas.so.13: cannot open shared object file") == "nvidia-cublas~=13.0"
    assert gpu_libraries.install_hint("libcudnn_graph.so.9") == "nvidia-cudnn-cu13~=9.0"
    assert gpu_libraries.install_hint("libnvinfer.so.10") == "tensorrt-cu13~=10.0"
    assert gpu_libraries.install_hint("libcurand.so.10") == "nvidia-curand~=10.0"
    assert gpu_libraries.install_hint("libfoo.so.1") is None
    printed = "Failed to load libcublasLt.so.13: nope\nFailed to load libcurand.so.10: nope\nFailed to load libcublasLt.so.13"
    assert gpu_libraries.failed_preloads(printed) == ["libcublasLt.so.13", "libcurand.so.10"]


def test_this_machine_s_preload_finds_no_cuda_and_says_which_libraries():
    missing = missing_gpu_libraries()
    if not Path("/dev/nvidia0").exists():  # a CPU machine without the nvidia wheels
        assert "libcublasLt.so.13" in missing, missing
    assert all(".so" in library for library in missing)


def test_tensorrt_engines_are_cached_per_model_content_and_gpu(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = tmp_path / "a.onnx"
    model.write_bytes(b"one model")
    first = engine_folder(model, 0)
    assert first.parent == tmp_path / "cache" / "latentstage" / "tensorrt"
    assert engine_folder(model, 0) == first
    model.write_bytes(b"another model, re-exported")
    assert engine_folder(model, 0) != first  # a changed file never reuses a stale engine
    drivers = tmp_path / "gpus"
    (drivers / "0000:01:00.0").mkdir(parents=True)
    (drivers / "0000:01:00.0" / "information").write_text("Model: \t\t NVIDIA H200\nIRQ: 42\n")
    assert gpu_name(0, drivers) == "NVIDIA H200" and gpu_name(1, drivers) == "gpu1"


def test_the_engine_asks_tensorrt_to_keep_its_engines_where_tensorrt_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = tmp_path / "m.onnx"
    model.write_bytes(b"model")
    statuses = [ProviderStatus(TENSORRT, True, True, ""), ProviderStatus(CUDA, True, True, ""),
                ProviderStatus(CPU, True, True, "")]
    chain = _choose_providers(EngineConfig(providers="auto"), statuses, model)
    assert [entry[0] if isinstance(entry, tuple) else entry for entry in chain] == [TENSORRT, CUDA, CPU]
    options = chain[0][1]
    assert options["trt_engine_cache_enable"] == "True"
    assert Path(options["trt_engine_cache_path"]) == engine_folder(model, 0)
    assert Path(options["trt_engine_cache_path"]).is_dir()
    assert chain[1][1] == {"device_id": 0}
