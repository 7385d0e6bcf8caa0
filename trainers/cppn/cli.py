"""`latentstage cppn`: render stills and latent walks, fit a CPPN to a picture, export it to ONNX.

Each subcommand builds a network either from options (a weight seed names a
picture) or from a checkpoint that `fit` wrote, then hands it to sample.py,
fit.py or the ONNX exporter. Bad input (a missing image, an unknown arch, a
size below one pixel) is one line on stderr and exit code 2, no traceback.
`fit` stops on Ctrl-C after the step in progress, saves it, and exits 130;
`fit --resume` continues it. Under torchrun it trains on every process:
`torchrun --nproc_per_node 2 -m trainers.cppn.cli fit IMAGE -o DIR`.
"""
from __future__ import annotations

import argparse
import dataclasses
import secrets
import sys
from pathlib import Path

import torch

from live.scenes.cppn_math import keyframes
from trainers.common.checkpoint import CheckpointError
from trainers.common.cli import (
    OneLineParser,
    UsageError,
    export_and_report,
    non_negative_int,
    positive_float,
    positive_int,
    provenance,
    stopped,
)
from trainers.common.distributed import placed
from trainers.common.images import save_png
from trainers.cppn.checkpoint import load_checkpoint
from trainers.cppn.fit import CHECKPOINT_NAME, FitConfig, fit, fitting_network
from trainers.cppn.model import ARCHITECTURES, CPPN, CPPNConfig
from trainers.cppn.sample import render_walk, walk_frame_count, write_walk

PROG = "latentstage cppn"
# options that shape the network; with --checkpoint the checkpoint decides them
NETWORK_FIELDS = ("z_dim", "c_dim", "net_size", "depth", "arch", "seed")



def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command_line = " ".join([PROG, *argv])
    try:
        args = _parser().parse_args(argv)
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        return args.run(args, command_line)
    except (UsageError, CheckpointError, FileNotFoundError, ValueError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    sample = commands.add_parser("sample", help="render one still to a PNG at any size")
    sample.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    _add_size_options(sample, default=1024)
    _add_network_options(sample)
    sample.set_defaults(run=_sample)

    walk = commands.add_parser("walk", help="render a latent walk to an animated GIF or an H.264 MP4")
    walk.add_argument("-o", "--output", type=Path, required=True, help="OUT.gif or OUT.mp4")
    walk.add_argument("--keyframes", type=positive_int, default=4, help="latents to visit (default 4)")
    walk.add_argument("--steps", type=positive_int, default=30, help="frames from one keyframe to the next")
    walk.add_argument("--interp", choices=("slerp", "linear"), default="slerp", help="how to morph (default slerp)")
    walk.add_argument("--loop", action="store_true", help="return from the last keyframe to the first")
    walk.add_argument("--fps", type=positive_float, default=30.0, help="frames per second (default 30)")
    _add_size_options(walk, default=512)
    _add_network_options(walk)
    walk.set_defaults(run=_walk)

    fitting = fitting_network()
    fit_parser = commands.add_parser("fit", help="train a CPPN to reproduce a picture")
    fit_parser.add_argument("image", type=Path, help="picture to fit (any format Pillow reads)")
    fit_parser.add_argument("-o", "--output", type=Path, required=True,
                            help="folder for the checkpoint, preview and loss plot")
    fit_parser.add_argument("--steps", type=positive_int, default=FitConfig.steps, help="Adam steps")
    fit_parser.add_argument("--lr", type=positive_float, default=FitConfig.lr, help="Adam learning rate")
    fit_parser.add_argument("--size", type=positive_int, default=FitConfig.size,
                            help="training size: the picture's longest side in pixels, aspect kept")
    fit_parser.add_argument("--preview-every", type=non_negative_int, default=FitConfig.preview_every,
                            help="steps between previews and checkpoints (0: only at the end)")
    fit_parser.add_argument("--resume", type=Path, metavar="CHECKPOINT",
                            help="continue the fit saved in CHECKPOINT (repeat its options; --steps may grow)")
    fit_parser.add_argument("--device", help="cpu, cuda, cuda:N or a GPU index N (default: cuda when present, else cpu)")
    _add_network_options(fit_parser, defaults=fitting, with_checkpoint=False)
    fit_parser.set_defaults(run=_fit)

    export = commands.add_parser("export", help="export to ONNX with the latentstage metadata, parity-checked")
    export.add_argument("-o", "--output", type=Path, required=True, help="OUT.onnx")
    export.add_argument("--fp16", action="store_true", help="store weights and maths in float16")
    export.add_argument("--from-onnx", type=Path, metavar="MODEL",
                        help="re-export an exported CPPN file (e.g. one from before the fused graph) with its "
                             "weights, latent and card, instead of a network from options or --checkpoint")
    _add_network_options(export)
    export.set_defaults(run=_export)

    for command in (sample, walk, fit_parser, export):
        # on a shared machine torch's one-thread-per-core default can run several times
        # slower than one thread, as its worker threads wait on cores others hold
        command.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: one per core)")
    return parser


def _add_size_options(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--width", type=positive_int, default=default, help=f"pixels (default {default})")
    parser.add_argument("--height", type=positive_int, default=default, help=f"pixels (default {default})")
    parser.add_argument("--keep-aspect", action="store_true",
                        help="keep circles round on a non-square picture (the short side spans [-1, 1])")


def _add_network_options(parser: argparse.ArgumentParser, defaults: CPPNConfig | None = None,
                         with_checkpoint: bool = True) -> None:
    defaults = defaults or CPPNConfig()
    group = parser.add_argument_group("network")
    # None means "not given", so a checkpoint can refuse options it would silently override
    group.add_argument("--z-dim", type=positive_int, help=f"latent size (default {defaults.z_dim})")
    group.add_argument("--c-dim", type=int, choices=(1, 3), help=f"1 gray, 3 RGB (default {defaults.c_dim})")
    group.add_argument("--net-size", type=positive_int, help=f"units per layer (default {defaults.net_size})")
    group.add_argument("--depth", type=positive_int, help=f"hidden layers (default {defaults.depth})")
    group.add_argument("--arch", choices=ARCHITECTURES, help=f"activations (default {defaults.arch})")
    group.add_argument("--scale", type=positive_float,
                       help=f"coordinate scale: higher is busier (default {defaults.scale})")
    seeds = group.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=non_negative_int, help=f"weights seed (default {defaults.seed})")
    seeds.add_argument("--reinit", action="store_true", help="a fresh random weights seed, printed for reuse")
    group.add_argument("--latent-seed", type=non_negative_int,
                       help="seed of the latent(s) (default 0, or a checkpoint's own latent)")
    parser.set_defaults(network_defaults=defaults)
    if with_checkpoint:
        group.add_argument("--checkpoint", type=Path, help="a network that `cppn fit` wrote, instead of options")


def _network_config(args: argparse.Namespace) -> CPPNConfig:
    """The CPPNConfig the options ask for; --reinit draws the seed and says which one."""
    given = {name: getattr(args, name) for name in (*NETWORK_FIELDS, "scale") if getattr(args, name) is not None}
    if args.reinit:
        given["seed"] = secrets.randbelow(2**31)
        print(f"weights seed {given['seed']} (reproduce with --seed {given['seed']})")
    return dataclasses.replace(args.network_defaults, **given)


def _model_and_latent(args: argparse.Namespace) -> tuple[CPPN, torch.Tensor, dict]:
    """(model, z (z_dim,), provenance) from --checkpoint or from the network options."""
    checkpoint = getattr(args, "checkpoint", None)
    if checkpoint is None:
        model = CPPN(_network_config(args)).eval()
        return model, _drawn_latent(args, model.config.z_dim), {}
    clashing = [name for name in NETWORK_FIELDS if getattr(args, name) is not None] + (["reinit"] if args.reinit else [])
    if clashing:
        options = ", ".join("--" + name.replace("_", "-") for name in clashing)
        raise UsageError(f"{options} cannot change a network loaded from --checkpoint {checkpoint}")
    if args.scale is not None and args.run is _export:
        # the fitted picture is drawn with z times the fitted scale: a file keeps it, a show zooms it
        raise UsageError(f"--scale cannot change a network loaded from --checkpoint {checkpoint}: "
                         "its scale is part of the fitted picture; zoom in the show with cppn.scale")
    model, z, made_by = load_checkpoint(checkpoint)
    if args.latent_seed is not None:
        z = _drawn_latent(args, model.config.z_dim)
    return model, z, made_by


def _latent_seed(args: argparse.Namespace) -> int:
    return 0 if args.latent_seed is None else args.latent_seed


def _drawn_latent(args: argparse.Namespace, z_dim: int) -> torch.Tensor:
    return torch.from_numpy(keyframes(_latent_seed(args), 1, z_dim)[0])  # (z_dim,) in [-1, 1]


def _sample(args: argparse.Namespace, command_line: str) -> int:
    _require_suffix(args.output, (".png",))
    model, z, _ = _model_and_latent(args)
    # (H, W, c_dim) in [0, 1]; --scale with a checkpoint zooms the fitted picture (options build the network with it)
    zoom = args.scale if args.checkpoint is not None else None
    image = model.render(args.width, args.height, z, scale=zoom, keep_aspect=args.keep_aspect)
    print(f"wrote {save_png(image, args.output)} ({args.width}x{args.height})")
    return 0


def _walk(args: argparse.Namespace, command_line: str) -> int:
    _require_suffix(args.output, (".gif", ".mp4"))
    if args.keyframes < 2 and not args.loop:
        raise UsageError("a walk that does not --loop needs at least 2 keyframes")
    model, z, _ = _model_and_latent(args)
    stops = keyframes(_latent_seed(args), args.keyframes, model.config.z_dim)  # (keyframes, z_dim)
    if args.checkpoint is not None:
        stops[0] = z.numpy()  # start from the picture the network was fitted to
    zoom = args.scale if args.checkpoint is not None else None  # as in _sample
    frames = render_walk(model, stops, args.steps, args.interp, args.loop, args.width, args.height,
                         scale=zoom, keep_aspect=args.keep_aspect)
    total = walk_frame_count(args.keyframes, args.steps, args.loop)
    written = write_walk(frames, args.output, args.fps, total=total)
    print(f"wrote {written} frames to {args.output} ({written / args.fps:.2f} s at {args.fps:g} fps)")
    return 0


def _fit(args: argparse.Namespace, command_line: str) -> int:
    config = FitConfig(image=str(args.image), out_dir=str(args.output), steps=args.steps, lr=args.lr,
                       size=args.size, latent_seed=_latent_seed(args), preview_every=args.preview_every,
                       network=_network_config(args), command=command_line)
    with placed(args.device) as placement:
        try:
            result = fit(config, placement, resume=args.resume)
        except KeyboardInterrupt:
            return stopped(args.output / CHECKPOINT_NAME, placement.is_main)
    if not placement.is_main:  # rank 0 speaks for every process
        return 0
    history = result.loss_history
    print(f"fitted {args.image} in {result.seconds:.1f} s: MSE {history[0]:.5f} -> {history[-1]:.5f}")
    print(f"checkpoint {result.checkpoint}")
    print(f"preview {result.preview}")
    print(f"loss plot {result.loss_plot}")
    return 0


def _export(args: argparse.Namespace, command_line: str) -> int:

    _require_suffix(args.output, (".onnx",))
    if args.from_onnx is not None:
        model, latent, made = _from_onnx(args, command_line)
    else:
        model, latent, made_by = _model_and_latent(args)
        made = provenance(command_line, made_by)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    return export_and_report(PROG, model.eval(), args.output, model.export_spec(latent=latent), args.fp16, made)


def _from_onnx(args: argparse.Namespace, command_line: str) -> tuple[CPPN, torch.Tensor, dict]:
    """The network of an exported file, with provenance that keeps what first made it."""
    from trainers.cppn.from_onnx import load_onnx_cppn

    clashing = [name for name in (*NETWORK_FIELDS, "scale", "checkpoint", "latent_seed") if getattr(args, name) is not None]
    if clashing or args.reinit:
        options = ", ".join("--" + name.replace("_", "-") for name in clashing + (["reinit"] if args.reinit else []))
        raise UsageError(f"{options} cannot change a network loaded from --from-onnx {args.from_onnx}")
    model, latent, card = load_onnx_cppn(args.from_onnx)
    command = f"{card.command}; re-exported by {command_line}" if card.command else command_line
    return model, latent, provenance(command, {"data": card.data, "steps": card.steps})


def _require_suffix(path: Path, suffixes: tuple[str, ...]) -> None:
    if path.suffix.lower() not in suffixes:
        raise UsageError(f"{path}: unknown output format {path.suffix or '(none)'!r}; use {' or '.join(suffixes)}")





if __name__ == "__main__":
    raise SystemExit(main())
