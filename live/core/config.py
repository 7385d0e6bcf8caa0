"""How settings that people write (show files, OSC scripts) are declared: one pydantic base.

Every block a user writes is a `Settings` model: YAML keys are its field names,
an unknown key or a wrong type fails at load with the file, line and key (the
show loader turns pydantic's errors into those), and nothing is evaluated.
What the code passes around inside is plain frozen dataclasses. `replaced`
gives a changed copy that is validated again, as a command-line override must be.
"""
from __future__ import annotations

import re
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    def replaced(self, **changes: Any) -> Self:
        """A copy with `changes`, validated like the original (pydantic's model_copy does not validate)."""
        return type(self).model_validate({**dict(self), **changes})


def matching(pattern: re.Pattern, text: str | None, what: str) -> str | None:
    """`text` if it matches `pattern` (None passes), else a ValueError saying it is not `what`."""
    if text is not None and not pattern.match(text):
        raise ValueError(f"{text!r} is not {what}")
    return text
