"""Capture to show: how long one capture takes to land in the show file (read, edited, checked as `check` checks,
written atomically), on the capture writer's own thread: the frame's thread only takes the snapshot, so this is
the time until the running show can reload it, not a stall of the picture.

Copies a bundled cue-list show (shows/theatre.yaml, its media and models linked beside it) into a temporary folder and
captures its first CPPN scene `--captures` times in a row, each with a fresh float32 latent of the model's size
and two held values, as a performer pressing `c` again and again would: every capture adds a keyframe and a
cue, so the file grows as it would over a night. Reports p50, p99 and max of the capture's wall time.

    .venv/bin/python -m bench.capture_bench --captures 40 --markdown out/bench_capture.md
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.measure import publish
from live.inference.engine import read_card
from live.show.capture import Snapshot, capture_into
from live.show.schema import load_show

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=Path, default=REPO / "shows" / "theatre.yaml")
    parser.add_argument("--captures", type=int, default=40)
    parser.add_argument("--markdown", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        shows = Path(folder) / "shows"
        shows.mkdir()
        path = shows / options.show.name
        shutil.copy(options.show, path)
        (Path(folder) / "models").symlink_to(REPO / "models")  # the show names ../models/...
        for entry in options.show.parent.iterdir():  # and media beside it
            if entry.name != path.name:
                (shows / entry.name).symlink_to(entry)
        show = load_show(path)
        spec = next(spec for spec in show.scenes if spec.keyframes_at)
        z_dim = read_card(spec.model_file).z_dim
        rng = np.random.default_rng(0)
        seconds = []
        for number in range(options.captures):
            latent = tuple(float(x) for x in rng.standard_normal(z_dim).astype(np.float32))
            taken = Snapshot(spec.name, latent, {"speed": 0.0, "scale": 4.0 + number / 8}, 1, 1.0, "")
            started = time.perf_counter()
            capture_into(path, taken)
            seconds.append(time.perf_counter() - started)
        size = path.stat().st_size
    ms = np.asarray(seconds) * 1000
    period = 1000 / show.output.fps
    figures = " | ".join(f"{value:.1f} ms" for value in (*np.percentile(ms, [50, 99]), ms.max(), period))
    table = (f"| show | captures | file after | write p50 | write p99 | write max | frame period |\n"
             f"|---|---|---|---|---|---|---|\n"
             f"| {options.show.name} ({spec.name}, z={z_dim}) | {options.captures} | {size / 1024:.1f} KB | "
             f"{figures} |\n")
    publish(table, options.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
