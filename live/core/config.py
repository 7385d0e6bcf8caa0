"""How settings that people write (show files, OSC scripts) are declared: one pydantic base.

Every block a user writes is a `Settings` model: YAML keys are its field names,
an unknown key or a wrong type fails at load with the file, line and key (the
show loader turns pydantic's errors into those), and nothing is evaluated.
What the code passes around inside is plain frozen dataclasses. `replaced`
gives a changed copy that is validated again, as a command-line override must be.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    def replaced(self, **changes: Any) -> Self:
        """A copy with `changes`, validated like the original (pydantic's model_copy does not validate)."""
        return type(self).model_validate({**dict(self), **changes})


class LocatedError(ValueError):
    """A check that fails at a known key below the block that makes it: ("cues", 2, "scene") from the
    show, ("named_keyframes", "storm") from a scene's cppn block; the show loader names its line."""

    def __init__(self, location: tuple, message: str):
        super().__init__(message)
        self.location = location


def read_user_file(path: Path, what: str, limit: int) -> str:
    """The text of a file a user gave (a show, an OSC script), or a ValueError in one line that says
    why not: missing, unreadable, larger than `limit` bytes (no show is that big; a file that is
    may be the wrong one), or not UTF-8 text."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise ValueError(f"{path}: {size} bytes; {_article(what)} {what} is at most {limit} bytes (is it the right file?)")
        data = path.read_bytes()
        return data.decode("utf-8")
    except OSError as error:
        raise ValueError(f"{path}: cannot read the {what}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValueError(f"{path}:{line}: {_article(what)} {what} is UTF-8 text; byte {error.start} is not") from None


def matching(pattern: re.Pattern, text: str | None, what: str) -> str | None:
    """`text` if it matches `pattern` (None passes), else a ValueError saying it is not `what`."""
    if text is not None and not pattern.match(text):
        raise ValueError(f"{text!r} is not {what}")
    return text


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" or noun.startswith("OSC") else "a"
