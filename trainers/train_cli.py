"""`latentstage train KIND ...`: hands over to the trainer of that model kind.

Each kind's trainer is a module with main(argv) -> exit code; this only picks
it, so `latentstage train pix2pix --help` is that trainer's own help.
"""
from __future__ import annotations

import importlib
import sys

TRAINERS = {"gan": "trainers.gan.cli", "pix2pix": "trainers.pix2pix.cli", "sr": "trainers.sr.cli",
            "style": "trainers.style.cli"}
PROG = "latentstage train"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    kinds = ", ".join(TRAINERS)
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: {PROG} {{{kinds}}} ...\n\ntrain a model; `{PROG} KIND --help` for a kind's options\n"
              f"(CPPNs: `latentstage cppn fit`)")
        return 0 if argv else 2
    if argv[0] not in TRAINERS:
        print(f"{PROG}: error: unknown model kind {argv[0]!r}; choose from {kinds}", file=sys.stderr)
        return 2
    return importlib.import_module(TRAINERS[argv[0]]).main(argv[1:])
