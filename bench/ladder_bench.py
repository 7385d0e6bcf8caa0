"""The ladder's steady state under a fixed load, and what float16 costs on this CPU.

Steady state: a CPPN scene with a target and a ladder of render scales runs live (`latentstage run --headless`)
while --burners processes spin at nice 0 for the whole run; after --seconds the run's `--stats-json` gives the
rung it settled on, its steps, and the p95 interval between the last (up to 600) new pictures on screen,
set against the target's interval. Aim (issue 22): within 10% of the target.

    .venv/bin/python -m bench.ladder_bench --burners 2 --seconds 60 --markdown out/bench_ladder.md

--fp16: one model through ONNX Runtime's CPU provider as it is and as the ladder's float16 copy (median ms of
--runs at the size given, the two taken in turns), the reason a fp16 rung is skipped where the CPU runs the model.

    .venv/bin/python -m bench.ladder_bench --fp16 --markdown out/bench_ladder_fp16.md
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

from bench.measure import median_ms, publish

REPO = Path(__file__).resolve().parent.parent
SPIN = "while True: pass"


def show_file(folder: Path, width: int, height: int, target: float, rungs: list[float]) -> Path:
    show = {"name": "ladder-bench", "output": {"width": width, "height": height, "fps": 30},
            "osc": {"port": 0}, "governor": {"window": 2.0, "dwell": 6.0},
            "scenes": [{"name": "drift", "kind": "cppn", "model": str(REPO / "models" / "cppn-tanh.onnx"),
                        "cppn": {"seed": 1, "backend": "onnx"}, "target_fps": target,
                        "ladder": [{"render_scale": scale} for scale in rungs]}]}
    path = folder / "show.yaml"
    path.write_text(yaml.safe_dump(show, sort_keys=False))
    return path


def steady_state(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory() as folder:
        show = show_file(Path(folder), args.width, args.height, args.target, args.rungs)
        stats = Path(folder) / "stats.json"
        burners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.burners)]
        try:
            subprocess.run([str(Path(sys.executable).parent / "latentstage"), "run", str(show), "--headless",
                            "--seconds", str(args.seconds), "--stats-json", str(stats)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ)
        finally:
            for burner in burners:
                burner.kill()
                burner.wait()
        figures = json.loads(stats.read_text())
    ladder = figures["ladder"]["drift"]
    target_ms = 1000.0 / args.target
    p95 = figures["new_picture_interval_ms"]["p95"]
    rung = ladder["rung"]
    scale = args.rungs[rung - 1] if rung else 1.0
    return "\n".join([
        f"ladder steady state: cppn-tanh {args.width}x{args.height}, target {args.target:g} fps "
        f"({target_ms:.1f} ms), rungs {args.rungs}, {args.burners} burners at nice 0, {args.seconds:g} s",
        "",
        "| rung settled | render scale | steps down / up | seconds on each rung | new pictures/s | "
        "p50 interval ms | p95 interval ms | p95 against target |",
        "|---|---|---|---|---|---|---|---|",
        f"| {rung} | {scale:g} | {ladder['steps_down']} / {ladder['steps_up']} | {ladder['seconds_on_rung']} | "
        f"{figures['new_pictures_fps']:.1f} | {figures['new_picture_interval_ms']['p50']:.1f} | {p95:.1f} | "
        f"{(p95 / target_ms - 1) * 100:+.0f}% |",
    ])


def fp16_cost(args: argparse.Namespace) -> str:
    import onnxruntime as ort

    from live.inference.float16 import float16_copy

    model = Path(args.model)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    with tempfile.TemporaryDirectory() as folder:
        paths = {"float32": model, "float16 copy": float16_copy(model, Path(folder))}
        sessions = {name: ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                    for name, path in paths.items()}
    feed = sessions["float32"].get_inputs()[0]
    channels = feed.shape[1] if isinstance(feed.shape[1], int) else 3
    picture = np.random.default_rng(0).random((1, channels, args.height, args.width), dtype=np.float32)
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(args.runs):  # taken in turns, so a load that comes and goes weighs on both alike
        for name, session in sessions.items():
            times[name].append(median_ms(lambda: session.run(None, {feed.name: picture}), 1))
    rows = [(name, float(np.median(values))) for name, values in times.items()]
    base = rows[0][1]
    lines = [f"float16 on ONNX Runtime's CPU provider: {model.name} at {args.width}x{args.height}, "
             f"median of {args.runs} runs", "", "| weights | ms | against float32 |", "|---|---|---|"]
    lines += [f"| {name} | {ms:.1f} | {ms / base:.2f}x |" for name, ms in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burners", type=int, default=2, help="processes spinning at nice 0 during the run")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--target", type=float, default=30.0, help="the scene's target_fps")
    parser.add_argument("--rungs", type=float, nargs="+", default=[0.75, 0.5, 0.35, 0.25],
                        help="the ladder's render scales, top down")
    parser.add_argument("--fp16", action="store_true", help="time a model in float32 and as a float16 copy instead")
    parser.add_argument("--model", default=str(REPO / "models" / "style-cezanne-slim.onnx"))
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    publish(fp16_cost(args) if args.fp16 else steady_state(args), args.markdown)


if __name__ == "__main__":
    main()
