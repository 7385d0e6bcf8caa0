"""What every benchmark shares: timing a call, and putting its table in the terminal and a markdown file."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path


def median_ms(run: Callable[[], object], runs: int) -> float:
    """Median milliseconds of `runs` calls; one call before them allocates, compiles and warms caches."""
    run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def publish(table: str, markdown: Path | None) -> None:
    print(table)
    if markdown:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(table.rstrip("\n") + "\n")
