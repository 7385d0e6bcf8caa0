"""Probe a foreign ONNX image model by running it: what it takes, what it gives, in which conventions.

A style or pix2pix network exported by another tool says nothing about its
conventions. The probe finds them with real ONNX Runtime runs: the picture
input's layout (NCHW or NHWC) and channel count from which layout the network
accepts; fixed or free size, and the size multiple, from which sizes it runs
at and gives back the same size; then it feeds sample pictures in every
candidate convention (value range 0-1, -1..1, 0-255, ImageNet mean/std or
Caffe mean; RGB or BGR; for edges, dark or light lines) and reads each output
in every candidate output range. A right convention gives a picture that uses
the range without saturating and keeps the input's structure and colour;
wrong ones saturate, go flat or wash out. Scores within TIE of the best are
told apart by how common each convention is, and the summary says so: a
network that treats its three channels alike gives the same picture in RGB
and in BGR, and no run can tell which it was trained with.

Models that are not image-to-image (a classifier's (1, 1000), text tokens)
are refused with one line (AdoptError).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np
import onnxruntime as ort

from live.inference.model_inputs import MAX_VALUES, ModelInput, parameter_word

if TYPE_CHECKING:
    import onnx

log = logging.getLogger("latentstage.adopt")

Layout = Literal["NCHW", "NHWC"]
Order = Literal["RGB", "BGR"]
AdoptKind = Literal["style", "pix2pix"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # RGB, of 0-1 pictures
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN = (123.68, 116.779, 103.939)  # RGB, of 0-255 pictures
# Input ranges, most common first: the order breaks ties between conventions no run can tell apart.
INPUT_RANGES = ("0-1", "0-255", "-1..1", "imagenet", "caffe")
OUTPUT_RANGES = {"0-1": (0.0, 1.0), "0-255": (0.0, 255.0), "-1..1": (-1.0, 1.0)}
TIE = 0.015  # scores this close to the best (fraction of it) are a tie
# Drawings are dark lines on paper (pix2pix's edges2* sets, our own trainers): light lines must paint a
# clearly better picture to be believed, since a network fed its drawing inverted still paints something.
DARK_LINES_PRIOR = 1.25
MULTIPLES = (1, 2, 4, 8, 16, 32, 64)
PROBE_SIDE = 192  # pixels: the longer side the samples are scored at, for a size-free model
SATURATED = 0.02  # a luma this near either end of the range is saturated
NO_PICTURE = 0.05  # a best score below this: no convention gives a picture


class AdoptError(ValueError):
    """A model the probe cannot adopt; the message is one line naming the file and why."""


@dataclass(frozen=True)
class Convention:
    """How pictures go in and come out: value ranges, channel order, and for edges their polarity."""

    input_range: str  # one of INPUT_RANGES
    order: Order
    output_range: str  # a key of OUTPUT_RANGES
    dark_lines: bool | None = None  # edges input only: dark lines on light (drawings) or light on dark (Canny)

    def describe(self) -> str:
        names = {"imagenet": "ImageNet mean/std", "caffe": "Caffe mean (0-255)"}
        lines = (", dark lines" if self.dark_lines else ", light lines") if self.dark_lines is not None else ""
        return (f"in {names.get(self.input_range, self.input_range)} {self.order}{lines}; "
                f"out {self.output_range}")


@dataclass
class Candidate:
    convention: Convention
    score: float
    parts: dict[str, float]  # the score's terms, averaged over the samples
    outputs: list[np.ndarray] = field(repr=False)  # (h, w, 3) uint8 RGB per sample


@dataclass
class Probe:
    """What the probe found about one model, best convention first in `candidates`."""

    path: str
    kind: AdoptKind
    image_input: str  # ONNX name of the picture input
    image_output: str
    input_layout: Layout
    output_layout: Layout
    channels: int  # of the picture input: 3, or 1 for edges or gray
    output_channels: int
    native_size: tuple[int, int] | None  # (width, height) when the network takes one size only
    size_multiple: int
    extra_inputs: list[ModelInput]
    samples: list[np.ndarray] = field(repr=False)  # (h, w, 3) uint8 RGB, as fed (edges for pix2pix)
    candidates: list[Candidate] = field(repr=False)
    ties: list[Candidate] = field(repr=False)  # candidates that scored within TIE of the best

    @property
    def best(self) -> Candidate:
        return self.candidates[0]


def probe(path: str, samples: list[np.ndarray], kind: AdoptKind | None = None,
          progress: Callable[[str], None] = log.info) -> Probe:
    """Run the model at `path` on `samples` ((H, W, 3) uint8 RGB photographs) and rank conventions."""
    _load(path)  # a file that is not ONNX at all is said so before ONNX Runtime's own words
    session = _session(path)
    image, extra = _split_inputs(path, session)
    extra_inputs = [_declare(path, info) for info in extra]
    feeds_extra = {i.onnx_name: i.feed(list(i.default)) for i in extra_inputs}
    layout, channels = _input_layout(path, session, image, feeds_extra)
    kind = kind or ("pix2pix" if channels == 1 else "style")
    progress(f"picture input {image.name!r}: {layout}, {channels} channel(s); kind {kind}"
             + (f"; extra inputs {', '.join(i.onnx_name for i in extra_inputs)}" if extra_inputs else ""))
    native, multiple = _size_rule(path, session, image, layout, channels, feeds_extra)
    progress(f"size: fixed {native[0]}x{native[1]}" if native else f"size: free, multiples of {multiple}")
    output_name, output_layout, output_channels = _image_output(path, session, image, layout, channels,
                                                                native or _multiple_size(multiple), feeds_extra)
    pictures = [_probe_picture(s, kind, native, multiple) for s in samples]
    conventions = _conventions(kind, channels)
    progress(f"scoring {len(conventions) * len(OUTPUT_RANGES)} conventions on {len(pictures)} samples")
    candidates = []
    for convention in conventions:
        try:
            raws = [_run(session, image.name, output_name, _encode(p, convention, layout, channels), feeds_extra,
                         output_layout) for p in pictures]
        except Exception as error:  # a convention the network cannot even run (a check on its input, say)
            progress(f"  {convention.describe().split(';')[0]}: does not run ({_first_line(error)})")
            continue
        for output_range in OUTPUT_RANGES:
            chosen = Convention(convention.input_range, convention.order, output_range, convention.dark_lines)
            decoded = [_decode(raw, chosen, output_channels) for raw in raws]
            parts = _mean_parts([_score_parts(p, d, kind) for p, d in zip(pictures, decoded)])
            candidates.append(Candidate(chosen, _combine(parts, kind), parts,
                                        [_to_uint8(d) for d in decoded]))
    if not candidates or max(c.score for c in candidates) < NO_PICTURE:
        raise AdoptError(f"{path}: no convention gives a picture of the samples (best score "
                         f"{max((c.score for c in candidates), default=0.0):.3f}, below {NO_PICTURE}): "
                         "it does not paint pictures, or not of this kind (try --kind)")
    ranked = _rank(candidates)
    best = ranked[0]
    ties = [c for c in ranked[1:] if c.score >= best.score * (1 - TIE)
            and c.convention.dark_lines == best.convention.dark_lines]
    return Probe(path, kind, image.name, output_name, layout, output_layout, channels, output_channels, native,
                 multiple, extra_inputs, pictures, ranked, ties)


# -- what the graph takes and gives ------------------------------------------------------------

def _load(path: str) -> onnx.ModelProto:
    import onnx  # here, not at the top: every command imports this module's AdoptError, few adopt

    try:
        return onnx.load(path)
    except Exception as error:  # protobuf's DecodeError and friends: not an ONNX file
        raise AdoptError(f"{path}: not a readable ONNX file ({type(error).__name__})") from None


def _session(path: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 4  # failing probe runs are expected; they are reported, not logged
    try:
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as error:
        raise AdoptError(f"{path}: ONNX Runtime cannot open it ({_first_line(error)})") from None


def _split_inputs(path: str, session: ort.InferenceSession):
    """(the picture input, the other inputs); refuses a model with no picture input."""
    inputs = session.get_inputs()
    pictures = [i for i in inputs if len(i.shape) == 4 and i.type in ("tensor(float)", "tensor(float16)",
                                                                       "tensor(uint8)")]
    if not pictures:
        described = ", ".join(f"{i.name!r} {i.type.removeprefix('tensor(').rstrip(')')} {_shape(i.shape)}"
                              for i in inputs)
        what = "text or tokens" if any("int" in i.type for i in inputs) else "no picture"
        raise AdoptError(f"{path}: not an image model: its inputs are {described} ({what}); "
                         "adopt takes style and pix2pix networks, (1, 3, H, W) or (1, H, W, 3) in")
    image = max(pictures, key=lambda i: _picture_likeness(i.shape))
    return image, [i for i in inputs if i is not image]


def _picture_likeness(shape) -> tuple[int, int]:
    """(axes that could hold 1 or 3 channels, known elements): a picture before a (1, 1, 1, 100) vector."""
    channel_axes = sum(1 for axis in (1, 3) if shape[axis] in (1, 3) or not isinstance(shape[axis], int))
    free = any(not isinstance(d, int) or d <= 0 for d in shape)
    return channel_axes, (1 << 30) if free else int(np.prod(shape))  # a free size: as large as any


def _declare(path: str, info) -> ModelInput:
    """A declaration for an extra input: a vector is a mixture (one-hot on its first value by default),
    a scalar a 0..1 amount at 1."""
    if "float" not in info.type:
        raise AdoptError(f"{path}: input {info.name!r} is {info.type}; adopt gives stage parameters to "
                         "float inputs only")
    shape = tuple(d if isinstance(d, int) and d > 0 else 1 for d in info.shape)
    size = int(np.prod(shape)) if shape else 1
    if size > MAX_VALUES:
        raise AdoptError(f"{path}: input {info.name!r} takes {size} values {_shape(info.shape)}; adopt turns "
                         f"at most {MAX_VALUES} into stage parameters (a style vector of {size} comes from "
                         "another network)")
    if size == 1:
        return ModelInput(info.name, parameter_word(info.name), shape, 0.0, 1.0, (1.0,))
    return ModelInput(info.name, parameter_word(info.name), shape, 0.0, 1.0,
                      tuple(1.0 if index == 0 else 0.0 for index in range(size)), normalise=True)


def _input_layout(path, session, image, extra) -> tuple[Layout, int]:
    """The layout and channel count the network runs with: tried, not read from names."""
    trials: list[tuple[Layout, int]] = []
    for layout, axis in (("NCHW", 1), ("NHWC", 3)):
        dim = image.shape[axis]
        for channels in (3, 1):
            if dim == channels or not isinstance(dim, int):
                trials.append((layout, channels))
    trials.sort(key=lambda t: (not isinstance(image.shape[1 if t[0] == "NCHW" else 3], int), t[1] != 3))
    size = _fixed_size(image, "NCHW") or _fixed_size(image, "NHWC") or _multiple_size(32)
    errors = []
    for layout, channels in trials:
        fixed = _fixed_size(image, layout)
        width, height = fixed or size
        try:
            session.run(None, {image.name: _blank(layout, channels, width, height, image.type), **extra})
            return layout, channels
        except Exception as error:
            errors.append(f"{layout} {channels}ch: {_first_line(error)}")
    raise AdoptError(f"{path}: not an image model: {image.name!r} {_shape(image.shape)} runs with no picture "
                     f"layout ({'; '.join(errors) or 'no axis holds 1 or 3 channels'})")


def _fixed_size(image, layout: Layout) -> tuple[int, int] | None:
    h, w = (image.shape[2], image.shape[3]) if layout == "NCHW" else (image.shape[1], image.shape[2])
    if isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0:
        return w, h
    return None


def _multiple_size(multiple: int) -> tuple[int, int]:
    """(width, height): odd multiples of `multiple` near 130 x 100 pixels, so a smaller multiple would fail."""
    def odd_near(target: int) -> int:
        k = max(1, round(target / multiple))
        return (k if k % 2 else k + 1) * multiple
    return odd_near(130), odd_near(100)


def _size_rule(path, session, image, layout, channels, extra) -> tuple[tuple[int, int] | None, int]:
    fixed = _fixed_size(image, layout)
    if fixed is not None:
        return fixed, 1
    ran = None
    for multiple in MULTIPLES:
        width, height = _multiple_size(multiple)
        try:
            outputs = session.run(None, {image.name: _blank(layout, channels, width, height, image.type), **extra})
        except Exception:
            continue
        ran = ran or multiple
        if any(_spatial(o.shape, layout) == (width, height) for o in outputs if o.ndim == 4):
            return None, multiple
    if ran is None:
        raise AdoptError(f"{path}: runs at none of the sizes tried (multiples of {', '.join(map(str, MULTIPLES))})")
    return None, ran  # it runs, but its output is another size: the engine resizes it


def _spatial(shape, layout: Layout) -> tuple[int, int]:
    return (shape[3], shape[2]) if layout == "NCHW" else (shape[2], shape[1])


def _image_output(path, session, image, layout, channels, size, extra) -> tuple[str, Layout, int]:
    width, height = size
    outputs = session.run(None, {image.name: _blank(layout, channels, width, height, image.type), **extra})
    names = [o.name for o in session.get_outputs()]
    for name, array in zip(names, outputs):
        if array.ndim != 4 or array.shape[0] != 1:
            continue
        for out_layout, axis in (("NCHW", 1), ("NHWC", 3)):
            spatial = array.shape[2:] if out_layout == "NCHW" else array.shape[1:3]
            if array.shape[axis] in (1, 3) and min(spatial) >= 8:
                return name, out_layout, int(array.shape[axis])
    described = ", ".join(f"{n!r} {tuple(a.shape)}" for n, a in zip(names, outputs))
    raise AdoptError(f"{path}: not an image model: it gives {described}, not a picture (a classifier or an "
                     "embedding); adopt takes style and pix2pix networks")


def _blank(layout: Layout, channels: int, width: int, height: int, type_name: str) -> np.ndarray:
    shape = (1, channels, height, width) if layout == "NCHW" else (1, height, width, channels)
    return np.full(shape, 0.5, dtype=_dtype(type_name))


def _dtype(type_name: str):
    return {"tensor(float16)": np.float16, "tensor(uint8)": np.uint8}.get(type_name, np.float32)


# -- conventions, in and out -------------------------------------------------------------------

def _conventions(kind: AdoptKind, channels: int) -> list[Convention]:
    orders: tuple[Order, ...] = ("RGB", "BGR") if channels == 3 else ("RGB",)
    # per-channel means belong to colour pictures: a one-channel input has plain ranges only
    ranges = INPUT_RANGES if channels == 3 else tuple(r for r in INPUT_RANGES if r not in ("imagenet", "caffe"))
    lines = (True, False) if kind == "pix2pix" else (None,)
    return [Convention(r, o, "0-1", dark) for dark in lines for r in ranges for o in orders]


def _probe_picture(sample: np.ndarray, kind: AdoptKind, native, multiple: int) -> np.ndarray:
    """The sample at the size it is scored at: the native size, or the longer side near PROBE_SIDE."""
    height, width = sample.shape[:2]
    if native is not None:
        size = native
    else:
        scale = PROBE_SIDE / max(width, height)
        size = (max(multiple, round(width * scale / multiple) * multiple),
                max(multiple, round(height * scale / multiple) * multiple))
    picture = cv2.resize(sample, size, interpolation=cv2.INTER_AREA)
    if kind == "pix2pix":
        gray = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)
        median = float(np.median(gray))
        edges = cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), int(max(0, 0.67 * median)), int(min(255, 1.33 * median)))
        picture = np.repeat(edges[..., None], 3, axis=2)  # light lines on dark, as Canny draws them
    return picture


def _encode(picture: np.ndarray, convention: Convention, layout: Layout, channels: int) -> np.ndarray:
    """(h, w, 3) uint8 RGB -> the model's (1, C, h, w) or (1, h, w, C) float32 input in this convention."""
    rgb = picture.astype(np.float32) / 255.0
    if convention.dark_lines:
        rgb = 1.0 - rgb
    mean = np.zeros(3, np.float32)
    std = np.ones(3, np.float32)
    scale = {"0-1": 1.0, "0-255": 255.0, "-1..1": 2.0, "imagenet": 1.0, "caffe": 255.0}[convention.input_range]
    if convention.input_range == "-1..1":
        mean[:] = 0.5  # (x - 0.5) * 2
    elif convention.input_range == "imagenet":
        mean, std = np.array(IMAGENET_MEAN, np.float32), np.array(IMAGENET_STD, np.float32)
    elif convention.input_range == "caffe":
        mean = np.array(CAFFE_MEAN, np.float32) / 255.0
    x = (rgb - mean) / std * scale
    if convention.order == "BGR":
        x = x[..., ::-1]
    x = x[..., :channels]  # a one-channel input: edges and gray have equal channels
    x = np.ascontiguousarray(x[None])
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if layout == "NCHW" else x


def _run(session, image_name, output_name, x, extra, output_layout) -> np.ndarray:
    """The model's output for input x as (h, w, C) float32, in the model's own channel order."""
    input_type = next(i.type for i in session.get_inputs() if i.name == image_name)
    (out,) = session.run([output_name], {image_name: x.astype(_dtype(input_type)), **extra})
    out = out[0].astype(np.float32)
    return out.transpose(1, 2, 0) if output_layout == "NCHW" else out


def _decode(raw: np.ndarray, convention: Convention, output_channels: int) -> np.ndarray:
    """The model's (h, w, C) output read in this convention: (h, w, 3) float RGB, 0..1 when in range."""
    low, high = OUTPUT_RANGES[convention.output_range]
    x = (raw - low) / (high - low)
    if output_channels == 1:
        return np.repeat(x, 3, axis=2)
    return x[..., ::-1] if convention.order == "BGR" else x


def _to_uint8(rgb01: np.ndarray) -> np.ndarray:
    return (np.clip(rgb01, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


# -- scores ------------------------------------------------------------------------------------

def _score_parts(picture: np.ndarray, output: np.ndarray, kind: AdoptKind) -> dict[str, float]:
    """How a picture-like output this is, for one sample: each part 0..1, higher is better."""
    height, width = picture.shape[:2]
    if output.shape[:2] != (height, width):
        output = cv2.resize(output, (width, height), interpolation=cv2.INTER_LINEAR)
    if not np.isfinite(output).all():
        names = ("in_range", "unsaturated", "contrast", "structure") + (("colour", "tone") if kind == "style" else ())
        return dict.fromkeys(names, 0.0)
    source = picture.astype(np.float32) / 255.0
    # outside the range by more than a rounding's worth: what the screen would clip
    in_range = 1.0 - float(np.mean((output < -0.02) | (output > 1.02)))
    luma_in, luma_out = _luma(source), _luma(np.clip(output, 0.0, 1.0))
    saturated = float(np.mean((luma_out < SATURATED) | (luma_out > 1 - SATURATED)))
    # an edge map is all black and white by nature; a photograph's own burnt-out parts may stay so
    saturated_in = float(np.mean((luma_in < SATURATED) | (luma_in > 1 - SATURATED))) if kind == "style" else 0.0
    unsaturated = 1.0 - max(0.0, saturated - saturated_in)
    contrast = min(1.0, _spread(luma_out) / (0.8 * max(0.1, _spread(luma_in))))
    structure = max(0.0, _correlation(_gradient(luma_in), _gradient(luma_out)))
    parts = {"in_range": in_range, "unsaturated": unsaturated, "contrast": contrast, "structure": structure}
    if kind == "style":  # a painting made from edges has its own colours and light
        parts["colour"] = _colour_agreement(source, np.clip(output, 0.0, 1.0))
        parts["tone"] = 1.0 - min(1.0, abs(float(luma_out.mean() - luma_in.mean())) * 2.0)  # a style keeps the light
    return parts


def _combine(parts: dict[str, float], kind: AdoptKind) -> float:
    # A picture must first be a picture (in range, not burnt out, not flat); then the more of the
    # input's structure (and for a style, its colour and overall light) it keeps, the likelier the convention.
    keeps = (0.45 * parts["structure"] + 0.3 * parts["colour"] + 0.25 * parts["tone"] if kind == "style"
             else parts["structure"])
    # (a generator ends in tanh or a sigmoid: a few per cent of pixels outside the range already says the
    # range is read wrong, so each per cent clipped costs a fifth)
    clipped = 1.0 - parts["in_range"]
    return max(0.0, 1.0 - 20.0 * clipped) * parts["unsaturated"] ** 2 * parts["contrast"] * (0.25 + 0.75 * keeps)


def _mean_parts(parts: list[dict[str, float]]) -> dict[str, float]:
    return {name: float(np.mean([p[name] for p in parts])) for name in parts[0]}


def _rank(candidates: list[Candidate]) -> list[Candidate]:
    """Best first (dark lines weighed by DARK_LINES_PRIOR); among scores within TIE of the best, the most
    common convention first."""
    def weighed(c: Candidate) -> float:
        return c.score * (DARK_LINES_PRIOR if c.convention.dark_lines else 1.0)
    best = max(weighed(c) for c in candidates)
    def key(c: Candidate):
        tied = weighed(c) >= best * (1 - TIE)
        cv = c.convention
        same_range = cv.output_range == cv.input_range or (cv.output_range == "0-1" and cv.input_range == "imagenet")
        prior = (not same_range, INPUT_RANGES.index(cv.input_range), cv.order != "RGB", cv.dark_lines is False)
        return (not tied, prior if tied else (), -weighed(c))
    return sorted(candidates, key=key)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _spread(luma: np.ndarray) -> float:
    low, high = np.percentile(luma, (2, 98))
    return float(high - low)


def _gradient(luma: np.ndarray) -> np.ndarray:
    # at half size, so a style's brush texture does not drown the picture's own edges
    small = cv2.resize(luma.astype(np.float32), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return np.hypot(cv2.Sobel(small, cv2.CV_32F, 1, 0), cv2.Sobel(small, cv2.CV_32F, 0, 1))


def _colour_agreement(source: np.ndarray, output: np.ndarray) -> float:
    """How far the output's colours follow the input's: its chroma over the picture's coarse regions
    (a swapped channel pair or a washed-out picture scores low), less any cast over the whole picture
    (a per-channel mean taken from the wrong channel tints everything)."""
    def chroma(rgb: np.ndarray) -> np.ndarray:
        small = cv2.resize(rgb.astype(np.float32), (16, 16), interpolation=cv2.INTER_AREA)
        return small - _luma(small)[..., None]
    a, b = chroma(source), chroma(output)
    follows = float(np.mean([_correlation(a[..., c], b[..., c]) for c in range(3)]))
    cast = float(np.abs(a.mean(axis=(0, 1)) - b.mean(axis=(0, 1))).mean())  # 0..1 of the range
    return max(0.0, follows) * max(0.0, 1.0 - 4.0 * cast)  # a cast of a tenth of the range costs 40 %


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 1e-12 else 0.0


def _shape(shape) -> str:
    return "(" + ", ".join(str(d) if isinstance(d, int) else (d or "?") for d in shape) + ")"


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
