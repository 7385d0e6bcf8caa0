"""Outside text (an OSC address, a file name from a packet, a show file's value) made safe to log."""
from __future__ import annotations

OUTSIDE_TEXT_LIMIT = 200  # characters of outside text a log line carries; a sender cannot fill the disk through it


def clipped(text: str, limit: int = OUTSIDE_TEXT_LIMIT) -> str:
    """`text` as it is when short, else its first `limit` characters and how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"
