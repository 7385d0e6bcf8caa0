"""The operator window's cost to the program: program fps with and without it, in one run of this script.

Runs `latentstage run SHOW --seconds S --stats-json` in a fresh process under a
real X server (the given DISPLAY, else a private Xvfb), in turn without and
with the operator window (the program window plus the operator window: its
program monitor, its preview rendered on its own thread, the HUD and the cue
list), at its default rates and at light ones (`operator: {monitor_fps: 5,
preview_fps: 2}`), `--rounds` times each, and reports each condition's median
of the runs' program figures (frames presented a second, new pictures a second,
frame interval p99) and how much of the program's fps each keeps. Taking the
conditions in turn spreads the load of a shared machine over all of them. The
operator's settings go in a copy of the show written beside it (so its relative
paths hold) and removed after.

    .venv/bin/python -m bench.operator_bench --seconds 20 --rounds 2 --markdown out/bench_operator.md
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from bench.measure import publish

REPO = Path(__file__).resolve().parents[1]
CONDITIONS = {"program alone": None, "program + operator window": {},
              "program + operator window, monitor 5/s, preview 2/s": {"monitor_fps": 5, "preview_fps": 2}}


def one_run(show: Path, seconds: float, display: str, folder: Path) -> dict:
    stats = folder / "stats.json"
    command = [sys.executable, "-m", "live", "run", str(show), "--seconds", str(seconds), "--stats-json", str(stats)]
    done = subprocess.run(command, env={**os.environ, "DISPLAY": display}, capture_output=True, text=True,
                          timeout=seconds + 300, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads(stats.read_text())


def with_operator(show: Path, operator: dict, index: int) -> Path:
    """A copy of the show beside it with this `operator:` block."""
    settings = yaml.safe_load(show.read_text())
    copy = show.with_name(f".{show.stem}-operator-bench-{os.getpid()}-{index}.yaml")
    copy.write_text(yaml.safe_dump({**settings, "operator": operator}, sort_keys=False))
    return copy


def private_display() -> tuple[str, subprocess.Popen]:
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                              pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        number = reader.readline().strip()
    return f":{number}", server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=Path, default=REPO / "shows" / "demo.yaml")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each condition, alternating")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    display, server = (os.environ["DISPLAY"], None) if os.environ.get("DISPLAY") else private_display()
    results: dict[str, list[dict]] = {name: [] for name in CONDITIONS}
    shows = {name: args.show if operator is None else with_operator(args.show, operator, index)
             for index, (name, operator) in enumerate(CONDITIONS.items())}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(args.rounds):
                for name in CONDITIONS:
                    results[name].append(one_run(shows[name], args.seconds, display, Path(folder)))
                    figures = results[name][-1]
                    print(f"{name}: {figures['fps']:.1f} fps, {figures['new_pictures_fps']:.1f} new pictures/s",
                          flush=True)
    finally:
        for show in shows.values():
            if show != args.show:
                show.unlink()
        if server is not None:
            server.terminate()
            server.wait(timeout=10)

    def median(name: str, figure) -> float:
        return statistics.median(figure(run) for run in results[name])

    alone = median("program alone", lambda run: run["fps"])
    lines = [f"{args.show.name}, {args.seconds:g} s runs, {args.rounds} of each, in turn; medians", "",
             "| condition | program fps | new pictures/s | frame interval p99 (ms) | program fps kept |",
             "| --- | --- | --- | --- | --- |"]
    for name in CONDITIONS:
        fps = median(name, lambda run: run["fps"])
        lines.append(f"| {name} | {fps:.1f} | {median(name, lambda run: run['new_pictures_fps']):.1f} | "
                     f"{median(name, lambda run: run['frame_interval_ms']['p99']):.1f} | {fps / alone:.0%} |")
    publish("\n".join(lines), args.markdown)


if __name__ == "__main__":
    main()
