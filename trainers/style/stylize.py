"""`latentstage stylize --content C --style S -o OUT.png`: paint one still in the manner of other pictures.

The knobs of the MXNet neural-style example, with its meanings and defaults:
content and style weights (10 : 1), total-variation weight, stop-eps (stop when
the picture's relative change in an epoch falls below it), max epochs, the
content's longest side (aspect kept; the style pictures are resized to the
content's size, as there), the learning rate, intermediate pictures every N
epochs, and noise removal (a Gaussian blur of that radius, in pixels, on every
saved picture). The device is a GPU index (-1 for the CPU) or --device. Several
style pictures mix with --style-weights. The optimisation itself is gatys.py.
Bad input is one line on stderr and exit code 2; Ctrl-C saves the picture so
far and exits 130.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from trainers.common.cli import OneLineParser, UsageError
from trainers.common.data import load_picture
from trainers.common.device import choose_device
from trainers.common.images import save_png, to_uint8
from trainers.common.interrupt import stop_requests
from trainers.common.loss_networks import LossNetworkError, add_loss_network_options, loss_network
from trainers.style.gatys import DEFAULT_LR, GatysConfig, stylize

PROG = "latentstage stylize"



def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parser().parse_args(argv)
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        return _run(args)
    except (UsageError, LossNetworkError, FileNotFoundError, ValueError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    d = GatysConfig
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n")[0].split(": ", 1)[1])
    parser.add_argument("--content", type=Path, required=True, help="the picture to paint")
    parser.add_argument("--style", type=Path, nargs="+", required=True, help="one or more style pictures")
    parser.add_argument("--style-weights", type=float, nargs="+",
                        help="how much of each style picture (default: equal shares)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="OUT.png; intermediates beside it")
    parser.add_argument("--content-weight", type=float, default=d.content_weight, help="(default 10)")
    parser.add_argument("--style-weight", type=float, default=d.style_weight, help="(default 1)")
    parser.add_argument("--tv-weight", type=float, default=d.tv_weight, help="total-variation weight (default 0.01)")
    parser.add_argument("--stop-eps", type=float, default=d.stop_eps,
                        help="stop when the relative change in an epoch is below this (default 0.005)")
    parser.add_argument("--max-num-epochs", type=int, default=d.max_epochs, help="(default 1000)")
    parser.add_argument("--max-long-edge", type=int, default=512, help="the content's longest side, px (default 512)")
    parser.add_argument("--optimizer", choices=tuple(DEFAULT_LR), default=d.optimizer, help="(default lbfgs)")
    parser.add_argument("--lr", type=float,
                        help=f"learning rate (default {DEFAULT_LR['lbfgs']} for lbfgs, {DEFAULT_LR['adam']} for adam)")
    parser.add_argument("--save-epochs", type=int, default=50,
                        help="write the picture so far every N epochs (0: never; default 50)")
    parser.add_argument("--remove-noise", type=float, default=0.2,
                        help="Gaussian blur radius (sigma, px) on saved pictures; 0: none (default 0.2)")
    parser.add_argument("--init", choices=("content", "noise"), default=d.init,
                        help="start from the content picture (default) or from faint noise (the example's start)")
    parser.add_argument("--seed", type=int, default=d.seed, help="seed of the start noise")
    add_loss_network_options(parser)
    devices = parser.add_mutually_exclusive_group()
    devices.add_argument("--gpu", type=int, help="GPU index, -1 for the CPU (as the example)")
    devices.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present, else cpu)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: one per core)")
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.output.suffix.lower() != ".png":
        raise UsageError(f"{args.output}: write a .png")
    if args.max_long_edge < 16:
        raise UsageError(f"--max-long-edge must be at least 16 px, got {args.max_long_edge}")
    if args.save_epochs < 0 or args.remove_noise < 0:
        raise UsageError("--save-epochs and --remove-noise must be 0 or more")
    weights = args.style_weights or [1.0] * len(args.style)
    if len(weights) != len(args.style):
        raise UsageError(f"{len(args.style)} style pictures but {len(weights)} --style-weights")
    config = GatysConfig(content_weight=args.content_weight, style_weight=args.style_weight,
                         tv_weight=args.tv_weight, stop_eps=args.stop_eps, max_epochs=args.max_num_epochs,
                         optimizer=args.optimizer, lr=args.lr, init=args.init, seed=args.seed)
    device = choose_device("cpu" if args.gpu == -1 else args.gpu if args.gpu is not None else args.device)
    content = _chw(load_picture(args.content, args.max_long_edge))
    height, width = content.shape[-2:]
    # the example resizes each style picture to the content's size
    styles = [torch.nn.functional.interpolate(_chw(load_picture(path, max(height, width))).unsqueeze(0),
                                              size=(height, width), mode="bilinear", antialias=True)[0]
              for path in args.style]
    vgg = loss_network(args.loss_net, args.loss_net_file, args.loss_net_seed,
                       warn=lambda line: print(line, file=sys.stderr)).to(device)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=config.max_epochs, desc=f"stylize {args.content.name}", unit="epoch")

    def each_epoch(epoch: int, image: torch.Tensor, values: dict[str, float]) -> bool:
        bar.set_postfix({name: f"{value:.4g}" for name, value in values.items()}, refresh=False)
        bar.update(1)
        if args.save_epochs and epoch % args.save_epochs == 0:
            _save(image, args.output.with_name(f"{args.output.stem}-e{epoch:04d}.png"), args.remove_noise)
        return stop_requested()

    with stop_requests() as stop_requested:
        result = stylize(content, styles, weights, vgg, config, on_epoch=each_epoch)
    bar.close()
    _save(result.image, args.output, args.remove_noise)
    total = result.losses["total"]
    why = ("the relative change fell below --stop-eps" if result.stopped_early else
           "stopped by request" if result.epochs < config.max_epochs else "--max-num-epochs reached")
    print(f"wrote {args.output} ({width}x{height}) after {result.epochs} epochs ({why}): "
          f"loss {total[0]:.4g} -> {total[-1]:.4g}; loss network {vgg.info.describe()}")
    return 130 if why == "stopped by request" else 0


def _chw(picture: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(picture).permute(2, 0, 1).contiguous()  # (H, W, 3) -> (3, H, W)


def _save(image: torch.Tensor, path: Path, remove_noise: float) -> None:
    pixels = to_uint8(image.permute(1, 2, 0))  # (H, W, 3) uint8
    if remove_noise > 0:
        pixels = cv2.GaussianBlur(pixels, (0, 0), sigmaX=remove_noise)
    save_png(pixels, path)


if __name__ == "__main__":
    raise SystemExit(main())
