"""`latentstage train gan DATA -o RUN`: train a StyleGAN2-family GAN on a folder of pictures and export it.

    latentstage train gan DATA -o RUN [--resolution 64 --channel-base 1024 --steps N ...]
    latentstage train gan export --checkpoint RUN/gan.pt -o MODEL.onnx

DATA is any folder of pictures, read recursively (`latentstage data paintings`
makes one). RUN receives, as training goes, samples.png (the EMA generator at
fixed latents), loss.png and the checkpoint gan.pt; at the end RUN/gan.onnx,
a parity-checked "gan" file with its card. `export` writes a file from any
checkpoint, also while its run goes on. Bad input is one line on stderr and
exit code 2; Ctrl-C saves the last completed step and exits 130; --resume
RUN/gan.pt continues the same curve. Under torchrun it trains on every process:
`torchrun --nproc_per_node 2 -m trainers.gan.cli DATA -o RUN`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from trainers.common.checkpoint import CheckpointError, load_checkpoint, mismatch
from trainers.common.cli import (
    OneLineParser,
    UsageError,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    stopped,
)
from trainers.common.distributed import placed
from trainers.gan.model import GanConfig, Generator
from trainers.gan.train import CHECKPOINT_NAME, KIND, TrainConfig, train

PROG = "latentstage train gan"
ONNX_NAME = "gan.onnx"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    exporting = bool(argv) and argv[0] == "export"
    command_line = " ".join([PROG, *argv])
    try:
        args = (_export_parser() if exporting else _train_parser()).parse_args(argv[1:] if exporting else argv)
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        return (_export if exporting else _train)(args, command_line)
    except (UsageError, CheckpointError, FileNotFoundError, ValueError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2


def _train_parser() -> argparse.ArgumentParser:
    defaults, network = TrainConfig(data="", out_dir=""), GanConfig()
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="folder of pictures (read recursively)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder for samples, checkpoint, model")
    parser.add_argument("--steps", type=non_negative_int, default=defaults.steps, help=f"training steps ({defaults.steps})")
    parser.add_argument("--batch-size", type=positive_int, default=defaults.batch_size, help="pictures a step (16)")
    parser.add_argument("--lr", type=positive_float, default=defaults.lr, help=f"Adam learning rate ({defaults.lr})")
    parser.add_argument("--r1-gamma", type=non_negative_float, default=0.0,
                        help="R1 weight (default: 0.0002 * resolution^2 / batch size)")
    parser.add_argument("--r1-every", type=positive_int, default=defaults.r1_every, help="lazy R1 interval (16)")
    parser.add_argument("--style-mixing", type=non_negative_float, default=defaults.style_mixing,
                        help="probability of mixing two latents (0.9)")
    parser.add_argument("--ema-kimg", type=non_negative_float, default=0.0,
                        help="EMA half-life in thousands of pictures (default: batch size * 10 / 32)")
    parser.add_argument("--augment", default=defaults.augment,
                        help="DiffAugment policies, comma-separated, or none (color,translation,cutout)")
    parser.add_argument("--no-xflip", action="store_true", help="no random left-right flips of the data")
    parser.add_argument("--every", type=non_negative_int, default=defaults.every,
                        help="steps between samples, loss plot and checkpoint (500)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="weights, data order and draws (0)")
    parser.add_argument("--resume", type=Path, metavar="CHECKPOINT", help="continue a run from its checkpoint")
    parser.add_argument("--new-data", action="store_true",
                        help="with --resume: go on training on DATA, other pictures than the checkpoint's")
    parser.add_argument("--kid-every", type=non_negative_int, default=defaults.kid_every,
                        help="steps between KID figures on the ImageNet VGG16's features, plotted to kid.png, "
                             "and a nearest-neighbour sheet at the end (default 0: none)")
    parser.add_argument("--kid-samples", type=non_negative_int, default=defaults.kid_samples,
                        help="generated pictures per KID figure (default: as many as the data)")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or a GPU index N (default: cuda when present, else cpu)")
    parser.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: one per core)")
    parser.add_argument("--credit", default="", help="the data's source and licence, for the card")
    parser.add_argument("--no-export", action="store_true", help="write no ONNX file at the end")
    group = parser.add_argument_group("networks")
    group.add_argument("--resolution", type=positive_int, default=network.resolution,
                       help="pictures' side, a power of two from 8 to 1024 (64)")
    group.add_argument("--z-dim", type=positive_int, default=network.z_dim, help=f"latent size ({network.z_dim})")
    group.add_argument("--w-dim", type=positive_int, default=network.w_dim, help=f"w size ({network.w_dim})")
    group.add_argument("--mapping-layers", type=positive_int, default=network.mapping_layers,
                       help=f"mapping network depth ({network.mapping_layers})")
    group.add_argument("--channel-base", type=positive_int, default=network.channel_base,
                       help=f"channels at resolution r: min(channel-max, channel-base / r) ({network.channel_base})")
    group.add_argument("--channel-max", type=positive_int, default=network.channel_max,
                       help=f"most channels of a layer ({network.channel_max})")
    return parser


def _export_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=f"{PROG} export", description="write a gan ONNX file from a checkpoint")
    parser.add_argument("--checkpoint", type=Path, required=True, help="a gan.pt")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the .onnx file to write")
    parser.add_argument("--threads", type=positive_int, help="CPU threads for torch")
    return parser


def _train(args: argparse.Namespace, command_line: str) -> int:
    network = GanConfig(resolution=args.resolution, z_dim=args.z_dim, w_dim=args.w_dim,
                        mapping_layers=args.mapping_layers, channel_base=args.channel_base,
                        channel_max=args.channel_max)
    config = TrainConfig(
        data=str(args.data), out_dir=str(args.output), steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        r1_gamma=args.r1_gamma, r1_every=args.r1_every, style_mixing=args.style_mixing, ema_kimg=args.ema_kimg,
        augment=args.augment, xflip=not args.no_xflip, every=args.every, kid_every=args.kid_every,
        kid_samples=args.kid_samples, seed=args.seed, network=network, command=command_line, credit=args.credit)
    if args.new_data and args.resume is None:
        raise UsageError("--new-data goes with --resume")
    earlier = 0.0
    if args.resume is not None:
        earlier = float(load_checkpoint(args.resume, KIND).provenance.get("train_seconds", 0.0))
    with placed(args.device) as placement:
        try:
            result = train(config, placement, resume=args.resume, earlier_seconds=earlier, new_data=args.new_data)
        except KeyboardInterrupt:
            return stopped(args.output / CHECKPOINT_NAME, placement.is_main)
    if not placement.is_main:
        return 0
    accuracy = result.losses.get("d_accuracy", [])
    if accuracy:
        print(f"at step {len(accuracy)} ({result.seconds:.0f} s this run): discriminator accuracy "
              f"{sum(accuracy[-50:]) / len(accuracy[-50:]):.2f} over the last {len(accuracy[-50:])} steps")
    print(f"samples {result.samples}, loss plot {result.loss_plot}, checkpoint {result.checkpoint}")
    if args.no_export:
        return 0
    return _write_model(result.checkpoint, args.output / ONNX_NAME)


def _export(args: argparse.Namespace, command_line: str) -> int:
    return _write_model(args.checkpoint, args.output)


def _write_model(checkpoint_path: Path, path: Path) -> int:
    """The checkpoint's EMA generator as a gan file, its card from what the checkpoint says made it."""
    from exporters.gan import export_gan  # torch.onnx and onnxruntime load only when exporting
    from exporters.onnx import ExportError

    checkpoint = load_checkpoint(checkpoint_path, KIND)
    network = GanConfig(**checkpoint.config["network"])
    generator = Generator(network)
    try:
        generator.load_state_dict(checkpoint.networks["generator_ema"])
    except (KeyError, RuntimeError) as error:
        raise mismatch(checkpoint_path, "the gan generator", error) from None
    made_by = checkpoint.provenance
    extra = {"train_seconds": str(made_by.get("train_seconds", "")), "pictures": str(made_by.get("pictures", "")),
             "credit": str(made_by.get("credit", "")), "batch_size": str(checkpoint.config["batch_size"]),
             "earlier_commands": " | ".join(made_by.get("earlier_commands", []))}
    extra.update({key: str(value) for key, value in made_by.items() if key.startswith("kid")})
    provenance = {"command": str(made_by.get("command", "")), "data": str(made_by.get("data", "")),
                  "steps": checkpoint.step, "date": str(made_by.get("date", ""))}
    try:
        report = export_gan(generator, path, extra, provenance)
    except ExportError as error:
        print(f"{PROG}: export failed: {error}", file=sys.stderr)
        return 1
    error = max(report.max_abs_error.values())
    print(f"wrote {report.path} (step {checkpoint.step}; {report.card.describe()})")
    print(f"max |ORT - torch| over 2 latents x truncations {', '.join(map(str, (1.0, 0.5)))}: {error:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
