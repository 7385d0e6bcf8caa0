"""`latentstage train style`: train a fast style network and export it to ONNX; `... style export` re-exports.

    latentstage train style --style S.jpg --images DIR -o OUT [--width W --blocks N --slim ...]
    latentstage train style export --checkpoint OUT/style.pt -o MODEL.onnx [--fp16]

Training writes OUT/style.pt (resumable with --resume), OUT/samples.png,
OUT/loss.png and, at the end, OUT/style.onnx: a parity-checked model file with
its card (kind style, RGB in, the loss network used, the flicker measured on a
still clip), which a show's pipeline scene names. Bad input is one line on
stderr and exit code 2, no traceback; Ctrl-C saves the step and exits 130.
Under torchrun it trains on every process:
`torchrun --nproc_per_node 2 -m trainers.style.cli --style S --images DIR -o OUT`.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from trainers.common.checkpoint import load_checkpoint, mismatch
from trainers.common.cli import (
    OneLineParser,
    UsageError,
    export_and_report,
    export_parser,
    non_negative_float,
    non_negative_int,
    onnx_target,
    positive_float,
    positive_int,
    provenance,
    stopped,
    train_or_export,
)
from trainers.common.distributed import placed
from trainers.common.loss_networks import LossNetworkError, add_loss_network_options
from trainers.style.model import StyleConfig, StyleNetwork
from trainers.style.train import (
    CHECKPOINT_NAME,
    KIND,
    NETWORK,
    TrainConfig,
    train,
    training_flicker,
)

PROG = "latentstage train style"
ONNX_NAME = "style.onnx"


def main(argv: list[str] | None = None) -> int:
    return train_or_export(PROG, argv, (_train_parser, _train),
                           (lambda: export_parser(PROG, "style", CHECKPOINT_NAME, fp16=True), _export),
                           errors=(LossNetworkError,))


def _train_parser() -> argparse.ArgumentParser:
    d = TrainConfig
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n")[0] + " (`export --help`: re-export a checkpoint)")
    parser.add_argument("--style", type=Path, required=True, help="the style picture")
    parser.add_argument("--images", type=Path, required=True, help="folder of content pictures, or a video file")
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder for checkpoint, samples, plot, ONNX")
    net = StyleConfig()
    parser.add_argument("--width", type=positive_int, default=net.base_channels,
                        help=f"base channel count of the network (default {net.base_channels})")
    parser.add_argument("--blocks", type=non_negative_int, default=net.residual_blocks,
                        help=f"residual blocks (default {net.residual_blocks})")
    parser.add_argument("--slim", action="store_true", help="the CPU-realtime layout (see trainers/style/model.py)")
    parser.add_argument("--steps", type=positive_int, default=d.steps, help=f"Adam steps (default {d.steps})")
    parser.add_argument("--size", type=positive_int, default=d.size, help=f"training crop side, px (default {d.size})")
    parser.add_argument("--style-size", type=positive_int, default=d.style_size,
                        help=f"the style picture's longest side, px (default {d.style_size})")
    parser.add_argument("--batch-size", type=positive_int, default=d.batch_size, help=f"(default {d.batch_size})")
    parser.add_argument("--lr", type=positive_float, default=d.lr, help=f"Adam learning rate (default {d.lr})")
    for name in ("content", "style", "tv", "temporal"):
        default = getattr(d, f"{name}_weight")
        parser.add_argument(f"--{name}-weight", type=non_negative_float, default=default,
                            help=f"weight of the {name} loss (default {default:g})")
    parser.add_argument("--seed", type=non_negative_int, default=d.seed, help="weights, batches and crops seed")
    add_loss_network_options(parser, d.loss_net)
    parser.add_argument("--data-licence", default="", metavar="TEXT",
                        help="where the style and content pictures come from, with their licences (on the card)")
    parser.add_argument("--sample-every", type=non_negative_int, default=d.sample_every,
                        help="steps between samples, plot and checkpoint (0: only at the end)")
    parser.add_argument("--resume", type=Path, metavar="CHECKPOINT",
                        help="continue the run saved in CHECKPOINT (repeat its options; --steps may grow)")
    parser.add_argument("--no-export", action="store_true", help=f"do not write {ONNX_NAME} at the end")
    parser.add_argument("--fp16", action="store_true", help="export in float16 (instance norm stays float32)")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or a GPU index N (default: cuda when present, else cpu)")
    parser.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: one per core)")
    return parser


def _train(args: argparse.Namespace, command_line: str) -> int:
    if not args.style.is_file():
        raise UsageError(f"{args.style}: no such style picture")
    if not args.images.exists():
        raise UsageError(f"{args.images}: no such folder or video")
    config = TrainConfig(
        style=str(args.style), images=str(args.images), out_dir=str(args.output), steps=args.steps, size=args.size,
        style_size=args.style_size, batch_size=args.batch_size, lr=args.lr, content_weight=args.content_weight,
        style_weight=args.style_weight, tv_weight=args.tv_weight, temporal_weight=args.temporal_weight,
        seed=args.seed, loss_net=args.loss_net,
        loss_net_file=None if args.loss_net_file is None else str(args.loss_net_file),
        loss_net_seed=args.loss_net_seed, sample_every=args.sample_every,
        network=StyleConfig(base_channels=args.width, residual_blocks=args.blocks, slim=args.slim),
        command=command_line, data_licence=args.data_licence)
    with placed(args.device) as placement:
        try:
            result = train(config, placement, resume=args.resume, warn=lambda line: print(line, file=sys.stderr))
        except KeyboardInterrupt:
            return stopped(args.output / CHECKPOINT_NAME, placement.is_main)
    if not placement.is_main:  # rank 0 speaks for every process
        return 0
    total = result.losses["total"]
    print(f"trained {len(total)} steps in {result.seconds:.1f} s: loss {total[0]:.4g} -> {total[-1]:.4g} "
          f"(loss network {result.loss_network})")
    print(f"flicker on a still clip: {result.flicker:.2f} levels (input {result.input_flicker:.2f})")
    print(f"checkpoint {result.checkpoint}")
    print(f"samples {result.samples}")
    print(f"loss plot {result.loss_plot}")
    if args.no_export:
        return 0
    return _write_onnx(args.output / ONNX_NAME, result.checkpoint, args.fp16, command_line)


def _export(args: argparse.Namespace, command_line: str) -> int:
    return _write_onnx(onnx_target(args.output), args.checkpoint, args.fp16, command_line)


def load_network(path: Path) -> tuple[StyleNetwork, dict]:
    """The trained network in a style checkpoint, and the checkpoint's provenance (with its step)."""
    checkpoint = load_checkpoint(path, KIND)
    try:
        network = StyleNetwork(StyleConfig(**checkpoint.config["network"]))
        network.load_state_dict(checkpoint.networks[NETWORK])
    except (KeyError, TypeError, RuntimeError) as error:
        raise mismatch(path, "a style network", error) from None
    return network.eval(), {**checkpoint.provenance, "steps": checkpoint.step, "config": checkpoint.config}


def _write_onnx(target: Path, checkpoint: Path, fp16: bool, command_line: str) -> int:
    network, made_by = load_network(checkpoint)
    spec = network.export_spec()
    earlier = made_by.get("earlier_commands", [])
    config = made_by["config"]
    extra = {**spec.card.extra, "loss_network": str(made_by.get("loss_network", "unknown")),
             **({"loss_network_credit": made_by["loss_network_credit"]} if made_by.get("loss_network_credit") else {}),
             "weights": f"content {config['content_weight']:g}, style {config['style_weight']:g}, "
                        f"tv {config['tv_weight']:g}, temporal {config['temporal_weight']:g}",
             "checkpoint": str(checkpoint)}
    if config.get("data_licence"):
        extra["data_licence"] = config["data_licence"]
    measured = training_flicker(network, config)
    if measured is not None:  # held-out metric: how much a still visitor shimmers, in 0..255 levels
        extra["flicker_levels"], extra["input_flicker_levels"] = (f"{value:.3f}" for value in measured)
    if earlier:
        extra["earlier_commands"] = " | ".join(earlier)
    spec = dataclasses.replace(spec, card=dataclasses.replace(spec.card, extra=extra))
    return export_and_report(PROG, network, target, spec, fp16,
                             provenance(str(made_by.get("command") or command_line), made_by))


if __name__ == "__main__":
    raise SystemExit(main())
