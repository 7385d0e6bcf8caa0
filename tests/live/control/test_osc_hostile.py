"""OSC from a hostile network: packets that used to stall or fool the listener, and a fuzzer.

Each case is a datagram a stranger's controller (or an attacker) can send to a
VJ's laptop. The strict parser must refuse it as one malformed packet, in
bounded time, and the listener must go on applying valid messages afterwards.
"""
from __future__ import annotations

import logging
import random
import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.osc_message_builder import build_msg

from live.control.osc import OscConfig, OscServer
from live.control.osc_packet import (
    MAX_DEPTH,
    MAX_MESSAGES,
    MalformedPacket,
    parse_packet,
)
from tests.conftest import wait_for


def osc_string(text: str) -> bytes:
    raw = text.encode("ascii") + b"\x00"
    return raw + b"\x00" * (-len(raw) % 4)


def bundle(*elements: bytes, sizes: list[int] | None = None) -> bytes:
    """A bundle of raw elements; `sizes` overrides what each element declares."""
    body = b"".join(struct.pack(">i", size) + element
                    for element, size in zip(elements, sizes or [len(e) for e in elements]))
    return b"#bundle\x00" + b"\x00" * 7 + b"\x01" + body


FADE = build_msg("/latentstage/fade", 2.0).dgram

HOSTILE = {
    # 20 bytes: a bundle whose only element declares a negative size sent python-osc into an endless loop
    "negative element size": b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", -8),
    "element size past the end": bundle(FADE, sizes=[len(FADE) + 64]),
    "zero-size elements": bundle(*[b""] * 4000),
    "element size not a multiple of 4": bundle(FADE + b"\x00\x00", sizes=[len(FADE) + 2]),
    "non-zero string padding": osc_string("/latentstage/fade")[:-2] + b"X\x00" + FADE[20:],
    "trailing bytes": FADE + b"\x00\x00\x00\x00",
    "argument cut short": FADE[:-4] + b"",
    "unknown type tag": osc_string("/latentstage/fade") + osc_string(",q") + b"\x00" * 4,
    "not ASCII": osc_string("/latentstage/fade") + osc_string(",s") + b"\xff\xfe\x00\x00",
    "blob past the end": osc_string("/x") + osc_string(",b") + struct.pack(">i", 1 << 30),
    "unclosed array": osc_string("/x") + osc_string(",[i") + b"\x00" * 4,
    "bundles nested too deep": bundle(bundle(bundle(bundle(bundle(FADE))))),
    "too many messages": bundle(*[FADE] * (MAX_MESSAGES + 1)),
    "neither message nor bundle": b"GET / HTTP/1.1\r\n\r\n\x00\x00",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_the_parser_refuses_each_hostile_packet_with_a_reason(name):
    with pytest.raises(MalformedPacket) as refused:
        parse_packet(HOSTILE[name])
    assert str(refused.value)


def test_the_parser_reads_what_liblo_and_python_osc_write():
    nested = bundle(bundle(FADE), build_msg("/latentstage/scene/next", []).dgram)
    assert [m.address for m in parse_packet(nested)] == ["/latentstage/fade", "/latentstage/scene/next"]
    assert len(bundle(*[FADE] * MAX_MESSAGES)) > 8192  # bigger than python-osc's server used to read
    assert len(parse_packet(bundle(*[FADE] * MAX_MESSAGES))) == MAX_MESSAGES
    arrays = osc_string("/a") + osc_string(",i[sf]T") + struct.pack(">i", 7) + osc_string("hi") + \
        struct.pack(">f", 0.5)
    (message,) = parse_packet(arrays)
    assert message.arguments == (7, ["hi", 0.5], True)
    assert parse_packet(bundle()) == []  # an empty bundle is allowed, and does nothing
    assert MAX_DEPTH == 4


@pytest.fixture
def server():
    from live.scenes.cppn import CppnScene
    from live.scenes.kinds import control_bus

    bus = control_bus([("drift", CppnScene, CppnScene.PARAMETERS)])
    with OscServer(OscConfig(port=0), bus) as running:
        yield running


def test_the_listener_counts_each_hostile_packet_once_and_applies_the_next_valid_one(server, caplog):
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with caplog.at_level(logging.WARNING, logger="live.control.osc"):
        for datagram in HOSTILE.values():
            sender.sendto(datagram, server.address)
        sender.sendto(build_msg("/latentstage/scene/next", float("nan")).dgram, server.address)  # not a press
        sender.sendto(FADE, server.address)
        assert wait_for(lambda: server.bus.get("fade") == 2.0, timeout=10.0), server.last_error
    sender.close()
    assert server.malformed == len(HOSTILE) and server.rejected == 1 and server.applied == 1
    assert server.bus.count("scene.next") == 0
    assert len(caplog.records) <= 2  # one line per cause (malformed, rejected), not one per packet or element


def test_a_flood_of_large_junk_does_not_crowd_out_a_valid_command(server):
    """A burst of near-maximum junk datagrams, then one real command: the receive buffer keeps it."""
    junk = b"/" + bytes(range(256)) * 250  # 64001 bytes that are no OSC packet
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(40):
        sender.sendto(junk[:60000], server.address)
    sender.sendto(FADE, server.address)
    assert wait_for(lambda: server.bus.get("fade") == 2.0, timeout=20.0), server.last_error
    sender.close()
    assert server.malformed >= 1


# --- the fuzzer ----------------------------------------------------------------------------------------

VALID = [FADE, build_msg("/latentstage/scene", "drift").dgram, build_msg("/1/fader1", 0.25).dgram,
         bundle(FADE, build_msg("/latentstage/drift/scale", 3.0).dgram)]


def mutate(rng: random.Random, packet: bytes) -> bytes:
    """A valid packet with bytes flipped, inserted, removed or a size field rewritten."""
    data = bytearray(packet)
    for _ in range(rng.randint(1, 4)):
        position = rng.randint(0, max(0, len(data) - 1))
        action = rng.choice(["flip", "insert", "delete", "size"])
        if action == "flip" and data:
            data[position] ^= rng.randint(1, 255)
        elif action == "insert":
            data[position:position] = rng.randbytes(rng.randint(1, 8))
        elif action == "delete":
            del data[position:position + rng.randint(1, 8)]
        else:
            data[position:position + 4] = struct.pack(">i", rng.randint(-(1 << 31), (1 << 31) - 1))
    return bytes(data)


mutated = st.builds(mutate, st.randoms(use_true_random=False), st.sampled_from(VALID))


@st.composite
def generated_bundles(draw, depth: int = 0) -> bytes:
    elements = draw(st.lists(st.one_of(st.sampled_from(VALID[:3]), st.binary(max_size=24)) if depth >= 2
                             else st.one_of(st.sampled_from(VALID[:3]), generated_bundles(depth + 1)),
                             max_size=5))
    sizes = [len(e) + draw(st.sampled_from([0, 0, 0, -4, 4, -len(e) - 4, 1 << 20])) for e in elements]
    return bundle(*elements, sizes=sizes)


@settings(max_examples=400, deadline=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutated, generated_bundles(), st.binary(max_size=96)))
def test_the_parser_only_ever_parses_or_refuses(datagram):
    try:
        messages = parse_packet(datagram)
    except MalformedPacket:
        return
    assert all(message.address.startswith("/") for message in messages)


def test_the_listener_survives_a_fuzzed_corpus_and_still_applies_a_valid_message(server):
    rng = random.Random(11)
    corpus = [mutate(rng, rng.choice(VALID)) for _ in range(300)]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for datagram in corpus:
        sender.sendto(datagram, server.address)
    sender.sendto(build_msg("/latentstage/drift/scale", 42.0).dgram, server.address)
    assert wait_for(lambda: server.bus.get("drift.scale") == 42.0, timeout=30.0), server.last_error
    assert wait_for(lambda: server.received == len(corpus) + 1, timeout=30.0)
    sender.close()
