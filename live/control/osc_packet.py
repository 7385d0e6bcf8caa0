"""A strict, bounded OSC 1.0 packet parser: every size is checked against the datagram it came in.

A show listens on a network that strangers may share, so a datagram is parsed
as liblo would: strings are NUL-terminated ASCII padded with zero bytes to a
multiple of four, a message's type tags say exactly how many bytes follow and
nothing may be left over, a bundle's elements each declare a positive size
that is a multiple of four and ends inside the bundle, bundles nest at most
MAX_DEPTH deep and a datagram holds at most MAX_MESSAGES messages. Parsing
walks forward only, so it ends in time proportional to the datagram's length,
whatever the bytes say. Anything else raises `MalformedPacket` with a one-line
reason. Time tags are read but not acted on: a bundle applies when it arrives.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

MAX_DATAGRAM = 65507  # bytes: the most one UDP datagram over IPv4 carries
MAX_DEPTH = 4  # bundles inside bundles
MAX_MESSAGES = 512  # in one datagram, all bundles together
MAX_ARRAY_DEPTH = 4  # [ ] arrays inside arrays
BUNDLE_TAG = b"#bundle\x00"
FIXED = {"i": (4, ">i"), "f": (4, ">f"), "h": (8, ">q"), "d": (8, ">d"), "t": (8, ">Q"), "r": (4, ">I")}
NO_DATA = {"T": True, "F": False, "N": None, "I": float("inf")}


class MalformedPacket(ValueError):
    """A datagram that is not a well-formed OSC packet; the message says why."""


@dataclass(frozen=True)
class Message:
    address: str
    arguments: tuple[Any, ...]


def parse_packet(data: bytes) -> list[Message]:
    """Every message in the datagram, in order, or MalformedPacket: all of it or none of it."""
    if len(data) > MAX_DATAGRAM:
        raise MalformedPacket(f"{len(data)} bytes is more than a UDP datagram carries")
    if len(data) % 4:
        raise MalformedPacket(f"{len(data)} bytes is not a multiple of 4")
    messages: list[Message] = []
    _element(data, 0, len(data), 0, messages)
    return messages


def _element(data: bytes, start: int, end: int, depth: int, messages: list[Message]) -> None:
    if data.startswith(BUNDLE_TAG, start, end):
        _bundle(data, start, end, depth, messages)
    elif data.startswith(b"/", start, end):
        if len(messages) >= MAX_MESSAGES:
            raise MalformedPacket(f"more than {MAX_MESSAGES} messages in one datagram")
        messages.append(_message(data, start, end))
    else:
        raise MalformedPacket(f"at byte {start}: neither a message (starts with /) nor a bundle (#bundle)")


def _bundle(data: bytes, start: int, end: int, depth: int, messages: list[Message]) -> None:
    if depth >= MAX_DEPTH:
        raise MalformedPacket(f"bundles nested more than {MAX_DEPTH} deep")
    position = start + len(BUNDLE_TAG) + 8  # the tag and its 8-byte time tag
    if position > end:
        raise MalformedPacket("a bundle cut short before its time tag ends")
    while position < end:
        if position + 4 > end:
            raise MalformedPacket(f"at byte {position}: a bundle element's size is cut short")
        size = int.from_bytes(data[position:position + 4], "big", signed=True)
        position += 4
        if size <= 0 or size % 4 or position + size > end:
            raise MalformedPacket(f"at byte {position - 4}: a bundle element declares {size} bytes; "
                                  f"{end - position} remain and sizes are positive multiples of 4")
        _element(data, position, position + size, depth + 1, messages)
        position += size


def _message(data: bytes, start: int, end: int) -> Message:
    address, position = _string(data, start, end)
    if position == end:
        return Message(address, ())  # no type tag string: an old-style message without arguments
    tags, position = _string(data, position, end)
    if not tags.startswith(","):
        raise MalformedPacket(f"{address}: the type tags {tags[:20]!r} do not start with ','")
    arguments, position = _arguments(address, tags[1:], data, position, end)
    if position != end:
        raise MalformedPacket(f"{address}: {end - position} bytes left after the arguments its tags declare")
    return Message(address, arguments)


def _arguments(address: str, tags: str, data: bytes, position: int, end: int) -> tuple[tuple, int]:
    stack: list[list] = [[]]  # the arguments, and one list per open [ array
    for tag in tags:
        if tag in FIXED:
            size, layout = FIXED[tag]
            if position + size > end:
                raise MalformedPacket(f"{address}: a '{tag}' argument is cut short")
            stack[-1].append(struct.unpack_from(layout, data, position)[0])
            position += size
        elif tag in ("s", "S"):
            text, position = _string(data, position, end)
            stack[-1].append(text)
        elif tag == "b":
            blob, position = _blob(address, data, position, end)
            stack[-1].append(blob)
        elif tag in ("c", "m"):
            if position + 4 > end:
                raise MalformedPacket(f"{address}: a '{tag}' argument is cut short")
            raw = data[position:position + 4]
            stack[-1].append(chr(int.from_bytes(raw, "big") & 0x7F) if tag == "c" else raw)
            position += 4
        elif tag in NO_DATA:
            stack[-1].append(NO_DATA[tag])
        elif tag == "[":
            if len(stack) > MAX_ARRAY_DEPTH:
                raise MalformedPacket(f"{address}: arrays nested more than {MAX_ARRAY_DEPTH} deep")
            stack.append([])
        elif tag == "]":
            if len(stack) == 1:
                raise MalformedPacket(f"{address}: ']' closes no array")
            array = stack.pop()
            stack[-1].append(array)
        else:
            raise MalformedPacket(f"{address}: unknown type tag {tag!r}")
    if len(stack) > 1:
        raise MalformedPacket(f"{address}: an array is not closed")
    return tuple(stack[0]), position


def _string(data: bytes, start: int, end: int) -> tuple[str, int]:
    """An OSC string at `start`: its text and where the next field begins."""
    terminator = data.find(b"\x00", start, end)
    if terminator < 0:
        raise MalformedPacket(f"at byte {start}: a string without its terminating NUL")
    following = (terminator + 4) & ~3  # the NUL and padding up to a multiple of 4
    if following > end:
        raise MalformedPacket(f"at byte {start}: a string's padding runs past the end")
    if data[terminator:following].strip(b"\x00"):
        raise MalformedPacket(f"at byte {terminator}: a string's padding is not zero bytes")
    try:
        return data[start:terminator].decode("ascii"), following
    except UnicodeDecodeError:
        raise MalformedPacket(f"at byte {start}: a string that is not ASCII") from None


def _blob(address: str, data: bytes, position: int, end: int) -> tuple[bytes, int]:
    if position + 4 > end:
        raise MalformedPacket(f"{address}: a blob's size is cut short")
    size = int.from_bytes(data[position:position + 4], "big", signed=True)
    start = position + 4
    following = start + ((size + 3) & ~3)
    if size < 0 or following > end:
        raise MalformedPacket(f"{address}: a blob declares {size} bytes; {end - start} remain")
    if data[start + size:following].strip(b"\x00"):
        raise MalformedPacket(f"{address}: a blob's padding is not zero bytes")
    return data[start:start + size], following
