"""Flicker target: where a pipeline scene's output change settles against its target, how steady its stabilise
stays there, and what the tuning costs a picture.

A camera's view of a room (tests/room_clip.py: a photograph, Gaussian sensor noise of --noise levels, a figure
walking across, the room empty and still for --still seconds, the figure walking back) is rehearsed through a
pipeline scene twice: untuned (its chain's own stabilise), and with `flicker: {target: T}`. Rehearsal renders
each new picture of the clip in turn, so the figures follow the pictures, not this machine's speed. Reported:
the output change a new picture (levels, the HUD's "flicker out") over the last --tail seconds of the still
room, untuned and tuned; the stabilise the tuned scene ends the still part with and its range over the tail
(pumping would show as a wide range); seconds into the still room until the running mean is within 15% of the
target; the output change while the figure walks back (tuned against untuned: what steadier edges cost a
moving visitor). Then the tuner's own work a picture (EdgeTuner.note: an absdiff and a copy of the picture
and of its input frame) at 1280x720.
A strip of pictures (walk and still, untuned above tuned) goes to --strip for looking at.

    .venv/bin/python -m bench.flicker_target_bench --markdown out/bench_flicker_target.md --strip out/flicker_target.png
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import yaml

from bench.measure import median_ms, publish
from live.core.imaging import change
from live.scenes.edge_tuning import DEAD_BAND, EdgeTuner
from live.show.schema import load_show
from live.show.stage import Stage
from tests.room_clip import write_room_clip

MODELS = Path(__file__).resolve().parent.parent / "models"
FPS = 15
WALK = 2.0  # seconds the figure takes to cross
EMPTY_FIRST = 0.5  # seconds of the empty room before the figure comes in (tests/room_clip.py)


def scene_block(clip: Path, model: Path | None, target: float | None) -> dict:
    block = {"name": "scene", "kind": "pipeline", "source": {"kind": "video", "path": str(clip), "loop": False}}
    if model is None:
        block["chain"] = [{"canny": {"sigma": 0.33}}]
    else:
        block.update(model=str(model), chain=[{"fit": {"width": 256, "height": 256}}])  # its card brings the edges
    if target is not None:
        block["flicker"] = {"target": target}
    return block


def rehearse(folder: Path, block: dict, size: tuple[int, int], seconds: float):
    """Each new picture's output change, the stabilise it was made with, and the pictures."""
    path = folder / "show.yaml"
    path.write_text(yaml.safe_dump({"output": {"width": size[0], "height": size[1], "fps": FPS}, "scenes": [block]}))
    stage = Stage.build(load_show(path), rehearsal=True)
    changes, stabilised, pictures = [0.0], [], []
    for index in range(round(seconds * FPS)):
        picture = stage.frame_at(index / FPS, copy=True).current
        if pictures:
            changes.append(change(pictures[-1], picture))
        pictures.append(picture)
        tuning = stage.scene(0).flicker_tuning
        stabilised.append(tuning[1] if tuning is not None else float("nan"))
    return np.array(changes), np.array(stabilised), pictures


def settle_seconds(changes: np.ndarray, target: float, start: int) -> float | None:
    """Seconds from `start` until the mean of the last second's changes is within the dead band, to stay there."""
    running = np.convolve(changes, np.ones(FPS) / FPS, mode="full")[:len(changes)]
    inside = np.abs(running - target) <= DEAD_BAND * target
    for index in range(start, len(changes)):
        if inside[index:].all():
            return (index - start) / FPS
    return None


def tuner_ms(runs: int) -> float:
    """Median ms of EdgeTuner.note on a 1280x720 picture made from a 1280x720 camera frame."""
    tuner, rng = EdgeTuner(4.0, 0.0), np.random.default_rng(0)
    pictures = [rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8) for _ in range(4)]
    flip = iter(range(10**9))

    def note() -> None:
        turn = next(flip) % 2
        tuner.note(pictures[turn], pictures[2 + turn])

    return median_ms(note, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--noise", type=float, nargs="+", default=[3.0, 6.0, 10.0], help="sensor noise, levels (std)")
    parser.add_argument("--targets", type=float, nargs="+", default=[2.0, 4.0])
    parser.add_argument("--model", type=Path, default=MODELS / "pix2pix-paintings.onnx",
                        help="also rehearse through this pix2pix model (its card's edges); 'none' to skip")
    parser.add_argument("--still", type=float, default=12.0, help="seconds of the empty, still room")
    parser.add_argument("--tail", type=float, default=4.0, help="seconds at the end of the still room measured")
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--runs", type=int, default=50, help="timed calls of the tuner")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--strip", type=Path, help="a PNG of pictures, untuned above tuned")
    args = parser.parse_args()
    size = tuple(int(part) for part in args.size.split("x"))
    models = [None] + ([args.model] if str(args.model) != "none" else [])
    seconds = EMPTY_FIRST + 2 * WALK + args.still
    still = (round((EMPTY_FIRST + WALK) * FPS), round((EMPTY_FIRST + WALK + args.still) * FPS))
    tail = slice(still[1] - round(args.tail * FPS), still[1])
    back = slice(still[1], None)
    lines = [f"Rehearsed at {size[0]}x{size[1]}, {FPS} pictures a second; still room {args.still:g} s, its last "
             f"{args.tail:g} s measured; output change in levels a new picture.", "",
             "| scene | noise | target | untuned (still) | tuned (still) | stabilise at end | stabilise range (tail) "
             "| settled after | walking back: untuned / tuned |",
             "|---|---|---|---|---|---|---|---|---|"]
    strips = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for noise in args.noise:
            clip = write_room_clip(folder / f"room-{noise:g}.mp4", WALK, args.still, fps=FPS, size=size, noise=noise)
            for model in models:
                label = "edges" if model is None else model.stem
                untuned, _, plain = rehearse(folder, scene_block(clip, model, None), size, seconds)
                for target in args.targets:
                    changes, stabilised, pictures = rehearse(folder, scene_block(clip, model, target), size, seconds)
                    settled = settle_seconds(changes[:still[1]], target, still[0])
                    low, high = stabilised[tail].min(), stabilised[tail].max()
                    lines.append(
                        f"| {label} | {noise:g} | {target:g} | {untuned[tail].mean():.2f} | {changes[tail].mean():.2f} "
                        f"| {stabilised[still[1] - 1]:.2f} | {low:.2f}..{high:.2f} "
                        f"| {'never' if settled is None else f'{settled:.1f} s'} "
                        f"| {untuned[back].mean():.2f} / {changes[back].mean():.2f} |")
                    if noise == args.noise[len(args.noise) // 2] and target == args.targets[0]:
                        picks = [round((EMPTY_FIRST + WALK / 2) * FPS), still[1] - 2, still[1] - 1,
                                 still[1] + round(WALK / 2 * FPS)]
                        strips.append(np.vstack([np.hstack([plain[i] for i in picks]),
                                                 np.hstack([pictures[i] for i in picks])]))
    lines += ["", f"EdgeTuner.note, a 1280x720 picture from a 1280x720 frame (two absdiffs, two copies), "
                  f"median of {args.runs}: {tuner_ms(args.runs):.2f} ms"]
    publish("\n".join(lines) + "\n", args.markdown)
    if args.strip and strips:
        from PIL import Image

        args.strip.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.vstack(strips)).save(args.strip)


if __name__ == "__main__":
    main()
