"""Resume: seconds from a SIGKILL of a live show to the first frame of `run --resume`, against a cold start.

The show (default: the bundled demo) runs live, headless, with a status file (rewritten after each frame is
drawn, four times a second); once its resume state has been written a few times it is killed with SIGKILL and
started again with `--resume`. Measured: from the kill to the status file's first text that says "resumed",
and, for comparison, a fresh start's launch to its first status text. Beside each wall time, the CPU seconds
the process had used by then (all its threads, from /proc): on this shared machine the wall time follows the
load, the CPU time follows the work a start does. Median of --runs.

    .venv/bin/python -m bench.resume_bench --markdown out/bench_resume.md
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import publish

SHOWS = Path(__file__).resolve().parent.parent / "shows"
POLL = 0.02  # seconds between looks at the status file


def launch(show: Path, status: Path, env: dict, *options: str) -> subprocess.Popen:
    status.unlink(missing_ok=True)
    command = [str(Path(sys.executable).parent / "latentstage"), "run", str(show), "--headless",
               "--status-file", str(status), *options]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_seconds(process: subprocess.Popen) -> float:
    """User and system CPU seconds the process has used, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14, 15


def seconds_until(status: Path, says: str, since: float, process: subprocess.Popen,
                  timeout: float = 120) -> tuple[float, float]:
    """(wall seconds since `since`, the process's CPU seconds) when the status file first says `says`."""
    while time.perf_counter() - since < timeout:
        if status.is_file() and says in status.read_text():
            return time.perf_counter() - since, cpu_seconds(process)
        if process.poll() is not None:
            raise RuntimeError(f"the show ended (exit {process.returncode}) before its first frame")
        time.sleep(POLL)
    raise RuntimeError(f"no {says!r} in {status} after {timeout} s")


def one_round(show: Path, folder: Path, run_for: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """(cold start to first frame, kill to first resumed frame), each as (wall seconds, CPU seconds)."""
    env = {**os.environ, "XDG_STATE_HOME": str(folder / "state")}
    status = folder / "status.txt"
    started = time.perf_counter()
    first = launch(show, status, env)
    cold = seconds_until(status, "fps", started, first)
    time.sleep(run_for)  # a few resume states written
    first.send_signal(signal.SIGKILL)
    killed = time.perf_counter()
    first.wait()
    again = launch(show, status, env, "--resume")
    try:
        resumed = seconds_until(status, "resumed at", killed, again)
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=60)
    return cold, resumed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", type=Path, default=SHOWS / "demo.yaml")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--run-for", type=float, default=4.0, help="seconds the show plays before the kill")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    colds, resumes = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as temporary:
            cold, resumed = one_round(args.show, Path(temporary), args.run_for)
        colds.append(cold)
        resumes.append(resumed)
    load = os.getloadavg()[0]
    table = (f"| {args.show.name}, {args.runs} runs, load {load:.1f} | median wall s | all, s | median CPU s |\n"
             f"|---|---|---|---|\n"
             + "".join(f"| {title} | {statistics.median(w for w, _ in rounds):.2f} | "
                       f"{', '.join(f'{w:.2f}' for w, _ in rounds)} | {statistics.median(c for _, c in rounds):.2f} |\n"
                       for title, rounds in (("cold start to first frame", colds),
                                             ("SIGKILL to first frame of `run --resume`", resumes))))
    publish(table, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
