"""Write an adopted model: a copy of the foreign file that follows our contract and carries its card.

The card (live.inference.model_card) speaks of NCHW pictures in one value range
per end, and the engine feeds the picture to the first input and reads the
first output. What a card cannot say is put into the copy's graph instead, in
front of or behind the original nodes, which stay as they were: a transpose
for an NHWC input or output; ImageNet mean/std or the Caffe mean, which are
per channel, as a subtraction and a division (the card then says 0-1 or
0-255); an edges model with three input channels gets its one edge channel
repeated. The picture input and output are moved to the front; the other
inputs are declared on the card as stage parameters (model_inputs).
"""
from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from live.inference.adopt import (
    CAFFE_MEAN,
    DARK_LINES_PRIOR,
    IMAGENET_MEAN,
    IMAGENET_STD,
    OUTPUT_RANGES,
    AdoptError,
    AdoptKind,
    Probe,
    probe,
)
from live.inference.adopt_pictures import contact_sheet, load_samples
from live.inference.engine import Engine, EngineConfig
from live.inference.model_card import PREFIX, ModelCard
from live.inference.model_io import ImageModelIO

ADAPTED = "__latentstage_adopt"  # prefix of the names of nodes and tensors the copy adds
AGREEMENT = 2  # levels of 255: the copy run as a show runs it must give the probe's best picture to this


@dataclass(frozen=True)
class Adopted:
    result: Probe
    card: ModelCard
    target: Path
    sheet: Path
    largest_difference: int  # levels of 255 between the copy run through the engine and the probe's picture


def adopt(source: Path, target: Path, kind: AdoptKind | None, samples: Path | None, command: str,
          progress: Callable[[str], None]) -> Adopted:
    """Probe `source`, write the carded copy at `target` and its contact sheet beside it (.png), and
    check the copy through the engine as a show would run it."""
    if not source.is_file():
        raise AdoptError(f"{source}: no such model file")
    if target.resolve() == source.resolve():
        raise AdoptError(f"-o {target}: the copy must not replace the model it is made from")
    pictures = load_samples(samples)
    progress(f"probing {source} with {len(pictures)} sample pictures"
             + (f" from {samples}" if samples else " (built in)"))
    result = probe(str(source), pictures, kind, progress)
    card = adopted_card(result, source, command)
    write_adopted(result, source, target, card)
    sheet = contact_sheet(result, target.with_suffix(".png"))
    return Adopted(result, card, target, sheet, _check_copy(result, target))


def summary(adopted: Adopted) -> list[str]:
    """What was found and written, for the terminal."""
    result, card = adopted.result, adopted.card
    best = result.best
    size = (f"fixed {result.native_size[0]}x{result.native_size[1]}" if result.native_size
            else f"free, multiples of {result.size_multiple}")
    lines = [f"adopted {Path(result.path).name} as a {result.kind} model -> {adopted.target}",
             f"  picture: {result.image_input!r} {result.input_layout} {result.channels} channel(s) in, "
             f"{result.image_output!r} {result.output_layout} {result.output_channels} out; size {size}",
             f"  convention: {best.convention.describe()} (score {best.score:.3f}: "
             + ", ".join(f"{k} {v:.2f}" for k, v in best.parts.items()) + ")"]
    runner_up = next((c for c in result.candidates[1:] if c not in result.ties), None)
    if runner_up is not None:
        prior = (f"; dark lines are believed unless light ones score {DARK_LINES_PRIOR:g} times as well"
                 if runner_up.convention.dark_lines is False and best.convention.dark_lines else "")
        lines.append(f"  next best: {runner_up.convention.describe()} (score {runner_up.score:.3f}{prior})")
    if result.ties:
        lines.append(f"  {len(result.ties)} more give the same picture (no run can tell them apart; the most "
                     "common is kept): " + "; ".join(c.convention.describe() for c in result.ties[:4])
                     + ("; ..." if len(result.ties) > 4 else ""))
    for declared in result.extra_inputs:
        names = declared.value_names()
        shown = names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]}"
        lines.append(f"  input {declared.onnx_name!r} {declared.shape}: stage parameters model.{shown} "
                     f"({declared.minimum:g}..{declared.maximum:g}"
                     + (", a mixture divided by its sum" if declared.normalise else "") + ")")
    lines.append(f"  card: {card.describe()}, range in {card.input_range} out {card.output_range}, "
                 f"{card.channel_order}; the copy run as a show runs it is within {adopted.largest_difference} "
                 "level(s) of the probe's picture")
    lines.append(f"  contact sheet: {adopted.sheet}")
    return lines


def _check_copy(result: Probe, target: Path) -> int:
    """The largest difference, in levels, between the copy run through Engine and ImageModelIO (the
    show's path) and the probe's own reading of the original: the adapters and the card must agree."""
    engine = Engine.load(target, EngineConfig(providers="cpu"))
    io = ImageModelIO(engine.card)
    extra = {i.onnx_name: i.feed(list(i.default)) for i in result.extra_inputs}
    largest = 0
    for picture, expected in zip(result.samples, result.best.outputs):
        fed = 255 - picture if result.best.convention.dark_lines else picture  # the show's Canny inverts
        height, width = expected.shape[:2]
        output = engine.run({engine.input_names[0]: io.to_input(fed), **extra})[engine.output_names[0]]
        got = io.to_frame(output, width, height)
        largest = max(largest, int(np.abs(got.astype(np.int16) - expected.astype(np.int16)).max()))
    if largest > AGREEMENT:
        raise AdoptError(f"{target}: the written copy gives pictures {largest} levels away from the probe's; "
                         "this is a bug in adopt, please report it with the model")
    return largest


def adopted_card(result: Probe, source: Path, command: str) -> ModelCard:
    convention = result.best.convention
    input_range = {"0-1": (0.0, 1.0), "0-255": (0.0, 255.0), "-1..1": (-1.0, 1.0), "imagenet": (0.0, 1.0),
                   "caffe": (0.0, 255.0)}[convention.input_range]
    if result.kind == "pix2pix":
        picture = "edges"
    else:
        picture = "rgb" if result.channels == 3 else "gray"
    extra = {"adopted_from": source.name, "adopted_sha256": _sha256(source),
             "adopted_convention": f"{result.input_layout} {convention.describe()} {result.output_layout}",
             "adopted_score": f"{result.best.score:.4f}"}
    if result.ties:
        extra["adopted_ties"] = "; ".join(c.convention.describe() for c in result.ties)
    if picture == "edges":
        extra["canny_invert"] = "true" if convention.dark_lines else "false"
    for declared in result.extra_inputs:
        extra.update({key.removeprefix(PREFIX + "extra."): text for key, text in declared.to_metadata().items()})
    return ModelCard(kind=result.kind, input=picture, output_layout="NCHW", input_range=input_range,
                     output_range=OUTPUT_RANGES[convention.output_range], channel_order=convention.order,
                     size_multiple=result.size_multiple, native_size=result.native_size, command=command,
                     data=f"adopted from {source.name}; conventions found by running it (latentstage model adopt)",
                     date=datetime.date.today().isoformat(), extra=extra)


def write_adopted(result: Probe, source: Path, target: Path, card: ModelCard) -> None:
    """The copy at `target`: the original graph behind the adapters the convention needs, with `card`."""
    model = onnx.load(str(source))
    graph = model.graph
    picture = next(i for i in graph.input if i.name == result.image_input)
    output = next(o for o in graph.output if o.name == result.image_output)
    _adapt_input(model, picture, result)
    _adapt_output(model, output, result)
    del model.metadata_props[:]
    for key, value in card.to_metadata().items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))


def _adapt_input(model: onnx.ModelProto, picture: onnx.ValueInfoProto, result: Probe) -> None:
    """A new first input (1, C, H, W) float in the card's range, feeding the original one through adapters."""
    graph = model.graph
    convention = result.best.convention
    channels = result.channels  # what the original takes
    card_channels = 1 if result.kind == "pix2pix" else result.channels
    original_name = picture.name
    dims = [d for d in picture.type.tensor_type.shape.dim]
    height, width = (dims[2], dims[3]) if result.input_layout == "NCHW" else (dims[1], dims[2])
    needs = result.input_layout == "NHWC" or convention.input_range in ("imagenet", "caffe") \
        or card_channels != channels or picture.type.tensor_type.elem_type != TensorProto.FLOAT
    if not needs:
        _move_first(graph.input, picture)
        return
    new_name = ADAPTED + "_picture"
    nodes, current = [], new_name
    if card_channels != channels:  # one edge channel in, the original's three out
        nodes.append(helper.make_node("Concat", [current] * channels, [f"{ADAPTED}_channels"], axis=1))
        current = f"{ADAPTED}_channels"
    if convention.input_range in ("imagenet", "caffe"):
        mean, std = ((IMAGENET_MEAN, IMAGENET_STD) if convention.input_range == "imagenet"
                     else (CAFFE_MEAN, (1.0, 1.0, 1.0)))
        if convention.order == "BGR":
            mean, std = mean[::-1], std[::-1]
        graph.initializer.extend([
            numpy_helper.from_array(np.asarray(mean, np.float32).reshape(1, 3, 1, 1), f"{ADAPTED}_mean"),
            numpy_helper.from_array(np.asarray(std, np.float32).reshape(1, 3, 1, 1), f"{ADAPTED}_std")])
        nodes.append(helper.make_node("Sub", [current, f"{ADAPTED}_mean"], [f"{ADAPTED}_centred"]))
        nodes.append(helper.make_node("Div", [f"{ADAPTED}_centred", f"{ADAPTED}_std"], [f"{ADAPTED}_normalised"]))
        current = f"{ADAPTED}_normalised"
    if result.input_layout == "NHWC":
        nodes.append(helper.make_node("Transpose", [current], [f"{ADAPTED}_nhwc"], perm=[0, 2, 3, 1]))
        current = f"{ADAPTED}_nhwc"
    element = picture.type.tensor_type.elem_type
    if element != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", [current], [f"{ADAPTED}_cast"], to=element))
        current = f"{ADAPTED}_cast"
    nodes.append(helper.make_node("Identity", [current], [original_name]))
    new_input = helper.make_tensor_value_info(new_name, TensorProto.FLOAT,
                                              [1, card_channels, _dim(height, "height"), _dim(width, "width")])
    graph.input.remove(picture)
    graph.input.insert(0, new_input)
    for node in reversed(nodes):
        graph.node.insert(0, node)


def _adapt_output(model: onnx.ModelProto, output: onnx.ValueInfoProto, result: Probe) -> None:
    graph = model.graph
    if result.output_layout == "NCHW" and output.type.tensor_type.elem_type == TensorProto.FLOAT:
        _move_first(graph.output, output)
        return
    current = output.name
    if output.type.tensor_type.elem_type != TensorProto.FLOAT:
        graph.node.append(helper.make_node("Cast", [current], [f"{ADAPTED}_float"], to=TensorProto.FLOAT))
        current = f"{ADAPTED}_float"
    new_name = ADAPTED + "_output"
    if result.output_layout == "NHWC":
        graph.node.append(helper.make_node("Transpose", [current], [new_name], perm=[0, 3, 1, 2]))
    else:
        graph.node.append(helper.make_node("Identity", [current], [new_name]))
    graph.output.remove(output)
    graph.output.insert(0, helper.make_tensor_value_info(
        new_name, TensorProto.FLOAT, [1, result.output_channels, "output_height", "output_width"]))


def _move_first(container, item) -> None:
    copy = type(item)()
    copy.CopyFrom(item)
    container.remove(item)
    container.insert(0, copy)


def _dim(dim, name: str) -> int | str:
    if dim.HasField("dim_value") and dim.dim_value > 0:
        return dim.dim_value
    return dim.dim_param or name


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
