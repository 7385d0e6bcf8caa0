"""What every trainer command shares: bad input is one line on stderr and exit code 2, never a usage block."""
from __future__ import annotations

import argparse
from typing import NoReturn


class UsageError(ValueError):
    """Input the user can fix: reported as one line and exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # one line instead of argparse's usage block, as every other bad input gets
        raise UsageError(message)
