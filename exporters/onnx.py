"""Export a torch network to one self-describing .onnx file that has proved itself against PyTorch.

`export` traces the network with the shapes and dynamic axes its ExportSpec
declares, writes the ModelCard into metadata_props, runs the ONNX checker and
then runs ONNX Runtime (CPU provider) and PyTorch on fresh random inputs at
two sizes, one of them odd (a network that needs multiples of some size names
its own, one not square). Only a file that agrees with PyTorch lands at the
target path: everything happens in a temporary file beside it, moved into
place with os.replace, so a refused export leaves nothing (and an older good
file stays untouched). With fp16=True the weights and arithmetic become
float16 while the inputs and outputs stay float32 and normalisation layers
stay float32, because their variance sums overflow or lose all precision in
half floats.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import onnx
import onnxruntime as ort
import torch

from exporters.spec import ExportSpec
from live.inference.float16 import to_float16
from live.inference.model_card import ModelCard

logger = logging.getLogger("latentstage.export")



@dataclass(frozen=True)
class Tolerance:
    """Largest accepted |ORT - torch| over one output, absolute, for images in about [0, 1]."""

    max_abs: float  # worst single value
    mean_abs: float  # average over all values


# fp32 graphs differ from torch only by kernel summation order.
FP32_TOLERANCE = Tolerance(max_abs=1e-4, mean_abs=1e-4)
# fp16 rounds every weight to 11 significant bits. In a CPPN with N(0, 1) weights and
# scale ~10 that moves sharp colour edges by a fraction of a pixel, so a few edge
# pixels change a lot (max ~0.05-0.15 measured) while the picture does not (mean
# ~1e-3). The max bound catches overflow and wrong graphs; the mean catches drift.
FP16_TOLERANCE = Tolerance(max_abs=0.25, mean_abs=3e-3)

# (height, width) for the parity check when neither caller nor spec names sizes:
# one odd, so size arithmetic that only works for even sizes shows up.
DEFAULT_PARITY_SIZES = ((48, 64), (37, 53))

# Seeds for the parity inputs; the trace uses a different one, so behaviour that
# tracing froze for its own sample input shows up as a mismatch.
TRACE_SEED = 0
PARITY_SEED = 1


class ExportError(RuntimeError):
    """An export that failed or did not reproduce PyTorch; nothing was written."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    max_abs_error: dict[tuple[int, int], float]  # (height, width) -> max |ORT - torch|
    fp16: bool
    card: ModelCard


def export(
    module: torch.nn.Module,
    path: str | os.PathLike[str],
    *,
    spec: ExportSpec | None = None,
    fp16: bool = False,
    provenance: Mapping[str, Any] | None = None,
    opset: int = 17,
    parity_sizes: tuple[tuple[int, int], ...] | None = None,
    tolerance: Tolerance | None = None,
) -> ExportReport:
    """Export `module` to `path` and prove it: ORT must match torch within `tolerance`
    (FP32_TOLERANCE or FP16_TOLERANCE by default) at every (height, width) in parity_sizes
    (by default the spec's own, else DEFAULT_PARITY_SIZES); each must be a multiple of
    the card's size_multiple. The module is put in eval mode, as inference uses it.

    fp16 parity runs on the CPU provider too: ORT's CPU provider loads fp16 graphs
    and wraps each node it has no fp16 kernel for in Casts to fp32 (its
    InsertCastTransformer). That proves the graph, the fp32 islands and the
    rounded weights, not fp16 arithmetic; GPU runs check that on a lent GPU."""
    spec = spec if spec is not None else module.export_spec()
    target = Path(path)
    if not target.parent.is_dir():
        raise ExportError(f"{target}: the directory {target.parent} does not exist")
    card = _card_with_provenance(spec.card, provenance or {}, fp16, opset)
    parity_sizes = _parity_sizes(parity_sizes or spec.parity_sizes or DEFAULT_PARITY_SIZES, card.size_multiple)
    tolerance = tolerance if tolerance is not None else (FP16_TOLERANCE if fp16 else FP32_TOLERANCE)
    module.eval()

    descriptor, temporary_name = tempfile.mkstemp(suffix=".onnx.tmp", prefix=f".{target.stem}-", dir=target.parent)
    os.close(descriptor)
    temporary = Path(temporary_name)
    try:
        tracer_warnings = _trace(module, spec, temporary, opset, parity_sizes[0])
        model = onnx.load(temporary)
        if fp16:
            model = to_float16(model)
        onnx.helper.set_model_props(model, card.to_metadata())
        onnx.save(model, temporary)
        onnx.checker.check_model(str(temporary))
        try:
            errors = _check_parity(module, spec, temporary, parity_sizes, tolerance)
        except ExportError as mismatch:
            raise ExportError(_with_hints(str(mismatch), tracer_warnings)) from None
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a model file is for sharing
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return ExportReport(path=target, max_abs_error=errors, fp16=fp16, card=card)


def _card_with_provenance(card: ModelCard, provenance: Mapping[str, Any], fp16: bool, opset: int) -> ModelCard:
    unknown = set(provenance) - {"command", "data", "steps", "date"}
    if unknown:
        raise ExportError(f"unknown provenance keys {sorted(unknown)}; use command, data, steps, date")
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return dataclasses.replace(
        card,
        command=str(provenance.get("command", card.command)),
        data=str(provenance.get("data", card.data)),
        steps=int(provenance.get("steps", card.steps)),
        date=str(provenance.get("date", now)),
        extra={**card.extra, "precision": "fp16" if fp16 else "fp32", "opset": str(opset)},
    )


def _parity_sizes(sizes: tuple[tuple[int, int], ...], size_multiple: int) -> tuple[tuple[int, int], ...]:
    unfit = [size for size in sizes if size[0] % size_multiple or size[1] % size_multiple]
    if unfit:
        raise ExportError(f"parity sizes {unfit} (HxW) are not multiples of the model's size_multiple "
                          f"{size_multiple}; give sizes it can run (ExportSpec.parity_sizes)")
    return tuple(sizes)


def _trace(module: torch.nn.Module, spec: ExportSpec, destination: Path, opset: int,
           size: tuple[int, int]) -> list[str]:
    """Write the traced graph; returns what the tracer warned about, one line each.

    The TorchScript exporter (dynamo=False): it supports opset 17 with plain
    dynamic_axes, is quiet, and our networks are small static graphs. The dynamo
    exporter wants opset 18 and prints pages of progress for the same result.
    torch deprecates the TorchScript exporter (a DeprecationWarning on each call);
    when it goes, switch to dynamo=True with opset 18 and dynamic_shapes.
    Warnings are kept rather than printed: most are harmless (torch's own
    size checks), and the parity check tells which were not, so they become
    hints in its error message."""
    height, width = size
    sample = spec.sample_inputs(height, width, TRACE_SEED)
    try:
        with torch.no_grad(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.onnx.export(
                module, sample, str(destination), dynamo=False, opset_version=opset,
                input_names=list(spec.input_names), output_names=list(spec.output_names),
                dynamic_axes=spec.dynamic_axes, do_constant_folding=True,
            )
    except Exception as error:  # the exporter raises many kinds; all mean the same here
        raise ExportError(f"torch.onnx.export failed: {error}") from error
    lines = [f"{Path(w.filename).name}:{w.lineno}: {str(w.message).split('. ')[0]}"
             for w in caught if issubclass(w.category, torch.jit.TracerWarning)]
    for line in lines:
        logger.debug("tracer: %s", line)
    return lines


def _with_hints(message: str, tracer_warnings: list[str]) -> str:
    if not tracer_warnings:
        return message
    # Python-side values that tracing froze are the usual cause of a mismatch.
    return f"{message}. The tracer warned: " + "; ".join(tracer_warnings[:3])


def _check_parity(module: torch.nn.Module, spec: ExportSpec, model_path: Path,
                  sizes: tuple[tuple[int, int], ...], tolerance: Tolerance) -> dict[tuple[int, int], float]:
    session = _cpu_session(model_path)
    errors: dict[tuple[int, int], float] = {}
    for height, width in sizes:
        inputs = spec.sample_inputs(height, width, PARITY_SEED)
        with torch.no_grad():
            expected = module(*inputs)
        expected = expected if isinstance(expected, (tuple, list)) else (expected,)
        feeds = {name: tensor.numpy() for name, tensor in zip(spec.input_names, inputs)}
        actual = session.run(list(spec.output_names), feeds)
        differences = [_abs_difference(want.numpy(), got) for want, got in zip(expected, actual)]
        worst = max(float(np.max(d, initial=0.0)) for d in differences)
        mean = max(float(np.mean(d)) for d in differences)
        errors[(height, width)] = worst
        # `not <=` also refuses NaN
        if not (worst <= tolerance.max_abs and mean <= tolerance.mean_abs):
            raise ExportError(
                f"ONNX Runtime disagrees with PyTorch at {height}x{width} (HxW): max abs error {worst:.3g} "
                f"(tolerance {tolerance.max_abs:.3g}), mean {mean:.3g} (tolerance {tolerance.mean_abs:.3g}); "
                "nothing written"
            )
    return errors


def _abs_difference(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    if expected.shape != actual.shape:
        return np.array([np.inf])  # a wrong shape is as bad as a wrong value
    return np.abs(expected.astype(np.float64) - actual.astype(np.float64))


def _cpu_session(model_path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: ORT warns about harmless initializer layouts
    try:
        return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # ORT raises its own Fail/InvalidGraph/NotImplemented types
        raise ExportError(f"ONNX Runtime (CPU) cannot load the exported graph: {error}") from error
