"""MIDI learn's write: one mapping added to the show file, the rest of the file left as it was written.

The new mapping goes in as one flow-style line (`- {midi: {cc: 21, channel: 1},
to: drift.scale}`) after the last mapping, or in a new `mappings:` list at the
end. A mapping from the same MIDI control is replaced (a control drives one
thing; learning it again moves it). The edit itself, its checks and its
atomic write are live.show.show_edit's, which capture to show shares.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from live.show.show_edit import edit_show, flow, with_list_item


def add_mapping(path: Path, mapping: dict) -> str:
    """Write `mapping` (`{"midi": {...}, "to": name}`) into the show at `path`; returns the line written.
    ShowError if the file is not a show or the result would not be one (the file is then untouched)."""
    line = flow(mapping)
    edit_show(path, lambda text, tree: _with_mapping(text, tree, line, mapping))
    return line


def _with_mapping(text: str, tree: yaml.MappingNode, line: str, mapping: dict) -> str:
    return with_list_item(text, tree, "mappings", line,
                          replacing=lambda item: isinstance(item, dict) and item.get("midi") == mapping["midi"])
