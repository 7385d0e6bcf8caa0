"""Load one self-describing .onnx model and run it on the best execution provider that really works.

`Engine.load` reads the file's ModelCard (refusing files without one), picks
providers from the quiet probe in live.inference.providers, opens the ONNX Runtime
session and checks that the session really uses what was asked for: ORT on its
own falls back to CPU without a word, and a show that needs a GPU must not
quietly run at two frames a second. `warm_up` runs the model a few times and
records which provider ran each node (from ORT's profiler). `run` goes through
IO binding with output buffers that are allocated once per input shape and
reused, so the live loop allocates nothing per frame.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import weakref
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort
from pydantic import Field

from live.core.config import Settings
from live.inference.cpu_threads import physical_cores
from live.inference.model_card import ModelCard, ModelCardError
from live.inference.onnx_metadata import NotOnnx, metadata_props
from live.inference.providers import (
    CPU,
    CUDA,
    GPU_PROVIDERS,
    SHORT_NAMES,
    TENSORRT,
    ProviderStatus,
    probe_providers,
)
from live.inference.tensorrt_cache import tensorrt_options

logger = logging.getLogger("latentstage.engine")

ProviderChoice = Literal["auto", "tensorrt", "cuda", "cpu"]

# ORT's element type names -> numpy dtypes for the tensors our models use.
_NUMPY_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(uint8)": np.uint8,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
}
# Output buffers kept per input-shape signature: a crossfade between two sizes
# reuses both sets, and a long run of size changes cannot grow memory without bound.
_KEPT_SHAPES = 4


_cpu_fallback_reported = threading.Event()


class EngineError(RuntimeError):
    """A model that cannot be loaded or run as asked; the message names the file."""


class EngineConfig(Settings):
    providers: ProviderChoice = "auto"  # auto: TensorRT, then CUDA, then CPU, whichever loads
    require_gpu: bool = False  # refuse to start on CPU
    warmup_runs: int = Field(2, ge=1)
    device_id: int = Field(0, ge=0)  # which GPU


class Engine:
    """One ONNX Runtime session over one model file. Build it with Engine.load."""

    def __init__(self, path: Path, card: ModelCard, session: ort.InferenceSession, device_id: int,
                 warmup_runs: int) -> None:
        self.path = path
        self.card = card
        self.providers: list[str] = session.get_providers()  # what the session actually uses
        self.input_names = [i.name for i in session.get_inputs()]
        self.output_names = [o.name for o in session.get_outputs()]
        self.node_providers: dict[str, int] = {}  # provider -> nodes it ran, filled by the first run
        self._session = session
        self._binding = session.io_binding()
        # A failing run raises, and the stage logs each distinct failure once; ORT's own logger would
        # also print every failed run (30 a second from a live loop), so runs log nothing themselves.
        self._run_options = ort.RunOptions()
        self._run_options.log_severity_level = 4  # fatal only
        self._device_id = device_id
        self._warmup_runs = warmup_runs
        self._input_types = {i.name: _numpy_type(i.type, path) for i in session.get_inputs()}
        self._output_types = {o.name: _numpy_type(o.type, path) for o in session.get_outputs()}
        self._outputs_on_gpu = self.providers[0] in GPU_PROVIDERS
        self._profiling = True  # load() opens the session with profiling on; the first run ends it
        self._buffers: OrderedDict[tuple, dict[str, np.ndarray]] = OrderedDict()  # host outputs
        self._device_buffers: dict[tuple, dict[str, ort.OrtValue]] = {}  # GPU outputs

    @classmethod
    def load(cls, path: str | os.PathLike[str], config: EngineConfig | None = None) -> Engine:
        config = config if config is not None else EngineConfig()
        path = Path(path)
        card = read_card(path)
        providers = _choose_providers(config, probe_providers(), path)
        session = _open_session(path, providers, config.device_id)
        wanted = providers[0] if isinstance(providers[0], str) else providers[0][0]
        if session.get_providers()[0] != wanted:
            raise EngineError(
                f"{path}: asked ONNX Runtime for {SHORT_NAMES[wanted]} but the session runs on "
                f"{', '.join(session.get_providers())}"
            )
        engine = cls(path, card, session, config.device_id, config.warmup_runs)
        # An engine dropped before its first run (`latentstage check`) must not leave its profile behind.
        weakref.finalize(engine, _discard_profile, session)
        logger.info("%s: %s on %s", path.name, card.describe(), ", ".join(engine.providers))
        return engine

    def warm_up(self, inputs: dict[str, np.ndarray]) -> None:
        """Run warmup_runs times at these inputs' shapes (first-run allocations, cuDNN
        and TensorRT tuning happen here, not on stage) and record node placement."""
        for _ in range(self._warmup_runs):
            self.run(inputs)
        logger.info("%s: nodes per provider %s", self.path.name, self.node_providers)

    def input_shapes(self) -> list[dict[str, tuple[int, ...]]]:
        """Input name -> shape for each input size this engine has run at (and keeps buffers for),
        oldest first: what a replacement model is warmed up at. Call it from the thread that runs it."""
        return [dict(signature) for signature in self._buffers]

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the model; returns output name -> array.

        The arrays are the engine's own buffers, reused by later runs with the same
        input shapes: they are valid until the next run. Copy them to keep them."""
        missing = set(self.input_names) - set(inputs)
        if missing:
            raise EngineError(f"{self.path}: missing inputs {sorted(missing)}; the model takes {self.input_names}")
        feeds = {name: np.ascontiguousarray(inputs[name], dtype=self._input_types[name]) for name in self.input_names}
        for name, array in feeds.items():
            self._binding.bind_cpu_input(name, array)
        signature = tuple((name, array.shape) for name, array in feeds.items())
        outputs = self._buffers.get(signature)
        if outputs is None:
            outputs = self._first_run(signature)
        elif self._outputs_on_gpu:
            self._run_into_device_buffers(signature, outputs)
        else:
            self._run_into_host_buffers(outputs)
        if self._profiling:
            self._record_node_providers()
        return dict(outputs)

    def _first_run(self, signature: tuple) -> dict[str, np.ndarray]:
        # Output shapes depend on the model, so the first run at a new input shape lets
        # ORT allocate, and its outputs (copied to the host) become the buffers.
        device = "cuda" if self._outputs_on_gpu else "cpu"
        for name in self.output_names:
            self._binding.bind_output(name, device, self._device_id if self._outputs_on_gpu else 0)
        self._session.run_with_iobinding(self._binding, self._run_options)
        outputs = dict(zip(self.output_names, self._binding.copy_outputs_to_cpu()))
        if self._outputs_on_gpu:
            self._device_buffers[signature] = {
                name: ort.OrtValue.ortvalue_from_shape_and_type(array.shape, array.dtype, "cuda", self._device_id)
                for name, array in outputs.items()
            }
        self._buffers[signature] = outputs
        self._forget_old_shapes()
        return outputs

    def _run_into_host_buffers(self, outputs: dict[str, np.ndarray]) -> None:
        # CPU: ORT writes straight into our numpy arrays' memory.
        for name, array in outputs.items():
            self._binding.bind_output(name, "cpu", 0, array.dtype, array.shape, array.ctypes.data)
        self._session.run_with_iobinding(self._binding, self._run_options)

    def _run_into_device_buffers(self, signature: tuple, outputs: dict[str, np.ndarray]) -> None:
        # GPU: outputs stay in preallocated device memory, then one device->host copy
        # each into the reused host buffer (OrtValue.numpy makes a temporary host array).
        device_values = self._device_buffers[signature]
        for name, value in device_values.items():
            self._binding.bind_ortvalue_output(name, value)
        self._session.run_with_iobinding(self._binding, self._run_options)
        self._binding.synchronize_outputs()
        for name, value in device_values.items():
            np.copyto(outputs[name], value.numpy())

    def _forget_old_shapes(self) -> None:
        while len(self._buffers) > _KEPT_SHAPES:
            oldest, _ = self._buffers.popitem(last=False)
            self._device_buffers.pop(oldest, None)

    def _record_node_providers(self) -> None:
        profile_path = Path(self._session.end_profiling())
        self._profiling = False
        try:
            self.node_providers = _count_node_providers(json.loads(profile_path.read_text()))
        finally:
            profile_path.unlink(missing_ok=True)


def _discard_profile(session: ort.InferenceSession) -> None:
    profile = session.end_profiling()  # "" when the first run already ended it
    if profile:
        Path(profile).unlink(missing_ok=True)


def read_card(path: Path) -> ModelCard:
    """The card of a model file, read from its ONNX metadata without opening a session (cheap)."""
    if path.is_dir():
        raise EngineError(f"{path}: a folder, not a model file; name the .onnx file in it")
    if not path.is_file():
        raise EngineError(f"{path}: no such model file")
    try:
        props = metadata_props(path)  # the card's few bytes, the weights skipped, without importing onnx
    except (NotOnnx, OSError) as error:
        raise EngineError(f"{path}: not a readable ONNX file ({error})") from error
    try:
        return ModelCard.from_metadata(props, source=str(path))
    except ModelCardError as error:
        raise EngineError(str(error)) from error


def _choose_providers(config: EngineConfig, statuses: list[ProviderStatus], path: Path) -> list:
    """ORT's providers argument, fastest first. CPU always comes last so nodes a GPU
    provider has no kernel for still run; that shows in node_providers."""
    status = {s.name: s for s in statuses}
    options = {TENSORRT: {"device_id": config.device_id}, CUDA: {"device_id": config.device_id}}
    if config.providers in ("auto", "tensorrt") and TENSORRT in status and status[TENSORRT].loads:
        # built engines kept per model hash and GPU: the second start skips the build
        options[TENSORRT] = tensorrt_options(path, config.device_id)

    def failure(name: str) -> str:
        return f"{SHORT_NAMES[name]}: {status[name].reason}" if name in status else f"{SHORT_NAMES[name]}: not probed"

    def loads(name: str) -> bool:
        return name in status and status[name].loads

    if config.providers == "cpu":
        if config.require_gpu:
            raise EngineError(f"{path}: require_gpu is set but providers='cpu' was asked for")
        return [CPU]
    if config.providers in ("tensorrt", "cuda"):
        wanted = TENSORRT if config.providers == "tensorrt" else CUDA
        if not loads(wanted):
            raise EngineError(f"{path}: providers={config.providers!r} but {failure(wanted)}; not falling back to CPU")
        chain = [wanted] + ([CUDA] if wanted == TENSORRT and loads(CUDA) else [])
        return [(name, options[name]) for name in chain] + [CPU]
    if config.providers != "auto":
        raise EngineError(f"{path}: unknown providers {config.providers!r}; use auto, tensorrt, cuda or cpu")
    gpus = [name for name in GPU_PROVIDERS if loads(name)]
    if not gpus:
        reasons = "; ".join(failure(name) for name in GPU_PROVIDERS)
        if config.require_gpu:
            raise EngineError(f"{path}: require_gpu is set but no GPU provider loads ({reasons})")
        # said once per process, briefly: the reason is the same for every model, and `doctor` has it
        if not _cpu_fallback_reported.is_set():
            _cpu_fallback_reported.set()
            logger.warning("no GPU provider loads here: models run on the CPU (why: `latentstage doctor`)")
        logger.debug("%s: no GPU provider loads (%s)", path.name, reasons)
    return [(name, options[name]) for name in gpus] + [CPU]


def _open_session(path: Path, providers: list, device_id: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only; provider choice is logged by us
    options.intra_op_num_threads = physical_cores()  # CPU kernels (a CPPN's fused Gemms) split over the cores
    # Profiling is on until the first run ends it; that run's events say which
    # provider ran each node. The file goes to the temp dir and is deleted.
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(tempfile.gettempdir(), f"latentstage-profile-{os.getpid()}")
    try:
        return ort.InferenceSession(str(path), options, providers=providers)
    except Exception as error:  # ORT raises its own Fail/InvalidGraph/NotImplemented types
        raise EngineError(f"{path}: ONNX Runtime cannot open it: {error}") from error


def _count_node_providers(events: list[dict]) -> dict[str, int]:
    # Each node run gives fence_before, kernel_time and fence_after events; count
    # each node once, by its kernel_time event.
    nodes = {
        event["name"]: event["args"]["provider"]
        for event in events
        if event.get("cat") == "Node" and event.get("name", "").endswith("_kernel_time")
        and "provider" in event.get("args", {})
    }
    return dict(Counter(nodes.values()))


def _numpy_type(ort_type: str, path: Path) -> type:
    if ort_type not in _NUMPY_TYPES:
        raise EngineError(f"{path}: unsupported tensor type {ort_type}")
    return _NUMPY_TYPES[ort_type]
