"""A rehearsal's OSC script: the operator's messages, timed in show time, read from a YAML file.

The script stands in for the OSC controllers in rehearsal: a controller that
writes each message onto the bus when the show clock reaches it, as the OSC
server would have on the night.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, TypeAdapter, ValidationError

from live.control.controller import Controller
from live.control.osc import apply_message
from live.control.parameters import ControlError
from live.core.config import Settings, read_user_file

log = logging.getLogger("latentstage.osc_script")

MAX_SCRIPT_BYTES = 16 << 20  # an hour of a controller sending 50 messages a second is about 10 MB


class OscCue(Settings):
    """One message of a rehearsal's OSC script: `{at: 12.5, address: /latentstage/cppn/scale, args: [2.0]}`."""

    at: float = Field(ge=0)  # seconds of show time
    address: str
    args: list[Any] = Field(default_factory=list)


def load_osc_script(path: Path) -> list[OscCue]:
    """A YAML list of OscCue, in time order; errors name the file and the entry."""
    text = read_user_file(path, "OSC script", MAX_SCRIPT_BYTES)
    try:
        data = yaml.safe_load(text) or []
        cues = TypeAdapter(list[OscCue]).validate_python(data)
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{path}: entry {where}: {first['msg']}") from None
    return sorted(cues, key=lambda cue: cue.at)


class OscScript(Controller):
    """The script's messages onto the bus at their show times, under the OSC `prefix`; a message the
    bus refuses is logged and skipped, as the live server would."""

    name = "osc script"

    def __init__(self, cues: list[OscCue], prefix: str):
        super().__init__()
        self.cues = sorted(cues, key=lambda cue: cue.at)
        self.prefix = prefix
        self._done = 0  # messages already applied

    def poll(self, t: float) -> None:
        while self._done < len(self.cues) and self.cues[self._done].at <= t:
            cue = self.cues[self._done]
            self._done += 1
            try:
                apply_message(self.bus, self.prefix, cue.address, cue.args, source="script")
            except ControlError as error:
                log.warning("OSC script at %.2f s: %s %s: %s", cue.at, cue.address, cue.args, error)
