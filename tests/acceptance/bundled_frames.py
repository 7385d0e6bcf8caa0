"""Every bundled show's rehearsed frames, as sha256 digests, and the model files that made them.

`test_bundled_shows_frames.py` re-renders each show and compares its frames with the goldens in
bundled_frames.json bit for bit: a change to the house (a module moved, a loop rewritten) must not change
a pixel. The shows are rehearsed as a user does (`latentstage rehearse SHOW -o X.mp4 --seconds N --size
320x180 --frames DIR`), each with a short OSC script that walks it through its scenes, crossfades and
cues in a few seconds of show time (the cameras of mirror and snowman stood in for by the bundled clip).

The goldens name each model file's sha256: a retrained model changes the pictures, and the test then says
to regenerate the goldens with

    python -m tests.acceptance.bundled_frames --update

`--root DIR` renders another checkout's shows with its own code (how the goldens were first made, at the
commit before the house step).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("bundled_frames.json")
UPDATE = "python -m tests.acceptance.bundled_frames --update"
SIZE = "320x180"
CLIP = "shows/media/snow-walk.mp4"  # the camera's stand-in


def _osc(at: float, name: str, *args) -> dict:
    return {"at": at, "address": f"/latentstage/{name}", "args": list(args)}


@dataclass(frozen=True)
class Rehearsal:
    """One bundled show's rehearsal: its length, the operator's presses and a camera stand-in."""

    show: str  # under shows/
    seconds: float
    script: list[dict] = field(default_factory=list)
    camera: bool = False


REHEARSALS = (
    # five scenes (three CPPNs, the GAN, pix2pix on a clip) through four quick crossfades
    Rehearsal("demo.yaml", 2.0, [_osc(0.0, "fade", 0.25), *(_osc(at, "scene/next") for at in (0.3, 0.7, 1.1, 1.5))]),
    # the camera scene, then the idle CPPN faded in by hand
    Rehearsal("mirror.yaml", 1.5, [_osc(0.0, "fade", 0.4), _osc(0.8, "scene/next")], camera=True),
    Rehearsal("snowman.yaml", 1.5, [_osc(0.0, "fade", 0.4), _osc(0.8, "scene/next")], camera=True),
    # the cue list: GO into snow, the wait cue fired early, a quantised GO on the bar, a ramp, a keyframe move
    Rehearsal("theatre.yaml", 3.0, [_osc(at, "go") for at in (0.2, 0.8, 1.4, 2.2, 2.6)]),
    # LFO and onset mappings in silence, a controller's fader setting the fade, a scene change
    Rehearsal("vj.yaml", 1.5, [{"at": 0.0, "address": "/1/fader1", "args": [0.05]}, _osc(0.5, "scene/next")]),
    # the painter to its own groove, then a quick crossfade to the same walk drawn through the sr model
    Rehearsal("machineray.yaml", 1.5, [_osc(0.0, "fade", 0.25), _osc(0.8, "scene/next")]),
)


def model_digests(root: Path, show: str) -> dict[str, str]:
    """sha256 of each model file a show's scenes name, by its path under the checkout."""
    path = root / "shows" / show
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    models = sorted({(path.parent / scene[key]).resolve() for scene in spec["scenes"] for key in ("model", "upscale")
                     if key in scene})
    return {str(model.relative_to(root.resolve())): _sha256(model.read_bytes()) for model in models}


def render(root: Path, rehearsal: Rehearsal, work: Path) -> list[str]:
    """sha256 of each PNG frame of the show rehearsed by the checkout at `root`, in order."""
    frames, script = work / "frames", work / "script.yaml"
    script.write_text(yaml.safe_dump(rehearsal.script), encoding="utf-8")
    command = [sys.executable, "-m", "live", "rehearse", str(root / "shows" / rehearsal.show),
               "-o", str(work / "out.mp4"), "--seconds", str(rehearsal.seconds), "--size", SIZE,
               "--frames", str(frames), "--osc-script", str(script)]
    if rehearsal.camera:
        command += ["--camera", str(root / CLIP)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=root, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"rehearsing {rehearsal.show} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return [_sha256(png.read_bytes()) for png in sorted(frames.glob("frame-*.png"))]


def goldens(root: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="bundled-frames-") as folder:
        shows = {}
        for index, rehearsal in enumerate(REHEARSALS):
            work = Path(folder) / str(index)
            work.mkdir()
            shows[rehearsal.show] = {"models": model_digests(root, rehearsal.show),
                                     "frames": render(root, rehearsal, work)}
    return {"size": SIZE, "shows": shows}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.acceptance.bundled_frames",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--update", action="store_true", help=f"write the goldens to {GOLDEN.relative_to(REPO)}")
    parser.add_argument("--root", type=Path, default=REPO, help="the checkout to render (default: this one)")
    args = parser.parse_args(argv)
    result = goldens(args.root.resolve())
    if args.update:
        GOLDEN.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN}: {sum(len(show['frames']) for show in result['shows'].values())} frames")
    else:
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
