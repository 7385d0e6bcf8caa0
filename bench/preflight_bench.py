"""Preflight: how long `latentstage check SHOW --bench` takes on the demo, and how well it predicts the live run.

Part 1: the installed command `check shows/demo.yaml --bench --json`, end to end (models loaded and warmed
up, every scene and crossfade timed): its wall time, and its figures per scene.

Part 2 (--compare): each of the demo's scenes alone in a show of the demo's size and rate, run live
(`run --headless --seconds S --stats-json`): its new pictures a second against the bench's `expected_fps`
for that scene, and whether the bench's verdict (holds / too slow) matches what the live run held.

Part 3 (--paired N --scenes A B ...): for each scene named, N rounds of the bench of that scene alone and,
at once after it, its live run, each round's ratio with the load average beside it. On a shared machine
whose load moves minute to minute, a bench taken minutes before the live run (part 2's later scenes)
compares two different machines; a pair taken back to back compares the bench with the run.

    .venv/bin/python -m bench.preflight_bench --compare --markdown out/bench_preflight.md
    .venv/bin/python -m bench.preflight_bench --paired 3 --scenes cezanne vangogh seurat drift
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.loop_bench import run_loop
from bench.measure import publish

SHOWS = Path(__file__).resolve().parent.parent / "shows"
HOLDS = 0.9  # a live rate at this fraction of the show's need or above counts as held (the bench's TOLERANCE)


def bench(show: Path) -> tuple[float, int, dict]:
    """(wall seconds, exit code, report) of `check SHOW --bench --json`."""
    command = [str(Path(sys.executable).parent / "latentstage"), "check", str(show), "--bench", "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return took, done.returncode, json.loads(done.stdout)


def scene_alone(show: dict, scene: dict, folder: Path) -> Path:
    """A show of `show`'s size and rate with `scene` alone on screen, its files made absolute."""
    def absolute(node):
        if isinstance(node, dict):
            return {key: (str((SHOWS / value).resolve()) if key in ("model", "path") and isinstance(value, str)
                          else absolute(value)) for key, value in node.items()}
        return node
    alone = {"name": f"{show['name']}-{scene['name']}", "output": show["output"], "window": show.get("window", {}),
             "osc": {"port": 0}, "scenes": [absolute(scene)]}
    path = folder / f"{scene['name']}.yaml"
    path.write_text(yaml.safe_dump(alone, sort_keys=False))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", type=Path, default=SHOWS / "demo.yaml")
    parser.add_argument("--compare", action="store_true", help="also run each scene live and compare")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of each live run")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--paired", type=int, default=0, help="rounds of bench-then-live per scene of --scenes")
    parser.add_argument("--scenes", nargs="*", default=[], help="the scenes --paired times (default: all)")
    args = parser.parse_args(argv)
    if args.paired:
        publish(paired(args.show, args.scenes, args.paired, args.seconds), args.markdown)
        return 0
    took, code, report = bench(args.show)
    lines = [f"`latentstage check {args.show.name} --bench`: {took:.1f} s wall, exit {code}, "
             f"{len(report['scenes'])} scenes and {len(report['crossfades'])} crossfades at "
             f"{report['render_size'][0]}x{report['render_size'][1]}, {report['fps']:g} fps, "
             f"{report['resident_mb']:.0f} MB resident", "",
             "| timed | cues | p50 ms | p99 ms | makes /s | needs /s | verdict |", "|---|---|---|---|---|---|---|"]
    for timing in [*report["scenes"], *report["crossfades"]]:
        lines.append(f"| {timing['name']} | {', '.join(map(str, timing['cues']))} | {timing['p50_ms']:.1f} | "
                     f"{timing['p99_ms']:.1f} | {timing['makes_fps']:.1f} | {timing['needs_fps']:.1f} | "
                     f"{('tight' if timing['tight'] else 'holds') if timing['holds'] else 'too slow'} |")
    if args.compare:
        lines += ["", "| scene | bench expects /s | live new pictures /s | live / bench | verdicts agree |",
                  "|---|---|---|---|---|"]
        show = yaml.safe_load(args.show.read_text())
        with tempfile.TemporaryDirectory() as temporary:
            for scene, timing in zip(show["scenes"], report["scenes"]):
                live = run_loop(scene_alone(show, scene, Path(temporary)), args.seconds)["new_pictures_fps"]
                expected = timing["expected_fps"]
                held = live >= HOLDS * timing["needs_fps"]
                lines.append(f"| {scene['name']} | {expected:.1f} | {live:.1f} | {live / expected:.2f} | "
                             f"{'yes' if held == timing['holds'] else 'NO'} |")
    publish("\n".join(lines) + "\n", args.markdown)
    return 0


def paired(path: Path, names: list[str], rounds: int, seconds: float) -> str:
    """Part 3's table: each scene benched alone, then run live at once, `rounds` times."""
    show = yaml.safe_load(path.read_text())
    lines = ["| scene | bench p50 ms | bench expects /s | live new pictures /s | live / bench | load |",
             "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as temporary:
        for scene in [scene for scene in show["scenes"] if not names or scene["name"] in names]:
            alone = scene_alone(show, scene, Path(temporary))
            for _ in range(rounds):
                timing = bench(alone)[2]["scenes"][0]
                live = run_loop(alone, seconds)["new_pictures_fps"]
                lines.append(f"| {scene['name']} | {timing['p50_ms']:.1f} | {timing['expected_fps']:.1f} | "
                             f"{live:.1f} | {live / timing['expected_fps']:.2f} | {os.getloadavg()[0]:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
