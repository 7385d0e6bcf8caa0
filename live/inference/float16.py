"""Float16 copies of models: the exporter's `--fp16` files, and a ladder's fp16 rung made at load time.

Weights and arithmetic become float16 while the inputs and outputs stay
float32 (so the code that feeds a model never changes) and normalisation layers
stay float32: they sum squares over whole feature maps, which overflows
float16 above 65504 and loses the mean's precision. On a GPU provider this
halves the memory traffic; ONNX Runtime's CPU provider has few float16
kernels and wraps the others in casts, so there it saves nothing
(bench/ladder_bench.py --fp16 measures it: BENCHMARKS.md).
"""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx  # imported where a copy is made: a start without an fp16 rung never pays for it

# Kept in float32: normalisation statistics (ReduceMean, Pow and Sqrt cover a norm exported as its
# decomposed chain)
NORMALISATION_OPS = (
    "InstanceNormalization", "BatchNormalization", "LayerNormalization", "GroupNormalization",
    "ReduceMean", "Pow", "Sqrt",
)


def to_float16(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with float16 weights and arithmetic, float32 inputs, outputs and normalisation."""
    from onnxconverter_common import float16  # imported when a float16 copy is made, not at every start

    block_list = sorted(set(float16.DEFAULT_OP_BLOCK_LIST) | set(NORMALISATION_OPS))
    _unshare_initializers(model)
    return float16.convert_float_to_float16(model, keep_io_types=True, op_block_list=block_list)


def float16_copy(path: Path, folder: Path | None = None) -> Path:
    """A float16 copy of the model file at `path` (its card kept), made once per version of the file
    and kept in `folder` (default: a folder in the system's temp dir), named by the file's digest."""
    import onnx

    data = path.read_bytes()
    folder = folder if folder is not None else Path(tempfile.gettempdir()) / "latentstage-fp16"
    target = folder / f"{path.stem}-{hashlib.sha256(data).hexdigest()[:16]}-fp16.onnx"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        model = to_float16(onnx.load_from_string(data))
        partial = target.with_suffix(".partial")
        onnx.save(model, partial)
        partial.replace(target)  # whole or not at all: another process may be making the same copy
    return target


def _unshare_initializers(model: onnx.ModelProto) -> None:
    """Give each parameter its own initializer again, in place.

    torch's exporter stores equal parameters once and reaches the copies through
    Identity nodes (e.g. a conv's zero bias and an instance norm's zero shift). The
    fp16 converter then halves the shared tensor for the conv and hands the half
    float to the norm it keeps in float32, which ONNX Runtime refuses to load."""
    import onnx

    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    graph_outputs = {value.name for value in graph.output}
    aliases = [node for node in graph.node
               if node.op_type == "Identity" and node.input[0] in initializers and node.output[0] not in graph_outputs]
    for node in aliases:
        copy = onnx.TensorProto()
        copy.CopyFrom(initializers[node.input[0]])
        copy.name = node.output[0]
        graph.initializer.append(copy)
        graph.node.remove(node)
