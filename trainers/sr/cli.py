"""`latentstage train sr`: train the 4x super-resolution network and export it to ONNX; `... sr export` re-exports.

    latentstage train sr DATA -o RUN [--steps N --patch P --width W --blocks B ...]
    latentstage train sr export --checkpoint RUN/sr.pt -o MODEL.onnx

DATA is a folder of paintings (sub-folders too), one picture per painting; every
--holdout-every-th (by sorted path) is held out and never trained on. Training
writes RUN/sr.pt (resumable with --resume), RUN/samples.png (bicubic | SR |
original on held-out paintings), RUN/loss.png, RUN/psnr.png (held-out PSNR of
SR and bicubic) and, at the end, RUN/sr.onnx: a parity-checked model file with
its card (kind sr, scale, the loss network, the held-out PSNR), which
`latentstage upscale` and scenes run. Bad input is one line on stderr and exit
code 2; Ctrl-C saves the step and exits 130.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

from trainers.common.checkpoint import CheckpointError, load_checkpoint, mismatch
from trainers.common.cli import (
    OneLineParser,
    UsageError,
    export_and_report,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    provenance,
    stopped,
)
from trainers.common.distributed import placed
from trainers.common.loss_networks import LossNetworkError, add_loss_network_options
from trainers.sr.data import load_pictures
from trainers.sr.model import SRConfig, SRNetwork
from trainers.sr.train import CHECKPOINT_NAME, KIND, NETWORK, TrainConfig, held_out_psnr, train

PROG = "latentstage train sr"
ONNX_NAME = "sr.onnx"
DEGRADATION = "area or antialiased bicubic 4x downscale after a Gaussian blur of sigma 0..{blur:g} px (half the time)"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    exporting = bool(argv) and argv[0] == "export"
    command_line = " ".join([PROG, *argv])
    try:
        args = (_export_parser() if exporting else _train_parser()).parse_args(argv[1:] if exporting else argv)
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        return (_export if exporting else _train)(args, command_line)
    except (UsageError, CheckpointError, LossNetworkError, FileNotFoundError, ValueError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2


def _train_parser() -> argparse.ArgumentParser:
    d, net = TrainConfig, SRConfig()
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n")[0] + " (`export --help`: re-export a checkpoint)")
    parser.add_argument("data", type=Path, help="folder of paintings (sub-folders too), one picture each")
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder for checkpoint, samples, plots, ONNX")
    parser.add_argument("--width", type=positive_int, default=net.width, help=f"feature channels (default {net.width})")
    parser.add_argument("--blocks", type=non_negative_int, default=net.blocks,
                        help=f"residual blocks (default {net.blocks})")
    parser.add_argument("--steps", type=positive_int, default=d.steps, help=f"Adam steps (default {d.steps})")
    parser.add_argument("--patch", type=positive_int, default=d.patch,
                        help=f"high-resolution patch side, px, a multiple of 4 (default {d.patch})")
    parser.add_argument("--batch-size", type=positive_int, default=d.batch_size, help=f"(default {d.batch_size})")
    parser.add_argument("--lr", type=positive_float, default=d.lr, help=f"Adam learning rate (default {d.lr})")
    for name in ("pixel", "perceptual"):
        default = getattr(d, f"{name}_weight")
        parser.add_argument(f"--{name}-weight", type=non_negative_float, default=default,
                            help=f"weight of the {name} loss (default {default:g}; perceptual 0 skips the VGG)")
    parser.add_argument("--max-blur", type=non_negative_float, default=d.max_blur,
                        help=f"largest blur sigma of the degradation, high-resolution px (default {d.max_blur:g})")
    parser.add_argument("--holdout-every", type=positive_int, default=d.holdout_every,
                        help=f"hold out every n-th painting by sorted path (default {d.holdout_every})")
    parser.add_argument("--seed", type=non_negative_int, default=d.seed, help="weights, batches and patches seed")
    add_loss_network_options(parser, d.loss_net)
    parser.add_argument("--data-licence", default="", metavar="TEXT",
                        help="where the paintings come from, with their licences (on the card)")
    parser.add_argument("--sample-every", type=non_negative_int, default=d.sample_every,
                        help="steps between samples, plots, PSNR and checkpoint (0: only at the end)")
    parser.add_argument("--resume", type=Path, metavar="CHECKPOINT",
                        help="continue the run saved in CHECKPOINT (repeat its options; --steps may grow)")
    parser.add_argument("--no-export", action="store_true", help=f"do not write {ONNX_NAME} at the end")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or a GPU index N (default: cuda when present, else cpu)")
    parser.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: one per core)")
    return parser


def _export_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=f"{PROG} export", description="export an sr checkpoint to ONNX, parity-checked")
    parser.add_argument("--checkpoint", type=Path, required=True, help=f"a {CHECKPOINT_NAME} that training wrote")
    parser.add_argument("-o", "--output", type=Path, required=True, help="OUT.onnx")
    parser.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: one per core)")
    return parser


def _train(args: argparse.Namespace, command_line: str) -> int:
    if not args.data.is_dir():
        raise UsageError(f"{args.data}: no such folder of paintings")
    config = TrainConfig(
        data=str(args.data), out_dir=str(args.output), steps=args.steps, patch=args.patch,
        batch_size=args.batch_size, lr=args.lr, pixel_weight=args.pixel_weight,
        perceptual_weight=args.perceptual_weight, max_blur=args.max_blur, holdout_every=args.holdout_every,
        seed=args.seed, loss_net=args.loss_net,
        loss_net_file=None if args.loss_net_file is None else str(args.loss_net_file),
        loss_net_seed=args.loss_net_seed, sample_every=args.sample_every,
        network=SRConfig(width=args.width, blocks=args.blocks), command=command_line,
        data_licence=args.data_licence)
    with placed(args.device) as placement:
        try:
            result = train(config, placement, resume=args.resume, warn=lambda line: print(line, file=sys.stderr))
        except KeyboardInterrupt:
            return stopped(args.output / CHECKPOINT_NAME, placement.is_main)
    if not placement.is_main:
        return 0
    total = result.losses["total"]
    print(f"trained {len(total)} steps in {result.seconds:.1f} s: loss {total[0]:.4g} -> {total[-1]:.4g} "
          f"(loss network {result.loss_network})")
    print(f"held-out PSNR over {len(result.held_out)} paintings: SR {result.psnr:.2f} dB, "
          f"bicubic {result.psnr_bicubic:.2f} dB ({result.psnr - result.psnr_bicubic:+.2f} dB)")
    print(f"checkpoint {result.checkpoint}")
    print(f"samples {result.samples}")
    print(f"loss plot {result.loss_plot}; PSNR plot {result.psnr_plot}")
    if args.no_export:
        return 0
    return _write_onnx(args.output / ONNX_NAME, result.checkpoint, command_line)


def _export(args: argparse.Namespace, command_line: str) -> int:
    if args.output.suffix.lower() != ".onnx":
        raise UsageError(f"{args.output}: the model file must end in .onnx")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    return _write_onnx(args.output, args.checkpoint, command_line)


def load_network(path: Path) -> tuple[SRNetwork, dict]:
    """The trained network in an sr checkpoint, and the checkpoint's provenance (with its step and config)."""
    checkpoint = load_checkpoint(path, KIND)
    try:
        network = SRNetwork(SRConfig(**checkpoint.config["network"]))
        network.load_state_dict(checkpoint.networks[NETWORK])
    except (KeyError, TypeError, RuntimeError) as error:
        raise mismatch(path, "an sr network", error) from None
    return network.eval(), {**checkpoint.provenance, "steps": checkpoint.step, "config": checkpoint.config}


def _write_onnx(target: Path, checkpoint: Path, command_line: str) -> int:
    network, made_by = load_network(checkpoint)
    spec = network.export_spec()
    config = made_by["config"]
    extra = {**spec.card.extra, "loss_network": str(made_by.get("loss_network", "unknown")),
             "weights": f"pixel L1 {config['pixel_weight']:g}, perceptual relu2_2 {config['perceptual_weight']:g}",
             "degradation": DEGRADATION.format(blur=config["max_blur"]),
             "held_out": " | ".join(config["held_out"]), "checkpoint": str(checkpoint)}
    if made_by.get("loss_network_credit"):
        extra["loss_network_credit"] = made_by["loss_network_credit"]
    if config.get("data_licence"):
        extra["data_licence"] = config["data_licence"]
    measured = _held_out_measure(network, config)
    if measured is not None:  # on the whole held-out paintings, area-downscaled 4x
        extra["psnr_heldout_db"], extra["psnr_bicubic_heldout_db"] = (f"{value:.2f}" for value in measured)
    if made_by.get("earlier_commands"):
        extra["earlier_commands"] = " | ".join(made_by["earlier_commands"])
    spec = dataclasses.replace(spec, card=dataclasses.replace(spec.card, extra=extra))
    return export_and_report(PROG, network, target, spec, False,
                             provenance(str(made_by.get("command") or command_line), made_by))


def _held_out_measure(network: SRNetwork, config: dict) -> tuple[float, float] | None:
    """(SR, bicubic) held-out PSNR in dB, or None when the held-out paintings are no longer there."""
    try:
        pictures = load_pictures([Path(config["data"]) / name for name in config["held_out"]], network.config.scale)
    except (OSError, ValueError, KeyError):
        return None
    return held_out_psnr(network, pictures, network.config.scale) if pictures else None


if __name__ == "__main__":
    raise SystemExit(main())
