"""A compressed soak: the mirror and VJ shows run headless at a high frame rate while junk floods OSC.

Each show runs through the installed command (`latentstage run --headless`)
for --seconds at --fps; the mirror's camera is a video file standing in for
one (each time the file ends the camera counts as lost and is reopened), and
while the VJ show runs a sender floods its OSC port with junk datagrams and,
ten times a second, one valid message. The table gives resident memory after
warm-up and at the end, the frame rate, and what the OSC listener made of the
flood (every valid message applied, every junk datagram counted). Run it as
`.venv/bin/python -m bench.soak_bench --seconds 300 --markdown out/soak.md`.
"""
from __future__ import annotations

import argparse
import json
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml
from pythonosc.osc_message_builder import build_msg

from bench.measure import publish
from live.output.video import VideoWriter

REPO = Path(__file__).resolve().parents[1]
WARM_UP = 20.0  # seconds before memory counts as settled (encoder buffers, first allocations)


def camera_stand_in(path: Path, seconds: float = 4.0, fps: float = 30.0) -> Path:
    """A short H.264 clip of a moving square: the 'camera' runs out every few seconds and is reopened."""
    width, height = 640, 360
    with VideoWriter(path, width, height, fps) as writer:
        for index in range(round(seconds * fps)):
            picture = np.full((height, width, 3), 40, np.uint8)
            x = (index * 7) % (width - 80)
            picture[140:220, x:x + 80] = (250, 230, 40)
            writer.write(picture)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shows(folder: Path, fps: float, port: int) -> dict[str, Path]:
    mirror = yaml.safe_load((REPO / "shows" / "mirror.yaml").read_text())
    mirror["output"] = {"width": 640, "height": 360, "fps": fps}
    mirror["scenes"][0]["source"]["device"] = str(camera_stand_in(folder / "camera.mp4"))
    vj = yaml.safe_load((REPO / "shows" / "vj.yaml").read_text())
    vj["output"] = {**vj["output"], "width": 640, "height": 360, "fps": fps}
    vj["audio"] = {"kind": "none"}  # no sound card on a bench machine
    vj["osc"] = {"host": "127.0.0.1", "port": port}
    paths = {}
    for name, show in (("mirror", mirror), ("vj", vj)):
        for scene in show["scenes"]:
            if "model" in scene:
                scene["model"] = str((REPO / "shows" / scene["model"]).resolve())
        paths[name] = folder / f"{name}.yaml"
        paths[name].write_text(yaml.safe_dump(show))
    return paths


def junk(rng: random.Random) -> bytes:
    """A datagram no OSC parser should apply: random bytes, or a bundle whose sizes lie."""
    if rng.random() < 0.5:
        return rng.randbytes(rng.randint(0, 1400))
    return b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", rng.choice([-8, 0, 1 << 20, 3]))


def flood(port: int, started: Path, seconds: float, rate: float, sent: dict) -> None:
    """Junk at `rate` datagrams a second and ten valid messages a second, from when the show runs
    (its status file appears once it listens) for `seconds`, so all of it reaches a listening show."""
    while not started.exists():
        time.sleep(0.05)
    rng = random.Random(5)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    valid_every = max(1, round(rate / 10))  # ten valid messages a second
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(1.0 / rate)
        if sent["junk"] % valid_every == 0:
            sender.sendto(build_msg("/latentstage/fade", float(sent["valid"] % 30)).dgram, ("127.0.0.1", port))
            sent["valid"] += 1
        sender.sendto(junk(rng), ("127.0.0.1", port))
        sent["junk"] += 1
    sender.close()


def soak(show: Path, seconds: float, port: int | None, rate: float) -> dict:
    stats_path, status_path = show.with_suffix(".json"), show.with_suffix(".status")
    command = [str(Path(sys.executable).parent / "latentstage"), "run", str(show), "--headless",
               "--seconds", str(seconds), "--stats-json", str(stats_path), "--status-file", str(status_path)]
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sent = {"junk": 0, "valid": 0}
    # the flood ends a few seconds before the show does: what it sends must find the port open
    sender = threading.Thread(target=flood, args=(port, status_path, seconds - 5, rate, sent)) if port else None
    if sender is not None:
        sender.start()
    _, errors = run.communicate()
    if sender is not None:
        sender.join()
    if run.returncode != 0:
        raise SystemExit(f"{show.name}: exit {run.returncode}\n{errors[-2000:]}")
    stats = json.loads(stats_path.read_text())
    return {"stats": stats, "sent": sent, "reconnect_lines": errors.count("recovered after")}


def row(name: str, seconds: float, result: dict) -> str:
    stats, sent = result["stats"], result["sent"]
    settled = [mb for at, mb in stats["resident_mb"] if at >= WARM_UP]
    growth = 100.0 * (settled[-1] - settled[0]) / settled[0] if len(settled) > 1 else float("nan")
    osc = stats.get("osc") or {}
    flood_cells = (f"{sent['junk']} | {osc.get('malformed', 0)} | {sent['valid']} | {osc.get('applied', 0)}"
                   if sent["junk"] else "- | - | - | -")
    return (f"| {name} | {seconds:.0f} | {stats['fps']:.1f} | {stats['presented']} | "
            f"{settled[0] if settled else float('nan'):.1f} | {settled[-1] if settled else float('nan'):.1f} | "
            f"{growth:+.1f}% | {result['reconnect_lines']} | {flood_cells} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="per show")
    parser.add_argument("--fps", type=float, default=60.0)
    parser.add_argument("--junk-rate", type=float, default=500.0, help="junk datagrams a second at the VJ show")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        paths = shows(Path(folder), args.fps, port)
        results = {"mirror": soak(paths["mirror"], args.seconds, None, args.junk_rate),
                   "vj": soak(paths["vj"], args.seconds, port, args.junk_rate)}
    lines = [f"Soak at {args.fps:g} fps, headless, 640x360; junk at {args.junk_rate:g} datagrams/s to the VJ show", "",
             "| show | s | fps | frames | RSS MB after warm-up | RSS MB at end | growth | camera recoveries | "
             "junk sent | malformed counted | valid sent | valid applied |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += [row(name, args.seconds, result) for name, result in results.items()]
    table = "\n".join(lines)
    publish(table, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
