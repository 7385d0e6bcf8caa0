"""What sending the picture to other programs costs the show: its fps with no output, then with an NDI
source and a UDP stream on, each with a receiver taking it in (tests/picture_receiver.py in processes of
their own, as OBS would), in one invocation on the same machine.

The receivers run at nice 19: on a two-core machine they would otherwise take the CPU the show needs,
which a real OBS on another machine (or on more cores) does not. The show is the bundled CPPN at 1280x720 (rendered at a quarter and scaled up, so the model is not what
limits the loop), headless, paced at 30 fps. Each run is `latentstage run --headless --stats-json`;
the outputs' own figures (sent, dropped, errors) come from the same file. NDI needs its config naming
127.0.0.1 where multicast does not reach (loopback here); the bench writes one.

    .venv/bin/python -m bench.output_bench --seconds 15 --repeats 3 --markdown out/bench_output.md
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.measure import publish

REPO = Path(__file__).resolve().parents[1]
SIZE = (1280, 720)
FPS = 30
NDI_NAME = "latentstage-bench"


def show_file(folder: Path) -> Path:
    show = {"name": "output-bench", "output": {"width": SIZE[0], "height": SIZE[1], "fps": FPS, "render_scale": 0.25},
            "engine": {"providers": "cpu"}, "osc": {"port": 0},
            "scenes": [{"name": "drift", "kind": "cppn", "model": str(REPO / "models" / "cppn-tanh.onnx"),
                        "cppn": {"seed": 3, "scale": 9.0}}]}
    path = folder / "show.yaml"
    path.write_text(yaml.safe_dump(show))
    return path


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_show(show: Path, seconds: float, env: dict[str, str], sends: list[str]) -> dict:
    stats = show.with_name(f"stats-{len(sends)}.json")
    options = [option for send in sends for option in ("--send", send)]
    command = [sys.executable, "-m", "live", "run", str(show), "--headless", "--seconds", str(seconds),
               "--stats-json", str(stats), *options]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return json.loads(stats.read_text())


def receivers(folder: Path, stream: str, env: dict[str, str], seconds: float) -> list[subprocess.Popen]:
    """A UDP and an NDI receiver for the run with outputs, started first so they take in all of it."""
    started = []
    for kind, source in (("stream", stream), ("ndi", NDI_NAME)):
        out = open(folder / f"{kind}.jsonl", "w")
        # at the lowest priority: they stand in for programs on another machine, not for the show's load
        started.append(subprocess.Popen(["nice", "-n", "19", sys.executable, "-m", "tests.picture_receiver", kind, source,
                                         "--seconds", str(seconds + 30)], cwd=REPO, env=env, stdout=out,
                                        stderr=subprocess.DEVNULL))
    return started


def render_thread_share_ms(frames: int = 60) -> tuple[float, float]:
    """Median ms the render thread spends per frame for the outputs at SIZE: reading the picture back, and
    copying it for the senders (headless, on this process's GL)."""
    import numpy as np

    from live.output.render import RenderConfig, open_renderer

    renderer = open_renderer(RenderConfig(), (SIZE[0] // 4, SIZE[1] // 4), headless=True, surface_size=SIZE)
    from pyglet import gl  # after open_renderer, which chooses headless before pyglet's first import

    picture = np.random.default_rng(0).integers(0, 256, (SIZE[1] // 4, SIZE[0] // 4, 3), np.uint8)
    reads, copies = [], []
    for _ in range(frames):
        renderer.present(picture)
        gl.glFinish()  # the drawing done first (a flip would wait for it too): only the read-back is timed
        started = time.perf_counter()
        pixels = renderer.read_pixels()
        read = time.perf_counter()
        pixels.copy()
        reads.append(read - started)
        copies.append(time.perf_counter() - read)
        renderer.window.flip()
    renderer.close()
    return statistics.median(reads) * 1000, statistics.median(copies) * 1000


def received(folder: Path, kind: str) -> int:
    lines = (folder / f"{kind}.jsonl").read_text().splitlines()
    return sum('"at"' in line for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="pairs of runs, alternating, so a change in the machine's load hits both alike")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        (folder / "ndi-config.v1.json").write_text(json.dumps({"ndi": {"networks": {"ips": "127.0.0.1"}}}))
        env = {**os.environ, "NDI_CONFIG_DIR": str(folder)}
        show = show_file(folder)
        stream = f"udp://127.0.0.1:{free_udp_port()}"
        runs = []
        for repeat in range(args.repeats):
            plain = run_show(show, args.seconds, env, [])
            listening = receivers(folder, stream, env, args.seconds)
            try:
                sending = run_show(show, args.seconds, env, [stream, f"ndi:{NDI_NAME}"])
            finally:
                for receiver in listening:
                    receiver.kill()
                    receiver.wait(timeout=30)
            counts = {"stream": received(folder, "stream"), "ndi": received(folder, "ndi")}
            runs.append((plain, sending, counts))
    read_ms, copy_ms = render_thread_share_ms()
    table = _table(runs, stream, args.seconds)
    table += (f"\n\nThe render thread's own share per frame at {SIZE[0]}x{SIZE[1]}: read-back {read_ms:.1f} ms, "
              f"copy for the senders {copy_ms:.1f} ms (medians of 60)")
    publish(table, args.markdown)
    return 0


def _table(runs: list, stream: str, seconds: float) -> str:
    def row(number: int, name: str, figures: dict, kept: str = "") -> str:
        interval = figures["frame_interval_ms"]
        return (f"| {number} | {name} | {figures['fps']:.1f} | {kept} | {interval['p50']:.1f} / {interval['p99']:.1f} "
                f"| {figures['inference_step_ms']['p50']:.1f} |")

    lines = [f"Headless show {SIZE[0]}x{SIZE[1]} at {FPS} fps target, CPPN rendered at a quarter, {seconds:g} s a run",
             "",
             "| pair | run | fps | kept | frame interval p50 / p99 ms | inference step p50 ms |",
             "| ---: | --- | ---: | ---: | ---: | ---: |"]
    kept = []
    for number, (plain, sending, _) in enumerate(runs, 1):
        kept.append(sending["fps"] / plain["fps"])
        lines += [row(number, "no output", plain), row(number, "NDI + UDP stream on", sending, f"{100 * kept[-1]:.0f}%")]
    lines += ["", f"fps kept with both outputs on, median of {len(runs)}: {100 * statistics.median(kept):.0f}%", "",
              "| pair | output | sent | dropped | errors | pictures the receiver decoded |",
              "| ---: | --- | ---: | ---: | ---: | ---: |"]
    for number, (_, sending, counts) in enumerate(runs, 1):
        for label, kind in ((stream, "stream"), (f"NDI {NDI_NAME}", "ndi")):
            figures = sending["outputs"][label]
            lines.append(f"| {number} | {label.split(':')[0] if kind == 'stream' else label} | {figures['sent']} "
                         f"| {figures['dropped']} | {figures['errors']} | {counts[kind]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
