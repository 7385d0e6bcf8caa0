"""A model file's `metadata_props`, read straight from its protobuf bytes, without the onnx package.

Every start, `check` and `osc list` reads each model's card before anything
is loaded. `onnx.load` parses the whole file, every weight, and importing
onnx costs 0.6-0.9 s here (most of it ml_dtypes, which it imports): more than
a cold start spends loading all the demo's models. The card is a few key/value
pairs in ModelProto's field 14, so this walks the file's top-level fields,
seeks over the rest (the graph, which holds the weights) and decodes only
those pairs. Bytes that are not a ModelProto are refused: a field ModelProto
has with the wrong wire type, a wire type protobuf does not have, a length
past the end of the file.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5  # the protobuf wire types a ModelProto can hold
METADATA_PROPS = 14  # ModelProto.metadata_props: repeated StringStringEntryProto {key = 1, value = 2}
# ModelProto's fields (onnx.proto), each with its wire type; a field number it lacks (a newer
# ONNX's) is skipped over like the graph, as protobuf readers do
MODEL_FIELDS = {1: VARINT, 2: LENGTH, 3: LENGTH, 4: LENGTH, 5: VARINT, 6: LENGTH, 7: LENGTH, 8: LENGTH,
                METADATA_PROPS: LENGTH, 20: LENGTH, 25: LENGTH, 26: LENGTH}
_FIXED = {FIXED64: 8, FIXED32: 4}
_MAX_VARINT_BYTES = 10


class NotOnnx(ValueError):
    """Bytes that are not a protobuf ModelProto; the message says where they stop being one."""


def metadata_props(path: Path) -> dict[str, str]:
    """The file's metadata_props as key -> value (a key given twice: the last), reading only them."""
    size = path.stat().st_size
    props: dict[str, str] = {}
    with path.open("rb") as file:
        while file.tell() < size:
            at = file.tell()
            field, wire = divmod(_varint(file), 8)
            if field == 0 or wire not in (VARINT, FIXED64, LENGTH, FIXED32) or MODEL_FIELDS.get(field, wire) != wire:
                raise NotOnnx(f"byte {at}: field {field} of wire type {wire} is not one a ModelProto holds")
            if wire == VARINT:
                _varint(file)
                continue
            length = _FIXED[wire] if wire in _FIXED else _varint(file)
            if file.tell() + length > size:
                raise NotOnnx(f"byte {at}: field {field} runs {file.tell() + length - size} bytes past the end")
            if field == METADATA_PROPS:
                key, value = _entry(file.read(length), at)
                props[key] = value
            else:
                file.seek(length, 1)
    return props


def _varint(file: BinaryIO) -> int:
    value = 0
    for shift in range(0, 7 * _MAX_VARINT_BYTES, 7):
        byte = file.read(1)
        if not byte:
            raise NotOnnx("the bytes end inside a number")
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
    raise NotOnnx(f"byte {file.tell()}: a number longer than {_MAX_VARINT_BYTES} bytes")


def _entry(data: bytes, at: int) -> tuple[str, str]:
    """A StringStringEntryProto's (key, value)."""
    strings = {1: "", 2: ""}
    entry = io.BytesIO(data)
    while entry.tell() < len(data):
        field, wire = divmod(_varint(entry), 8)
        if wire != LENGTH:
            raise NotOnnx(f"byte {at}: a metadata entry with a field of wire type {wire}")
        length = _varint(entry)
        text = entry.read(length)
        if len(text) < length:
            raise NotOnnx(f"byte {at}: a metadata entry runs past its own end")
        if field in strings:
            try:
                strings[field] = text.decode("utf-8")
            except UnicodeDecodeError as error:
                raise NotOnnx(f"byte {at}: a metadata entry that is not UTF-8 ({error})") from None
    return strings[1], strings[2]
