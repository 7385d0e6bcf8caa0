"""A test-only controller, written from live.control.controller's interface alone: a tape of timed writes.

The tape is a text file (a sensor's log, say) of lines `<seconds> <parameter> <value>`. `start` opens and
reads it, `poll(t)` writes each line due by show time t onto the bus it was given, `status` says how far it
has got, `stop` forgets it. Nothing here knows shows, cues or scenes.

Run as a module it is `latentstage` with the tape registered as the show's controller (the one entry the
README's recipe adds to live.show.controllers.CONTROLLERS):
    python -m tests.live.control.tape_controller TAPE rehearse SHOW -o OUT.mp4 ...
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

from live.control.controller import Controller


class TapeController(Controller):
    name = "tape"

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.lines: list[tuple[float, str, object]] = []
        self.played = 0

    def start(self) -> None:
        lines = []
        for text in self.path.read_text(encoding="utf-8").splitlines():  # OSError if it cannot: the show goes on
            at, name, value = text.split(maxsplit=2)
            lines.append((float(at), name, yaml.safe_load(value)))  # "1.5" a number, "true" on/off
        self.lines = sorted(lines, key=lambda line: line[0])

    def poll(self, t: float) -> None:
        while self.played < len(self.lines) and self.lines[self.played][0] <= t:
            _, name, value = self.lines[self.played]
            self.bus.set(name, value, source=self.name)
            self.played += 1

    def stop(self) -> None:
        self.lines = []

    def status(self) -> str:
        return f"tape {self.played}/{len(self.lines)}"


def main(argv: list[str]) -> int:
    import live.show.controllers as controllers
    from live.cli import main as latentstage

    tape = Path(argv[0])
    controllers.CONTROLLERS = (*controllers.CONTROLLERS, lambda show, rehearsal: TapeController(tape))
    return latentstage(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
