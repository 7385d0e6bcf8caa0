"""`latentstage train pix2pix PAIRS -o OUT`: train, test and export a pix2pix model.

PAIRS is a folder `latentstage data pairs` wrote (train/, val/, pairs.json) or
any folder of A | B pairs. OUT receives, as training goes, samples.png
(input | output | target), loss.png and the checkpoint pix2pix.pt; at the end
the held-out triptychs (test/), a contact sheet and report.md with L1 and SSIM,
and pix2pix.onnx, whose card tells live/ how its inputs are made. Ctrl-C saves
the last completed step and exits 130; --resume OUT/pix2pix.pt continues it.
Under torchrun it trains on every process:
`torchrun --nproc_per_node 2 -m trainers.pix2pix.cli PAIRS -o OUT`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from trainers.common.checkpoint import CheckpointError
from trainers.common.cli import (
    OneLineParser,
    UsageError,
    export_and_report,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    stopped,
)
from trainers.common.distributed import placed
from trainers.pix2pix.evaluate import evaluate
from trainers.pix2pix.model import NORMS, PADDINGS, UPSAMPLES, Pix2PixConfig
from trainers.pix2pix.pairs import DIRECTIONS, PairSettings, read_manifest
from trainers.pix2pix.train import CHECKPOINT_NAME, TrainConfig, pair_folders, train

PROG = "latentstage train pix2pix"
MODEL_NAME = "pix2pix.onnx"
# the slim generator, for live use on a laptop CPU: a quarter of the paper's width, one level less
# (sizes in multiples of 128) and resize-convolutions
SLIM = {"width": 16, "depth": 7, "upsample": "resize"}
PAPER = {"width": 64, "depth": 8, "upsample": "transpose"}



def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command_line = " ".join(["latentstage train pix2pix", *argv])
    try:
        args = _parser().parse_args(argv)
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        return _train(args, command_line)
    except (UsageError, CheckpointError, FileNotFoundError, ValueError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    defaults, network = TrainConfig(pairs="", out_dir=""), Pix2PixConfig()
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("pairs", type=Path, help="folder of pairs (train/ and val/, as `latentstage data pairs` makes)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder for samples, checkpoint, report, model")
    parser.add_argument("--steps", type=non_negative_int, default=defaults.steps, help=f"training steps (default {defaults.steps})")
    parser.add_argument("--decay-steps", type=non_negative_int, default=defaults.decay_steps,
                        help=f"last steps over which the learning rate falls to 0 (default {defaults.decay_steps})")
    parser.add_argument("--lr", type=positive_float, default=defaults.lr, help=f"Adam learning rate (default {defaults.lr})")
    parser.add_argument("--l1-weight", type=non_negative_float, default=defaults.l1_weight, help="lambda (default 100)")
    parser.add_argument("--load-size", type=non_negative_int, default=defaults.load_size,
                        help="each half resized to this square (286); 0: crops at the pairs' own size and scale")
    parser.add_argument("--crop-size", type=positive_int, default=defaults.crop_size, help="random crop trained on (256)")
    parser.add_argument("--no-flip", action="store_true", help="no random left-right flips")
    parser.add_argument("--batch-size", type=positive_int, default=defaults.batch_size, help="pairs a step (default 1)")
    parser.add_argument("--direction", choices=DIRECTIONS, help="which half is the input (default: the pairs' manifest, else AtoB)")
    parser.add_argument("--input", choices=("edges", "gray", "rgb"),
                        help="what the input half holds (default: the pairs' manifest, else edges)")
    parser.add_argument("--every", type=non_negative_int, default=defaults.every, help="steps between samples and checkpoints")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="weights, data order and crops (default 0)")
    parser.add_argument("--resume", type=Path, metavar="CHECKPOINT", help="continue a run from its checkpoint")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or a GPU index N (default: cuda when present, else cpu)")
    parser.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: one per core)")
    parser.add_argument("--fp16", action="store_true", help="export weights and maths in float16")
    parser.add_argument("--credit", help="the data's source and licence, for the card (e.g. 'Big Buck Bunny, "
                                         "Blender Foundation, CC BY 3.0')")
    group = parser.add_argument_group("networks")
    group.add_argument("--width", type=positive_int, help=f"generator's first width (default {network.base_channels})")
    group.add_argument("--depth", type=positive_int, help=f"generator downsamplings (default {network.depth})")
    group.add_argument("--norm", choices=NORMS, default=network.norm, help="normalisation (default instance)")
    group.add_argument("--upsample", choices=UPSAMPLES,
                       help="decoder: transpose (the paper) or resize (no checkerboard artifacts)")
    group.add_argument("--padding", choices=PADDINGS,
                       help="generator's padding (default: replicate with resize, zeros with transpose; zeros "
                            "teaches a resize decoder a frame, kept to resume runs made before replicate)")
    group.add_argument("--slim", action="store_true", help=f"the live-on-a-CPU generator: {SLIM}")
    group.add_argument("--d-width", type=positive_int, default=defaults.d_width, help="discriminator's first width (64)")
    return parser


def _train(args: argparse.Namespace, command_line: str) -> int:
    manifest = read_manifest(args.pairs) or {}
    made_as = manifest.get("preprocessing", {})
    source = args.input or made_as.get("input", "edges")
    preprocessing = made_as if made_as.get("input") == source else _assumed_preprocessing(source)
    shape = SLIM if args.slim else PAPER
    network = Pix2PixConfig(in_channels=3 if source == "rgb" else 1, base_channels=args.width or shape["width"],
                            depth=args.depth or shape["depth"], norm=args.norm,
                            upsample=args.upsample or shape["upsample"], padding=args.padding)
    config = TrainConfig(
        pairs=str(args.pairs), out_dir=str(args.output), steps=args.steps, decay_steps=args.decay_steps, lr=args.lr,
        l1_weight=args.l1_weight, load_size=args.load_size, crop_size=args.crop_size, flip=not args.no_flip,
        batch_size=args.batch_size, direction=args.direction or manifest.get("direction", "AtoB"),
        d_width=args.d_width, every=args.every, seed=args.seed, network=network, command=command_line)
    with placed(args.device) as placement:
        try:
            result = train(config, placement, resume=args.resume)
        except KeyboardInterrupt:
            return stopped(args.output / CHECKPOINT_NAME, placement.is_main)
    if not placement.is_main:
        return 0
    l1 = result.losses.get("g_l1", [])
    if l1:
        print(f"at step {len(l1)} ({result.seconds:.0f} s this run): L1 {l1[0]:.4f} at the start, {l1[-1]:.4f} now")
    print(f"samples {result.samples}, loss plot {result.loss_plot}, checkpoint {result.checkpoint}")
    _, val_dir = pair_folders(args.pairs)
    generator = result.recipe.generator.eval()
    notes = dict(preprocessing) | ({"credit": args.credit} if args.credit else {})
    if val_dir is None:
        print("no val/ pairs: no held-out report")
    else:
        # pairs kept at their own size are judged whole at that size, as `render` shows a film
        judged_at = config.crop_size if config.load_size else 0
        report = evaluate(generator, val_dir, args.output, judged_at, config.direction)
        print(f"held out ({report.pairs} pairs): L1 {report.l1:.4f}, SSIM {report.ssim:.4f}; "
              f"contact sheet {report.sheet}")
        notes |= {"heldout_pairs": str(report.pairs), "heldout_l1": f"{report.l1:.4f}",
                  "heldout_ssim": f"{report.ssim:.4f}"}
    return _export(generator, args, config, notes, command_line)


def _assumed_preprocessing(source: str) -> dict[str, str]:
    """What the card says when the pairs carry no manifest: the project's own edges, or plain gray or RGB."""
    if source == "edges":
        print("the pairs carry no manifest: the card assumes this project's edges "
              "(auto-Canny sigma 0.33, blur 3, black on white)", file=sys.stderr)
        return PairSettings().preprocessing()
    return {"input": source}


def _export(generator, args: argparse.Namespace, config: TrainConfig, notes: dict[str, str],
            command_line: str) -> int:
    spec = generator.cpu().export_spec(notes)
    return export_and_report(PROG, generator, args.output / MODEL_NAME, spec, args.fp16,
                             {"command": command_line, "data": config.pairs, "steps": config.steps})


if __name__ == "__main__":
    sys.exit(main())
