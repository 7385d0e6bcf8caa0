"""What every trainer command shares: bad input is one line on stderr and exit code 2 (never argparse's
usage block), option types that refuse nonsense, what Ctrl-C says, and how an export is reported."""
from __future__ import annotations

import argparse
import datetime
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn


class UsageError(ValueError):
    """Input the user can fix: reported as one line and exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # one line instead of argparse's usage block, as every other bad input gets
        raise UsageError(message)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


Handler = Callable[[argparse.Namespace, str], int]  # (parsed arguments, the command line) -> exit code


def train_or_export(prog: str, argv: list[str] | None, train: tuple[Callable[[], argparse.ArgumentParser], Handler],
                    export: tuple[Callable[[], argparse.ArgumentParser], Handler],
                    errors: tuple[type[Exception], ...] = ()) -> int:
    """The main() of a trainer command with an `export` sub-command: parse with the train or export parser,
    set torch's threads (--threads), run its handler with the command line; bad input (UsageError,
    ValueError, FileNotFoundError, CheckpointError and `errors`) is one line on stderr and exit code 2."""
    import torch

    from trainers.common.checkpoint import CheckpointError

    argv = sys.argv[1:] if argv is None else list(argv)
    exporting = bool(argv) and argv[0] == "export"
    make_parser, handler = export if exporting else train
    try:
        args = make_parser().parse_args(argv[1:] if exporting else argv)
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        return handler(args, " ".join([prog, *argv]))
    except (UsageError, CheckpointError, FileNotFoundError, ValueError, *errors) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2


def export_parser(prog: str, kind: str, checkpoint_name: str, fp16: bool = False) -> argparse.ArgumentParser:
    """The options of `PROG export`: --checkpoint, -o, --threads (and --fp16 where the kind allows it)."""
    parser = OneLineParser(prog=f"{prog} export", description=f"export a {kind} checkpoint to ONNX, parity-checked")
    parser.add_argument("--checkpoint", type=Path, required=True, help=f"a {checkpoint_name} that training wrote")
    parser.add_argument("-o", "--output", type=Path, required=True, help="OUT.onnx")
    if fp16:
        parser.add_argument("--fp16", action="store_true",
                            help="float16 weights and maths (normalisation stays float32)")
    parser.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: one per core)")
    return parser


def onnx_target(path: Path) -> Path:
    """`path` for an exported model: it must end in .onnx; its folder is made."""
    if path.suffix.lower() != ".onnx":
        raise UsageError(f"{path}: the model file must end in .onnx")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def stopped(checkpoint: Path, is_main: bool) -> int:
    """After Ctrl-C ended a training run: where to resume from (rank 0 speaks), and the shell's code 130."""
    if is_main and checkpoint.is_file():
        print(f"stopped: continue with --resume {checkpoint}", file=sys.stderr)
    return 130


def export_and_report(prog: str, network: Any, path: Path, spec: Any, fp16: bool, provenance: dict) -> int:
    """Export `network` to ONNX at `path` and say so in two lines (the file and its card, the parity it
    passed); an export that fails its checks is one line and exit code 1."""
    from exporters.onnx import (  # torch.onnx and onnxruntime load only when exporting
        ExportError,
        export,
    )

    try:
        report = export(network, path, spec=spec, fp16=fp16, provenance=provenance)
    except ExportError as error:
        print(f"{prog}: export failed: {error}", file=sys.stderr)
        return 1
    errors = ", ".join(f"{h}x{w}: {e:.2e}" for (h, w), e in report.max_abs_error.items())
    print(f"wrote {report.path} ({'fp16' if report.fp16 else 'fp32'}; {report.card.describe()})")
    print(f"max |ORT - torch| by height x width: {errors}")
    return 0


def provenance(command: str, made_by: dict) -> dict:
    """A model card's provenance from what a checkpoint says made it; the date is now if it says none."""
    return {
        "command": command,
        "data": str(made_by.get("data", "")),
        "steps": int(made_by.get("steps", 0)),
        "date": str(made_by.get("date") or datetime.datetime.now(datetime.timezone.utc).isoformat()),
    }
