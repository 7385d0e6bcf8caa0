"""Gatys, Ecker and Bethge's style transfer for stills: optimise the picture itself; no file I/O here.

The picture starts as the content picture (init "content"; the MXNet example
starts from faint noise, init "noise", which takes many more epochs to show the
content, especially through a random-weight loss network), and L-BFGS or Adam
moves its pixels until its VGG-16 features at relu4_2 match the content
picture's and its Gram matrices at relu1_2..relu4_3 match the style pictures'
(a weighted mix when there are several), with a total-variation term against
pixel noise. An "epoch" is one optimiser step, as in the example (for L-BFGS a
step of LBFGS_ITERATIONS iterations); the run stops when the picture's relative
change in one epoch, |x_new - x_old| / |x_new|, falls below stop_eps, or after
max_epochs.

The weights keep the example's meaning and defaults (content 10 : style 1,
TV 0.01); the losses are relative errors here (losses.py: about 1 for a
picture unlike the target, under any loss network), unlike MXNet's raw sums,
so the style term is scaled by STYLE_SCALE to put the 10:1 default where the
style wins, as it does there: 40 relative style to 10 relative content.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch

from trainers.style import losses
from trainers.common.loss_networks import LossNetwork

CONTENT_LAYER = "relu4_2"  # the paper's and the example's content layer
STYLE_SCALE = 40.0  # the example's 10:1 default as a 4:1 lead of style over content (see the docstring)
LBFGS_ITERATIONS = 10  # per epoch: one L-BFGS iteration alone takes a tiny first step and would stop at once
INIT_NOISE = 0.1  # the start picture: 0.5 + uniform noise of this half-width, in [0, 1] units
DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02}  # per optimiser: L-BFGS scales its own steps, Adam moves pixels


@dataclass
class GatysConfig:
    content_weight: float = 10.0
    style_weight: float = 1.0
    tv_weight: float = 1e-2
    stop_eps: float = 0.005  # stop when the relative change in one epoch falls below this
    max_epochs: int = 1000
    optimizer: Literal["lbfgs", "adam"] = "lbfgs"
    lr: float | None = None  # None: DEFAULT_LR of the optimiser
    init: Literal["content", "noise"] = "content"
    seed: int = 0  # the start noise

    def __post_init__(self) -> None:
        if self.optimizer not in DEFAULT_LR:
            raise ValueError(f"optimizer must be one of {', '.join(DEFAULT_LR)}, got {self.optimizer!r}")
        if self.init not in ("content", "noise"):
            raise ValueError(f"init must be content or noise, got {self.init!r}")
        if self.max_epochs < 1:
            raise ValueError(f"max-num-epochs must be at least 1, got {self.max_epochs}")
        for name in ("content_weight", "style_weight", "tv_weight", "stop_eps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name.replace('_', '-')} must be 0 or more, got {getattr(self, name)}")
        if self.lr is not None and self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")


@dataclass
class GatysResult:
    image: torch.Tensor  # (3, H, W) in [0, 1]
    losses: dict[str, list[float]]  # name -> value per epoch (weighted), "change" the relative change
    epochs: int
    stopped_early: bool  # the relative change fell below stop_eps


def stylize(content: torch.Tensor, styles: Sequence[torch.Tensor], style_weights: Sequence[float],
            vgg: LossNetwork, config: GatysConfig,
            on_epoch: Callable[[int, torch.Tensor, dict[str, float]], bool | None] | None = None) -> GatysResult:
    """Paint `content` (3, H, W) in [0, 1] in the style of `styles` (each (3, h, w), mixed by
    `style_weights`). `on_epoch(epoch, image, losses)` runs after each epoch; returning True stops."""
    if len(styles) != len(style_weights) or not styles:
        raise ValueError("give one weight for each style picture, and at least one style picture")
    if any(weight < 0 for weight in style_weights) or sum(style_weights) <= 0:
        raise ValueError("style picture weights must be 0 or more and not all 0")
    device = next(vgg.parameters()).device
    content = content.unsqueeze(0).to(device)
    with torch.no_grad():
        content_target = vgg(content, (CONTENT_LAYER,))[CONTENT_LAYER]
        total_weight = sum(style_weights)
        mixed = [{name: weight / total_weight * losses.gram(f)
                  for name, f in vgg(style.unsqueeze(0).to(device), losses.STYLE_LAYERS).items()}
                 for style, weight in zip(styles, style_weights)]
        # mixing Gram matrices (not losses) asks for one picture whose statistics lie between the styles'
        style_grams = {name: sum(grams[name] for grams in mixed) for name in losses.STYLE_LAYERS}
    if config.init == "content":
        start = content.clone()
    else:
        generator = torch.Generator().manual_seed(config.seed)
        start = (0.5 + (torch.rand(content.shape, generator=generator) * 2 - 1) * INIT_NOISE).to(device)
    image = start.requires_grad_(True)
    lr = config.lr if config.lr is not None else DEFAULT_LR[config.optimizer]
    if config.optimizer == "lbfgs":
        optimizer = torch.optim.LBFGS([image], lr=lr, max_iter=LBFGS_ITERATIONS, history_size=50,
                                      line_search_fn="strong_wolfe")
    else:
        optimizer = torch.optim.Adam([image], lr=lr)
    terms: dict[str, torch.Tensor] = {}

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        features = vgg(image, (*losses.STYLE_LAYERS, CONTENT_LAYER))
        terms["content"] = config.content_weight * losses.content_loss(features[CONTENT_LAYER], content_target)
        terms["style"] = config.style_weight * STYLE_SCALE * losses.style_loss(features, style_grams)
        terms["tv"] = config.tv_weight * losses.total_variation(image)
        total = terms["content"] + terms["style"] + terms["tv"]
        total.backward()
        terms["total"] = total
        return total

    history: dict[str, list[float]] = {}
    stopped_early = False
    epoch = 0
    for epoch in range(1, config.max_epochs + 1):
        before = image.detach().clone()
        optimizer.step(closure)
        with torch.no_grad():
            if config.optimizer == "adam":  # (clamping under L-BFGS would break its curvature estimates)
                image.clamp_(0, 1)  # a picture: the optimiser may step outside the colour range
            change = float((image - before).norm() / image.norm().clamp_min(1e-12))
        values = {name: value.item() for name, value in terms.items()}
        values["change"] = change
        for name, value in values.items():
            history.setdefault(name, []).append(value)
        if on_epoch is not None and on_epoch(epoch, image.detach()[0].clamp(0, 1), values):
            break
        if change < config.stop_eps:
            stopped_early = True
            break
    return GatysResult(image.detach()[0].clamp(0, 1).cpu(), history, epoch, stopped_early)
