"""`latentstage data`: training data from a video or an image folder.

  latentstage data frames VIDEO -o DIR [--size 286] [--fps 10]
      every frame (or `fps` a second) as a numbered PNG, fitted to the size
  latentstage data pairs VIDEO|FOLDER -o DIR [--input edges|gray] [--direction AtoB|BtoA] [--val 0.1]
      pix2pix pairs (edges or gray | picture) split into train/ and val/ by shots, with a manifest
  latentstage data pairs FOLDER -o DIR --views 16 [--min-scale 0.35] [--hold-out 12]
      pairs from stills: random windows (scales, positions, mirrors) of each, whole stills held out
  latentstage data paintings FOLDER -o DIR [--size 256] [--max-crops 4]
      GAN training crops from paintings: frames cut, near-duplicates dropped, a contact sheet and a manifest

Bad input (a missing file, a folder with no pictures, an unreadable picture or
video) is one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trainers.common.cli import OneLineParser, UsageError, non_negative_int, positive_float, positive_int
from trainers.gan.paintings import PaintingSettings, prepare_paintings
from trainers.pix2pix.pairs import (
    DIRECTIONS,
    INPUTS,
    PairSettings,
    write_frames,
    write_pairs,
)
from trainers.pix2pix.stills import StillViews, write_still_pairs

PROG = "latentstage data"



def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parser().parse_args(argv)
        return args.run(args)
    except (UsageError, FileNotFoundError, ValueError, OSError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    frames = commands.add_parser("frames", help="a video's frames as PNGs")
    frames.add_argument("source", type=Path, help="a video file (or an image folder to resize)")
    frames.set_defaults(run=_frames)

    pairs = commands.add_parser("pairs", help="pix2pix training pairs, split into train/ and val/")
    pairs.add_argument("source", type=Path, help="a video file or an image folder")
    pairs.add_argument("--input", choices=INPUTS, default="edges",
                       help="what the network gets: edges (SnowGAN, default) or gray (colorization)")
    pairs.add_argument("--direction", choices=DIRECTIONS, default="AtoB",
                       help="AtoB (default): the input on the left, the picture on the right")
    pairs.add_argument("--val", type=float, default=0.1, help="share of frames for validation (default 0.1)")
    pairs.add_argument("--sigma", type=float, default=0.33, help="auto-Canny sigma (default 0.33)")
    pairs.add_argument("--seed", type=int, default=0, help="picks the validation blocks (default 0)")
    pairs.add_argument("--views", type=positive_int,
                       help="a folder of stills: this many random windows (scale, place, mirror) of each, "
                            "and whole stills held out (default: a video's frames as they are)")
    pairs.add_argument("--min-scale", type=positive_float, default=StillViews.min_scale,
                       help=f"with --views: smallest window, a share of the still's shorter side ({StillViews.min_scale})")
    pairs.add_argument("--hold-out", type=non_negative_int,
                       help="with --views: whole stills kept for validation (default: --val of them)")
    pairs.set_defaults(run=_pairs)

    paintings = commands.add_parser("paintings", help="GAN training crops from paintings, frames cut")
    paintings.add_argument("source", type=Path, help="a folder of paintings (sub-folders too)")
    paintings.add_argument("-o", "--output", type=Path, required=True, help="folder to write (new or empty)")
    paintings.add_argument("--size", type=positive_int, default=PaintingSettings.size,
                           help=f"crop side in pixels (default {PaintingSettings.size})")
    paintings.add_argument("--max-crops", type=positive_int, default=PaintingSettings.max_crops,
                           help=f"most square crops along one painting's long side (default {PaintingSettings.max_crops})")
    paintings.add_argument("--min-side", type=positive_int, default=PaintingSettings.min_side,
                           help=f"pictures with a shorter side are refused as tiny (default {PaintingSettings.min_side})")
    paintings.set_defaults(run=_paintings)

    for command in (frames, pairs):
        command.add_argument("-o", "--output", type=Path, required=True, help="folder to write")
        command.add_argument("--size", type=_size, default=(286, 286),
                             help="WIDTHxHEIGHT or N for N x N (default 286: pix2pix loads 286, crops 256)")
        command.add_argument("--fps", type=positive_float, help="frames a second to take from a video (default: all)")
    return parser


def _frames(args: argparse.Namespace) -> int:
    count = write_frames(args.source, args.output, args.size, args.fps)
    print(f"{count} frames in {args.output}")
    return 0


def _pairs(args: argparse.Namespace) -> int:
    settings = PairSettings(input=args.input, direction=args.direction, size=args.size, sigma=args.sigma,
                            val=args.val, seed=args.seed)
    if args.views is not None:
        if not args.source.is_dir():
            raise UsageError(f"{args.source}: --views cuts windows from a folder of stills, not a video")
        manifest = write_still_pairs(args.source, args.output, settings,
                                     StillViews(args.views, args.min_scale, args.hold_out))
        print(f"{manifest['stills']} stills: {manifest['train_pairs']} pairs ({args.views} views of each) in "
              f"{args.output / 'train'}, {manifest['val_pairs']} whole stills held out in {args.output / 'val'}")
        return 0
    if args.hold_out is not None:
        raise UsageError("--hold-out counts stills; it goes with --views")
    manifest = write_pairs(args.source, args.output, settings, args.fps)
    print(f"{manifest['frames']} frames in {manifest['shots']} shot(s): {manifest['train_pairs']} pairs in "
          f"{args.output / 'train'}, {manifest['val_pairs']} in {args.output / 'val'}, {manifest['dropped']} left out "
          f"beside the validation blocks")
    return 0


def _paintings(args: argparse.Namespace) -> int:
    settings = PaintingSettings(size=args.size, max_crops=args.max_crops, min_side=args.min_side)
    manifest = prepare_paintings(args.source, args.output, settings)
    cut = sum(not entry["frame"]["found"] == "no frame" for entry in manifest["paintings"])
    print(f"{len(manifest['paintings'])} paintings ({cut} with a frame cut): {manifest['crops']} crops of "
          f"{args.size} px in {args.output / 'crops'}; {len(manifest['duplicates'])} near-duplicates dropped, "
          f"{len(manifest['refused'])} files refused; see {args.output / 'contact-sheet.png'} and manifest.json")
    return 0


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        size = (int(width), int(height or width))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT or N") from None
    if min(size) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: sizes are at least one pixel")
    return size
