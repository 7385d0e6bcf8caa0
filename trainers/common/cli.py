"""What every trainer command shares: bad input is one line on stderr and exit code 2 (never argparse's
usage block), option types that refuse nonsense, what Ctrl-C says, and how an export is reported."""
from __future__ import annotations

import argparse
import math
import sys
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


def stopped(checkpoint: Path, is_main: bool) -> int:
    """After Ctrl-C ended a training run: where to resume from (rank 0 speaks), and the shell's code 130."""
    if is_main and checkpoint.is_file():
        print(f"stopped: continue with --resume {checkpoint}", file=sys.stderr)
    return 130


def print_export(report: Any) -> None:
    """An exporters.onnx.ExportReport as two lines: the file and its card, and the parity it passed."""
    errors = ", ".join(f"{h}x{w}: {e:.2e}" for (h, w), e in report.max_abs_error.items())
    print(f"wrote {report.path} ({'fp16' if report.fp16 else 'fp32'}; {report.card.describe()})")
    print(f"max |ORT - torch| by height x width: {errors}")
