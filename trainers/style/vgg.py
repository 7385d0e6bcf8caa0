"""The loss network: VGG-16's convolutional part, read out at the layers the perceptual losses use.

The layout is torchvision's `vgg16().features` written out here (torchvision is
not a dependency), index for index, so torchvision's ImageNet file loads into
it by its own keys (`features.N.weight`, `features.N.bias`). Its weights come
from `--vgg-weights FILE` or from torchvision's file in the torch hub cache,
checked by SHA-256 first; with neither, a seeded random-weight network stands
in (He-initialised, so activations keep their scale through the 13 layers:
random filters still measure texture statistics, if less well than trained
ones). Which one was used travels to checkpoints and model cards. Pictures go
in as RGB in [0, 1]; the ImageNet normalisation happens inside.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

# torchvision's "D" configuration: output channels of each 3x3 conv, "M" a 2x2 max-pool.
VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
# The ReLU after each named layer, as its index in `features` (conv at index - 1).
LAYER_INDEX = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_2": 20, "relu4_3": 22}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

TORCHVISION_FILE = "vgg16-397923af.pth"
# torchvision names its files <name>-<first 8 hex digits of the SHA-256>.pth and checks that prefix
# on download (torch.hub's check_hash); the full digest is not published beside it and this machine
# cannot download the file to take it, so the prefix is what a file is checked against here too.
TORCHVISION_SHA256_PREFIX = "397923af"


class VGGWeightsError(ValueError):
    """A VGG weights file that cannot be used; the one-line message names the file and why."""


@dataclass(frozen=True)
class LossNetworkInfo:
    """Which loss network a run used, for checkpoints and model cards."""

    name: str  # "vgg16-imagenet" or "vgg16-random"
    source: str  # the weights file, or the seed of the random weights

    def describe(self) -> str:
        return f"{self.name} ({self.source})"


def vgg16_features() -> nn.Sequential:
    """torchvision's vgg16().features, up to and including relu4_3's block and no further than needed."""
    layers: list[nn.Module] = []
    channels = 3
    for item in VGG16_LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, item, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = item
    return nn.Sequential(*layers)


class LossNetwork(nn.Module):
    """RGB in [0, 1] (N, 3, H, W) -> {layer name: (N, C, h, w) features} for the layers asked for.
    Frozen: its weights never train, but gradients flow through it to the picture."""

    def __init__(self, features: nn.Sequential, info: LossNetworkInfo):
        super().__init__()
        last = max(LAYER_INDEX.values())
        self.features = features[:last + 1]  # the layers after relu4_3 are never read
        self.info = info
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1))
        for parameter in self.parameters():
            parameter.requires_grad_(False)
        for module in self.features:
            if isinstance(module, nn.ReLU):
                module.inplace = False  # a feature read out must not be overwritten by the next layer
        self.eval()

    def forward(self, image: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        wanted = {LAYER_INDEX[name]: name for name in layers}
        found: dict[str, torch.Tensor] = {}
        x = (image - self.mean) / self.std
        for index, module in enumerate(self.features):
            x = module(x)
            if index in wanted:
                found[wanted[index]] = x
                if len(found) == len(wanted):
                    break
        return found

    def train(self, mode: bool = True) -> LossNetwork:
        return super().train(False)  # always evaluation: nothing in it should ever change


def cached_weights_path() -> Path:
    """Where torchvision keeps its VGG-16 file: $TORCH_HOME/hub/checkpoints, by default ~/.cache/torch."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "torch")
    return Path(home) / "hub" / "checkpoints" / TORCHVISION_FILE


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_imagenet_features(path: str | Path) -> nn.Sequential:
    """VGG-16 features with torchvision's ImageNet weights from `path`, after checking its SHA-256."""
    path = Path(path)
    if not path.is_file():
        raise VGGWeightsError(f"{path}: no such VGG weights file")
    digest = sha256_of(path)
    if not digest.startswith(TORCHVISION_SHA256_PREFIX):
        raise VGGWeightsError(f"{path}: SHA-256 {digest[:16]}... is not torchvision's {TORCHVISION_FILE} "
                              f"(expected it to start with {TORCHVISION_SHA256_PREFIX}); refusing it")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a right hash and a bad file is unlikely, but torch raises many kinds
        raise VGGWeightsError(f"{path}: not a readable torch file ({type(error).__name__})") from None
    return features_from_state(state, path)


def features_from_state(state: dict, source: str | Path) -> nn.Sequential:
    """VGG-16 features from torchvision's state dict (its `features.N.*` keys; the classifier is left out)."""
    if not isinstance(state, dict):
        raise VGGWeightsError(f"{source}: holds a {type(state).__name__}, not a state dict")
    features = vgg16_features()
    prefix = "features."
    own = {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}
    try:
        features.load_state_dict(own)
    except RuntimeError as error:
        raise VGGWeightsError(f"{source}: does not fit VGG-16: {str(error).splitlines()[0]}") from None
    return features


def random_features(seed: int) -> nn.Sequential:
    """VGG-16 features with seeded He-normal weights and zero biases (the same for a seed everywhere)."""
    features = vgg16_features()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in features:
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels * 9
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
                module.bias.zero_()
    return features


def loss_network(weights: str | Path | None = None, seed: int = 0, warn=None) -> LossNetwork:
    """The loss network: ImageNet VGG-16 from `weights` or torchvision's cache, else seeded random
    weights, after saying so through `warn` (one line)."""
    if weights is not None:
        return LossNetwork(load_imagenet_features(weights), LossNetworkInfo("vgg16-imagenet", str(weights)))
    cached = cached_weights_path()
    if cached.is_file():
        return LossNetwork(load_imagenet_features(cached), LossNetworkInfo("vgg16-imagenet", str(cached)))
    if warn is not None:
        warn(f"no pretrained VGG-16 ({cached} is missing and no --vgg-weights was given): "
             f"the perceptual losses use a random-weight VGG-16 (seed {seed})")
    return LossNetwork(random_features(seed), LossNetworkInfo("vgg16-random", f"seed {seed}"))
