"""MIDI learn's write: one mapping added to the show file, the rest of the file left as it was written.

The file is edited as text at the places its YAML nodes say (PyYAML gives each
node's start and end), so comments, key order, quoting and blank lines stay as
the designer wrote them: the new mapping goes in as one flow-style line
(`- {midi: {cc: 21, channel: 1}, to: drift.scale}`) after the last mapping, or
in a new `mappings:` list at the end. A mapping from the same MIDI control is
replaced (a control drives one thing; learning it again moves it). The result
must pass every check `latentstage check` makes before it replaces the file,
atomically, so a running show's hot reload reads the old file or the new one,
never half of either.
"""
from __future__ import annotations

import math
from pathlib import Path

import yaml

from live.core.atomic_file import atomic_file
from live.show.schema import ShowError, parse_show, show_text


def add_mapping(path: Path, mapping: dict) -> str:
    """Write `mapping` (`{"midi": {...}, "to": name}`) into the show at `path`; returns the line written.
    ShowError if the file is not a show or the result would not be one (the file is then untouched)."""
    text = show_text(path)
    line = yaml.safe_dump(mapping, default_flow_style=True, sort_keys=False, width=math.inf).strip()
    edited = with_mapping(text, line, mapping)
    parse_show(edited, path)  # every check `check` makes; raises ShowError
    with atomic_file(path) as file:
        file.write(edited.encode("utf-8"))
    return line


def with_mapping(text: str, line: str, mapping: dict) -> str:
    """`text` with `line` as a mapping: in place of one from the same MIDI control, else after the last."""
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise ShowError(f"the show file is not valid YAML, so nothing was written: {error}") from None
    if not isinstance(tree, yaml.MappingNode):
        raise ShowError("the show file is not a mapping of keys, so nothing was written")
    listed = next((value for key, value in tree.value if key.value == "mappings"), None)
    if listed is None:
        return text.rstrip("\n") + f"\n\nmappings:\n  - {line}\n"
    if isinstance(listed, yaml.ScalarNode) and listed.value in ("", "~", "null"):  # `mappings:` with nothing
        return _splice(text, listed.start_mark.index, listed.end_mark.index, f"\n  - {line}")
    if not isinstance(listed, yaml.SequenceNode):
        raise ShowError("the show's mappings is not a list, so nothing was written")
    for item in listed.value:
        if _same_control(item, mapping):
            end = item.start_mark.index + len(text[item.start_mark.index:item.end_mark.index].rstrip())
            return _splice(text, item.start_mark.index, end, line)
    if listed.flow_style:  # `mappings: []` or `[{...}, {...}]`
        closing = text.rindex("]", listed.start_mark.index, listed.end_mark.index)
        return _splice(text, closing, closing, f", {line}" if listed.value else line)
    last = listed.value[-1]
    end = last.start_mark.index + len(text[last.start_mark.index:last.end_mark.index].rstrip())
    dash = text.rindex("-", 0, listed.value[0].start_mark.index)
    indent = dash - (text.rfind("\n", 0, dash) + 1)
    return _splice(text, end, end, f"\n{' ' * indent}- {line}")


def _same_control(item: yaml.Node, mapping: dict) -> bool:
    if not isinstance(item, yaml.MappingNode):
        return False
    loaded = yaml.SafeLoader("").construct_object(item, deep=True)
    return isinstance(loaded, dict) and loaded.get("midi") == mapping["midi"]


def _splice(text: str, start: int, end: int, insert: str) -> str:
    return text[:start] + insert + text[end:]
