"""A MIDI controller played from a second process: `python -m tests.midi_player NAME` offers an output port
NAME (what the show reads, as a device's port) and an input port "NAME feedback" (where the show's feedback
lands), on the machine's MIDI system (JACK's dummy server in the tests).

It reads one JSON command per line on stdin and answers "ok" (or "error ...") on stdout:
  {"send": [176, 21, 64]}     one message as bytes (rtmidi sends 1-3 bytes, or a SysEx F0 ... of any length)
  {"flood": [[176, 21], 2000]}  that many CCs (values counting 0..126 round), 128 every 0.1 s: as many as
                              JACK carries on a busy machine without losing them
  {"unplug": true}            close both ports, as a device pulled out
  {"plug": true}              offer them again under the same names
  {"heard": true}             answers with the JSON list of messages heard on the feedback port so far
`Player` drives it from a test.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

from tests.conftest import REPO


class Device:
    def __init__(self, name: str):
        self.name = name
        self.heard: list[list[int]] = []
        self._lock = threading.Lock()
        self.output = self.input = None

    def plug(self) -> None:
        import rtmidi

        from live.control.midi_ports import open_client
        self.output = open_client("output", f"{self.name}-player")
        self.output.open_virtual_port(self.name)
        self.input = open_client("input", f"{self.name}-player-feedback")
        self.input.ignore_types(sysex=False, timing=False, active_sense=False)
        self.input.set_callback(self._hear)
        self.input.open_virtual_port(f"{self.name} feedback")
        assert isinstance(self.output, rtmidi.MidiOut)

    def unplug(self) -> None:
        for client in (self.output, self.input):
            client.close_port()
            client.delete()
        self.output = self.input = None

    def _hear(self, event, data=None) -> None:
        with self._lock:
            self.heard.append(list(event[0]))

    def answer(self, command: dict):
        if "send" in command:
            self.output.send_message(command["send"])
        elif "flood" in command:
            (status, number), count = command["flood"]
            for index in range(count):
                self.output.send_message([status, number, index % 127])
                if index % 128 == 127:
                    time.sleep(0.1)  # two JACK cycles (43 ms in the tests) to carry them: its buffers hold a few kB
        elif "unplug" in command:
            self.unplug()
        elif "plug" in command:
            self.plug()
        elif "heard" in command:
            with self._lock:
                return list(self.heard)
        return "ok"


def main(name: str) -> int:
    device = Device(name)
    device.plug()
    print("ok", flush=True)
    for line in sys.stdin:
        try:
            print(json.dumps(device.answer(json.loads(line))), flush=True)
        except Exception as error:  # the test reads why
            print(f"error {type(error).__name__}: {error}", flush=True)
    return 0


class Player:
    """The player process, from a test: `with Player("nano") as nano: nano.cc(21, 64)`."""

    def __init__(self, name: str):
        self.name = name
        self.process = subprocess.Popen([sys.executable, "-m", "tests.midi_player", name], cwd=REPO, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._expect_ok()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=10)

    def command(self, **command) -> object:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._expect_ok()

    def send(self, *message: int) -> None:
        self.command(send=list(message))

    def cc(self, number: int, value: int, channel: int = 1) -> None:
        self.send(0xB0 + channel - 1, number, value)

    def note(self, number: int, velocity: int, channel: int = 1) -> None:
        self.send(0x90 + channel - 1, number, velocity)

    def heard(self) -> list[list[int]]:
        return self.command(heard=True)

    def _expect_ok(self) -> object:
        line = self.process.stdout.readline().strip()
        if not line or line.startswith("error"):
            raise RuntimeError(f"the MIDI player {self.name!r} said {line!r} (exit code {self.process.poll()})")
        return "ok" if line == "ok" else json.loads(line)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
