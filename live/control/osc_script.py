"""A rehearsal's OSC script: the operator's messages, timed in show time, read from a YAML file.

The script stands in for a controller in rehearsal; the conductor plays each
message onto the bus when the show clock reaches it, as the OSC server would
have on the night.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, TypeAdapter, ValidationError

from live.core.config import Settings, read_user_file

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
