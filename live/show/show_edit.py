"""Edits to a show file made while it runs (MIDI learn, capture to show), leaving the rest of the file as written.

The file is edited as text at the places its YAML nodes say (PyYAML gives each
node's start and end), so comments, key order, quoting and blank lines stay as
the designer wrote them: what is added goes in as one flow-style line (an item
of a top-level list, or a `key: value` entry of a mapping, the mappings above
it made where they are missing). The result must pass every check
`latentstage check` makes before it replaces the file, atomically, so a
running show's hot reload reads the old file or the new one, never half of
either.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from live.core.atomic_file import atomic_file
from live.show.schema import Show, ShowError, parse_show, show_text

_EDITING = threading.Lock()  # one edit at a time: MIDI learn and a capture each read the file, edit it, write it
Location = tuple[str | int, ...]  # keys and list indexes from the top of the file: ("scenes", 0, "cppn")


def flow(value: Any) -> str:
    """`value` as one line of flow-style YAML; floats by their shortest repr, so they read back exactly."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=math.inf)
    return text.strip().removesuffix("...").strip()  # a lone scalar comes with YAML's end-of-document mark


def composed(text: str) -> yaml.MappingNode:
    """The show's YAML nodes, or a ShowError saying why nothing can be written into it."""
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise ShowError(f"the show file is not valid YAML, so nothing was written: {error}") from None
    if not isinstance(tree, yaml.MappingNode):
        raise ShowError("the show file is not a mapping of keys, so nothing was written")
    return tree


def edit_show(path: Path, edit: Callable[[str, yaml.MappingNode], str]) -> Show:
    """Apply `edit(text, tree)` to the show file at `path` and write the result if it is a show
    (every check `check` makes); returns it as loaded. ShowError, with the file untouched, if not."""
    with _EDITING:  # else two at once would each write the file as it was before the other
        text = show_text(path)
        edited = edit(text, composed(text))
        show = parse_show(edited, path)
        with atomic_file(path) as file:
            file.write(edited.encode("utf-8"))
    return show


def node_at(tree: yaml.Node, location: Location) -> yaml.Node | None:
    """The node at `location`, None where the file has nothing there."""
    node = tree
    for part in location:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            node = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return None
        if node is None:
            return None
    return node


def with_list_item(text: str, tree: yaml.MappingNode, key: str, line: str, before: int | None = None,
                   replacing: Callable[[Any], bool] | None = None) -> str:
    """`text` with `line` as an item of the top-level list `key`: in place of the first item `replacing`
    (given the item as loaded) says, else before item `before` (None: after the last), or in a new
    list at the end of the file."""
    listed = node_at(tree, (key,))
    if listed is None:
        return text.rstrip("\n") + f"\n\n{key}:\n  - {line}\n"
    if _empty(listed):  # `key:` with nothing
        return _splice(text, listed.start_mark.index, listed.end_mark.index, f"\n  - {line}")
    if not isinstance(listed, yaml.SequenceNode):
        raise ShowError(f"the show's {key} is not a list, so nothing was written")
    for item in listed.value if replacing is not None else ():
        if replacing(yaml.SafeLoader("").construct_object(item, deep=True)):
            return _splice(text, item.start_mark.index, _end(text, item), line)
    if before is not None and before < len(listed.value):
        item = listed.value[before]
        if listed.flow_style:
            return _splice(text, item.start_mark.index, item.start_mark.index, f"{line}, ")
        dash = text.rindex("-", 0, item.start_mark.index)
        start = text.rfind("\n", 0, dash) + 1
        if before == 0:
            return _splice(text, start, start, f"{text[start:dash]}- {line}\n")
        end = _line_end(text, _end(text, listed.value[before - 1]))  # right under the item before, above comments
        return _splice(text, end, end, f"\n{text[start:dash]}- {line}")
    if listed.flow_style:  # `key: []` or `[{...}, {...}]`
        closing = text.rindex("]", listed.start_mark.index, listed.end_mark.index)
        return _splice(text, closing, closing, f", {line}" if listed.value else line)
    dash = text.rindex("-", 0, listed.value[0].start_mark.index)
    indent = dash - (text.rfind("\n", 0, dash) + 1)
    end = _line_end(text, _end(text, listed.value[-1]))
    return _splice(text, end, end, f"\n{' ' * indent}- {line}")


def with_entry(text: str, tree: yaml.MappingNode, location: Location, key: str, value: str) -> str:
    """`text` with `key: value` (value one line of YAML) in the mapping at `location`, the mappings on
    the way made where the file has none; ShowError where something else is in the way."""
    node, depth = tree, 0
    while depth < len(location):  # down to the deepest mapping the file has
        child = node_at(node, (location[depth],))
        if child is None or _empty(child):
            break
        node, depth = child, depth + 1
    entry = f"{key}: {value}"
    for part in reversed(location[depth + 1:]):
        entry = f"{part}: {{{entry}}}"
    if depth < len(location):
        child = node_at(node, (location[depth],))
        if child is not None:  # `cppn:` with nothing after it
            return _splice(text, child.start_mark.index, child.end_mark.index, f" {{{entry}}}")
        entry = f"{location[depth]}: {{{entry}}}"
    if not isinstance(node, yaml.MappingNode):
        where = ".".join(str(part) for part in location[:depth]) or "the file"
        raise ShowError(f"the show's {where} is not a mapping of keys, so nothing was written")
    if node.flow_style or not node.value:
        closing = text.rindex("}", node.start_mark.index, node.end_mark.index)
        return _splice(text, closing, closing, f", {entry}" if node.value else entry)
    indent = node.value[0][0].start_mark.column
    end = _line_end(text, _end(text, node.value[-1][1]))
    return _splice(text, end, end, f"\n{' ' * indent}{entry}")


def _empty(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and node.value in ("", "~", "null")


def _end(text: str, node: yaml.Node) -> int:
    """Where a node's own text ends (a block node's end mark is the start of the line after it)."""
    return node.start_mark.index + len(text[node.start_mark.index:node.end_mark.index].rstrip())


def _line_end(text: str, index: int) -> int:
    """The end of the line `index` is on: an entry added after a value goes below a comment beside it."""
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def _splice(text: str, start: int, end: int, insert: str) -> str:
    return text[:start] + insert + text[end:]
