"""Where a benchmark's table goes: the terminal, and a markdown file when one is asked for."""
from __future__ import annotations

from pathlib import Path


def publish(table: str, markdown: Path | None) -> None:
    print(table)
    if markdown:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(table.rstrip("\n") + "\n")
