"""live.inference.engine on real exported CPPN files with real ONNX Runtime sessions (CPU here)."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from exporters.onnx import export
from live.scenes.cppn_math import coordinates
from live.inference.engine import Engine, EngineConfig, EngineError
from live.inference.providers import CUDA, probe_providers
from trainers.cppn.model import CPPN, CPPNConfig

from tests.conftest import REPO


@pytest.fixture(scope="module")
def cppn() -> CPPN:
    return CPPN(CPPNConfig(seed=5))


@pytest.fixture(scope="module")
def model_path(cppn, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("engine") / "cppn.onnx"
    export(cppn, path, parity_sizes=((16, 24), (9, 13)))
    return path


@pytest.fixture(scope="module")
def engine(model_path) -> Engine:
    return Engine.load(model_path, EngineConfig(providers="cpu"))


def cppn_inputs(width: int, height: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "coords": coordinates(width, height),
        "z": rng.uniform(-1, 1, (1, 8)).astype(np.float32),
        "scale": np.array([8.0], np.float32),
    }


def torch_image(cppn: CPPN, inputs: dict[str, np.ndarray]) -> np.ndarray:
    with torch.no_grad():
        return cppn(*(torch.from_numpy(np.array(inputs[name])) for name in ("coords", "z", "scale"))).numpy()


def gpu_provider_loads() -> bool:
    return any(status.loads for status in probe_providers() if status.name != "CPUExecutionProvider")


def test_engine_exposes_the_card_names_and_providers(engine, model_path):
    assert engine.path == model_path
    assert engine.card.kind == "cppn" and engine.card.z_dim == 8
    assert engine.input_names == ["coords", "z", "scale"] and engine.output_names == ["image"]
    assert engine.providers == ["CPUExecutionProvider"]


@pytest.mark.parametrize("width, height", [(64, 48), (33, 21)])
def test_run_matches_torch(engine, cppn, width, height):
    inputs = cppn_inputs(width, height, seed=width)
    image = engine.run(inputs)["image"]
    assert image.shape == (height, width, 3) and image.dtype == np.float32
    np.testing.assert_allclose(image, torch_image(cppn, inputs), atol=1e-4)


def test_output_buffers_are_reused_per_input_shape(model_path, cppn):
    engine = Engine.load(model_path, EngineConfig(providers="cpu"))
    small, large = cppn_inputs(32, 20, seed=1), cppn_inputs(40, 30, seed=2)
    first = engine.run(small)["image"]
    address = first.ctypes.data
    second_inputs = cppn_inputs(32, 20, seed=3)
    second = engine.run(second_inputs)["image"]
    assert second.ctypes.data == address  # ORT wrote into the same memory...
    np.testing.assert_allclose(second, torch_image(cppn, second_inputs), atol=1e-4)  # ...with new values
    assert engine.run(large)["image"].ctypes.data != address
    assert engine.run(small)["image"].ctypes.data == address  # the first size's buffer is kept


def test_warm_up_records_nodes_per_provider(model_path):
    engine = Engine.load(model_path, EngineConfig(providers="cpu", warmup_runs=3))
    engine.warm_up(cppn_inputs(16, 16, seed=0))
    assert set(engine.node_providers) == {"CPUExecutionProvider"}
    assert engine.node_providers["CPUExecutionProvider"] > 5  # MatMul, Add, Tanh, ... per layer
    assert not list(Path(tempfile.gettempdir()).glob(f"latentstage-profile-{os.getpid()}*"))  # profile deleted


@pytest.mark.skipif(gpu_provider_loads(), reason="a GPU provider loads on this machine")
@pytest.mark.parametrize("config", [EngineConfig(providers="cuda"), EngineConfig(require_gpu=True)])
def test_asking_for_a_gpu_without_one_fails_naming_cuda(model_path, config):
    with pytest.raises(EngineError, match="CUDA") as caught:
        Engine.load(model_path, config)
    assert str(model_path) in str(caught.value)
    reason = next(s.reason for s in probe_providers() if s.name == CUDA)
    assert reason and reason in str(caught.value)


@pytest.mark.skipif(gpu_provider_loads(), reason="a GPU provider loads on this machine")
def test_auto_falls_back_to_cpu_with_a_warning(model_path, caplog, monkeypatch):
    import live.inference.engine as engine_module

    monkeypatch.setattr(engine_module, "_cpu_fallback_reported", threading.Event())  # as in a fresh process
    with caplog.at_level(logging.WARNING, logger="latentstage.engine"):
        engine = Engine.load(model_path)
        Engine.load(model_path)
    assert engine.providers == ["CPUExecutionProvider"]
    said = [record.getMessage() for record in caplog.records]
    assert said == ["no GPU provider loads here: models run on the CPU (why: `latentstage doctor`)"], said  # once


def test_a_file_without_the_contract_is_refused_by_name(model_path, tmp_path):
    bare = onnx.load(model_path)
    del bare.metadata_props[:]
    path = tmp_path / "bare.onnx"
    onnx.save(bare, path)
    with pytest.raises(EngineError, match="no latentstage metadata") as caught:
        Engine.load(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("content", [None, b"this is not a protobuf \xff\x00\x13"])
def test_missing_or_corrupt_files_are_refused_by_name(tmp_path, content):
    path = tmp_path / "broken.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(EngineError) as caught:
        Engine.load(path)
    assert str(path) in str(caught.value)


def test_live_modules_import_without_torch():
    code = "import sys; sys.modules['torch'] = None; import live.inference.engine, live.doctor, live.inference.providers"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_cpu_kernels_run_on_one_thread_per_physical_core(engine, tmp_path):
    from live.inference.cpu_threads import _linux_cores, physical_cores

    # two cores with two hyper-threads each, as /proc/cpuinfo lists them: four blocks, two cores
    blocks = [f"processor\t: {cpu}\nphysical id\t: 0\ncore id\t\t: {cpu % 2}\n" for cpu in range(4)]
    (tmp_path / "cpuinfo").write_text("\n".join(blocks))
    assert _linux_cores(tmp_path / "cpuinfo") == 2
    assert _linux_cores(tmp_path / "missing") is None
    assert 1 <= physical_cores() <= len(os.sched_getaffinity(0))
    assert engine._session.get_session_options().intra_op_num_threads == physical_cores()
