"""The OSC server over real UDP on loopback, driven by python-osc and by liblo's `oscsend` (README
"Control: OSC, audio, keys": addresses, query, list, follow, allow-list, feedback at most ten updates a
second per address with the newest last, bad packets counted and ignored).

No test waits for silence: that something did not arrive is shown by a marker sent after it
arriving first. Feedback's rate limit runs on a clock the tests move (the module's `time`)."""
from __future__ import annotations

import logging
import random
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from pydantic import ValidationError
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import build_msg
from pythonosc.udp_client import SimpleUDPClient

import live.control.osc as osc_module
from live.control.mappings import Mapper, MappingConfig
from live.control.parameters import ControlError
from live.control.osc import OscConfig, OscServer, address_table, apply_message, split_host_port
from tests.conftest import wait_for

WAIT = 30.0  # seconds to wait for something that must come; only a failing test waits that long


class FakeClock:
    """Seconds that stand still until the test moves them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def osc_clock(monkeypatch) -> FakeClock:
    """The OSC module's clock (feedback rate limit, log rate limit), moved by the test."""
    clock = FakeClock()
    monkeypatch.setattr(osc_module, "time", SimpleNamespace(monotonic=clock))
    return clock


@pytest.fixture
def server(bus) -> Iterator[OscServer]:
    with OscServer(OscConfig(port=0), bus) as running:
        yield running


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A plain UDP socket on loopback: a controller waiting for replies or feedback."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(WAIT)
    yield sock
    sock.close()


def received(sock: socket.socket, count: int) -> list[OscMessage]:
    return [OscMessage(sock.recv(65536)) for _ in range(count)]


def first_reply_is_the_marker(sock: socket.socket, server_address: tuple[str, int]) -> bool:
    """Ask for one value (the marker) and check that its reply is the next thing to arrive: then
    nothing else was sent before it. Replies go out in the order requests came in."""
    sock.sendto(build_msg("/latentstage/query", "/latentstage/mirror").dgram, server_address)
    (message,) = received(sock, 1)
    return message.address == "/latentstage/mirror"


def oscsend(port: int, address: str, *typed_arguments: str) -> None:
    if shutil.which("oscsend") is None:
        pytest.fail("liblo's oscsend is not installed: run `bash .ci/setup` (apt package liblo-tools)")
    subprocess.run(["oscsend", "localhost", str(port), address, *typed_arguments], check=True, timeout=10,
                   capture_output=True)


def sender_from(ip: str) -> socket.socket:
    """A socket that sends from a chosen loopback address (Linux answers on all of 127/8)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ip, 0))
    return sock


def test_parameters_change_from_python_osc(bus, server):
    client = SimpleUDPClient(*server.address)
    client.send_message("/latentstage/cppn/scale", 12.0)
    client.send_message("/latentstage/scene", "snow")
    client.send_message("/latentstage/hud", True)
    client.send_message("/latentstage/mirror", 1.0)  # a TouchOSC toggle sends floats
    client.send_message("/latentstage/scene/next", [])
    assert wait_for(lambda: server.applied == 5, timeout=WAIT)
    assert bus.get("mirror.scale") == 12.0 and bus.get("scene") == "snow"  # cppn.scale: the scene then on screen
    assert bus.get("hud") is True and bus.get("mirror") is True and bus.count("scene.next") == 1
    assert (server.received, server.rejected, server.malformed, server.refused) == (5, 0, 0, 0)


def test_parameters_change_from_liblo_oscsend(bus, server):
    port = server.address[1]
    oscsend(port, "/latentstage/cppn/scale", "f", "12.5")
    oscsend(port, "/latentstage/scene", "i", "1")  # an index selects a scene
    oscsend(port, "/latentstage/fade", "d", "2.5")
    oscsend(port, "/latentstage/hud", "T")
    oscsend(port, "/latentstage/scene/previous")
    oscsend(port, "/1/fader1", "f", "0.75")
    assert wait_for(lambda: server.applied == 6, timeout=WAIT)
    assert bus.get("mirror.scale") == 12.5 and bus.get("scene") == "bloom" and bus.get("fade") == 2.5
    assert bus.get("hud") is True and bus.count("scene.previous") == 1
    assert bus.input("osc:/1/fader1") == 0.75


def test_controller_addresses_feed_mappings(bus, server):
    mapper = Mapper([MappingConfig.model_validate({"osc": "/1/fader1", "to": "cppn.scale", "out": [2, 22]})], bus)
    SimpleUDPClient(*server.address).send_message("/1/fader1", 0.5)
    assert wait_for(lambda: bus.input("osc:/1/fader1") == 0.5, timeout=WAIT)
    mapper.update(0.0)
    assert bus.get("cppn.scale") == pytest.approx(12.0)


def test_a_push_button_release_does_not_press_again(bus, server):
    client = SimpleUDPClient(*server.address)
    for state in (1.0, 0.0, 1.0, 0.0):
        client.send_message("/latentstage/scene/next", state)
    assert wait_for(lambda: server.applied == 4, timeout=WAIT)
    assert bus.count("scene.next") == 2


def test_bundles_apply_every_message_at_once(bus, server):
    bundle = OscBundleBuilder(IMMEDIATELY)
    bundle.add_content(build_msg("/latentstage/fade", 4.0))
    bundle.add_content(build_msg("/latentstage/cppn/speed", -2.0))
    late = OscBundleBuilder(time.time() + 3600)  # a time tag an hour ahead must not put the listener to sleep
    late.add_content(build_msg("/latentstage/snow/style/strength", 0.5))
    client = SimpleUDPClient(*server.address)
    client.send(bundle.build())
    client.send(late.build())
    assert wait_for(lambda: server.applied == 3, timeout=WAIT)
    assert bus.get("fade") == 4.0 and bus.get("cppn.speed") == -2.0 and bus.get("snow.style.strength") == 0.5


def garbage() -> tuple[list[bytes], int, int]:
    """(datagrams, how many are malformed, how many carry a message the bus must reject)."""
    rng = random.Random(7)
    scale = build_msg("/latentstage/cppn/scale", 20.0).dgram
    broken_bundle = OscBundleBuilder(IMMEDIATELY)
    broken_bundle.add_content(build_msg("/latentstage/fade", 9.0))
    broken_dgram = broken_bundle.build().dgram + struct.pack(">i", 64) + b"/latentstage/hud\x00"  # says 64, has 20
    malformed = [
        *(b"\xff" + rng.randbytes(rng.randrange(0, 200)) for _ in range(20)),  # random bytes
        b"",
        scale[:10],  # cut inside the address
        scale[:26],  # cut inside the type tags
        scale[:29], scale[:28],  # cut inside the float: python-osc would zero-pad it to 0.0 (or 8.0)
        b"/latentstage/cppn/scale\x00,x\x00\x00" + struct.pack(">f", 1.0),  # a type tag nobody knows
        b"/latentstage/cppn/scale\x00,fq\x00" + struct.pack(">f", 1.0),  # a known tag then an unknown one
        b"/\xff\xfe\x00,f\x00\x00" + struct.pack(">f", 1.0),  # an address that is not text
        broken_dgram,  # a bundle whose second element is cut short: none of it applies
        b"#bundle\x00\x00\x00",  # a bundle without its time tag
    ]
    rejected = [
        build_msg("/latentstage/cppn/scale", "twelve").dgram,  # a string for a float
        build_msg("/latentstage/cppn/scale", 100.0).dgram,  # above the maximum
        build_msg("/latentstage/cppn/scale", -1).dgram,  # below the minimum
        build_msg("/latentstage/cppn/scale", True).dgram,  # on/off for a number
        build_msg("/latentstage/cppn/scale").dgram,  # no value
        build_msg("/latentstage/cppn/scal", 1.0).dgram,  # no such parameter
        build_msg("/latentstage", 1.0).dgram,  # the prefix alone
        build_msg("/latentstage/scene", "disco").dgram,  # not a scene
        build_msg("/latentstage/scene", 7).dgram,  # no scene at that index
        build_msg("/latentstage/hud", 0.5).dgram,  # neither on nor off
        build_msg("/latentstage/query", "/latentstage/nothing").dgram,  # a query for nothing
        build_msg("/1/label1", "hello").dgram,  # a controller address without a number
    ]
    return malformed + rejected, len(malformed), len(rejected)


def test_a_burst_of_garbage_is_counted_and_the_server_keeps_answering(bus, osc_clock, server, caplog):
    datagrams, malformed, rejected = garbage()
    sock = sender_from("127.0.0.1")
    with caplog.at_level(logging.WARNING):
        for datagram in datagrams:
            sock.sendto(datagram, server.address)
        assert wait_for(lambda: server.received == len(datagrams), timeout=WAIT)
        sock.sendto(build_msg("/latentstage/cppn/scale", 33.0).dgram, server.address)
        assert wait_for(lambda: bus.get("cppn.scale") == 33.0, timeout=WAIT)
    sock.close()
    assert server.received == len(datagrams) + 1
    assert server.malformed == malformed
    assert server.rejected == rejected
    assert server.applied == 1 and server.refused == 0
    assert bus.version("cppn.scale") == 1  # nothing from the garbage got through
    assert bus.get("fade") == 1.0 and bus.get("hud") is False and bus.get("scene") == "mirror"
    assert "hello" not in str(bus.values()) and server.last_error
    # counted every time, logged once per cause within the interval (the clock stands still), and
    # python-osc's own warnings held back
    logged = [r.getMessage() for r in caplog.records if r.name == "live.control.osc"]
    assert len(logged) == 2 and logged[0].startswith("malformed packet") and logged[1].startswith("rejected"), logged
    assert not [r for r in caplog.records if "Unhandled parameter type" in r.getMessage()]


def test_senders_outside_the_allow_list_are_refused(bus):
    with OscServer(OscConfig(port=0, allow=["127.0.0.2"]), bus) as server:
        stranger, friend = sender_from("127.0.0.1"), sender_from("127.0.0.2")
        stranger.sendto(build_msg("/latentstage/fade", 7.0).dgram, server.address)
        stranger.sendto(b"garbage", server.address)  # refused before anyone reads it
        friend.sendto(build_msg("/latentstage/cppn/scale", 3.0).dgram, server.address)
        assert wait_for(lambda: server.received == 3, timeout=WAIT)
        assert wait_for(lambda: bus.get("cppn.scale") == 3.0, timeout=WAIT)
        assert server.refused == 2 and server.malformed == 0 and server.applied == 1
        assert bus.get("fade") == 1.0
        stranger.close()
        friend.close()


def test_query_replies_with_every_value_or_one(bus, server, listener):
    bus.set("cppn.scale", 5.0)
    bus.set("hud", True)
    listener.sendto(build_msg("/latentstage/query").dgram, server.address)
    answered = [p.name for p in bus.parameters() if p.name not in ("canny.sigma", "style.strength",
                                                                    "style.preserve_colour")]  # not on screen
    replies = {message.address: message.params for message in received(listener, len(answered))}
    assert replies["/latentstage/cppn/scale"] == [5.0] and replies["/latentstage/mirror/scale"] == [5.0]
    assert replies["/latentstage/scene"] == ["mirror"]
    assert replies["/latentstage/hud"] == [1.0]
    assert replies["/latentstage/scene/next"] == [0]
    assert set(replies) == {f"/latentstage/{name.replace('.', '/')}" for name in answered}
    for name in ("/latentstage/fade", "cppn.speed"):
        listener.sendto(build_msg("/latentstage/query", name).dgram, server.address)
    first, second = received(listener, 2)
    assert (first.address, first.params) == ("/latentstage/fade", [1.0])
    assert (second.address, second.params) == ("/latentstage/cppn/speed", [1.0])
    assert first_reply_is_the_marker(listener, server.address)  # one reply per query, no more


def test_a_query_for_a_name_that_does_not_exist_answers_with_an_error(bus, server, listener):
    listener.sendto(build_msg("/latentstage/query", "cppn.nothing").dgram, server.address)
    listener.sendto(build_msg("/latentstage/query", 3).dgram, server.address)
    unknown, not_a_name = received(listener, 2)
    assert unknown.address == "/latentstage/error" and unknown.params[0] == "/latentstage/query"
    assert "cppn.nothing" in unknown.params[1] or "cppn/nothing" in unknown.params[1]
    assert not_a_name.address == "/latentstage/error" and "address or name" in not_a_name.params[1]
    assert server.rejected == 2
    assert first_reply_is_the_marker(listener, server.address)  # one error per query, no more


def test_a_sender_cannot_fill_the_log_with_its_own_text(bus, server, caplog):
    sock = sender_from("127.0.0.1")
    with caplog.at_level(logging.WARNING):
        sock.sendto(build_msg("/latentstage/" + "x" * 60_000, 1.0).dgram, server.address)
        sock.sendto(build_msg("/latentstage/query", "y" * 60_000).dgram, server.address)
        assert wait_for(lambda: server.rejected == 2, timeout=WAIT)
    sock.close()
    logged = [r.getMessage() for r in caplog.records if r.name == "live.control.osc"]
    assert logged and all(len(line) < 600 for line in logged), [len(line) for line in logged]
    assert "characters)" in logged[0]  # says how much was left out
    assert len(server.last_error) < 600


def test_list_replies_with_one_message_per_parameter(bus, server, listener):
    listener.sendto(build_msg("/latentstage/list").dgram, server.address)
    replies = received(listener, len(bus.parameters()))
    assert {message.address for message in replies} == {"/latentstage/list"}
    rows = {message.params[0]: message.params[1:] for message in replies}
    assert rows["/latentstage/cppn/scale"][:3] == ["float", pytest.approx(0.1), 64.0]
    assert "zoom" in rows["/latentstage/cppn/scale"][3]
    assert rows["/latentstage/scene"][:3] == ["str", None, None] and "snow" in rows["/latentstage/scene"][3]
    assert rows["/latentstage/hud"][:3] == ["bool", 0.0, 1.0]
    assert rows["/latentstage/scene/next"][0] == "trigger"
    assert first_reply_is_the_marker(listener, server.address)  # one row per parameter, no more


def test_feedback_echoes_changes_but_not_repeats(bus, osc_clock, listener):
    feedback = f"127.0.0.1:{listener.getsockname()[1]}"
    with OscServer(OscConfig(port=0, feedback=feedback), bus):
        bus.set("cppn.scale", 10.0)
        echoed = received(listener, 2)  # the scene's own address, and the alias that points at it now
        assert sorted((m.address, m.params[0]) for m in echoed) == [("/latentstage/cppn/scale", 10.0),
                                                                    ("/latentstage/mirror/scale", 10.0)]
        osc_clock.now += 1.0  # past the rate limit: a repeat, if it were sent, would go at once
        bus.set("cppn.scale", 10.0)  # no change, no message
        bus.set("mirror", True, source="director")  # the markers: these two must be the next to arrive
        bus.set("scene.next")
        echoed = received(listener, 2)
        assert [(m.address, m.params) for m in echoed] == [("/latentstage/mirror", [1.0]),
                                                           ("/latentstage/scene/next", [1])]


def test_feedback_is_rate_limited_and_ends_on_the_newest_value(bus, osc_clock, listener):
    """A fader swept fast (or a mapping moving a base) must not flood the controller, and the knob
    must end where the value ended. The sweep takes no time on the clock the server reads."""
    feedback = f"127.0.0.1:{listener.getsockname()[1]}"
    with OscServer(OscConfig(port=0, feedback=feedback), bus) as server:
        for step in range(1, 51):
            bus.set("fade", step * 0.5)
        osc_clock.now += 0.05  # within the interval: a flush (every frame calls it) sends nothing yet
        server.flush_feedback()
        bus.set("hud", True, source="director")  # a marker on another address goes out at once
        first, marker = received(listener, 2)
        assert (first.address, first.params) == ("/latentstage/fade", [0.5])
        assert (marker.address, marker.params) == ("/latentstage/hud", [1.0])  # the other 49 waited
        osc_clock.now += 0.06  # the interval is up: only the newest value goes
        server.flush_feedback()
        server.flush_feedback()  # and only once
        bus.set("mirror", True, source="director")  # the next marker
        last, marker = received(listener, 2)
        assert (last.address, last.params) == ("/latentstage/fade", [25.0])
        assert (marker.address, marker.params) == ("/latentstage/mirror", [1.0])


def test_follow_returns_a_parameter_to_the_show(bus, server):
    client = SimpleUDPClient(*server.address)
    client.send_message("/latentstage/bloom/scale", 20.0)
    assert wait_for(lambda: bus.held("bloom.scale"), timeout=WAIT)
    client.send_message("/latentstage/follow", "/latentstage/bloom/scale")
    assert wait_for(lambda: not bus.held("bloom.scale"), timeout=WAIT)
    assert bus.get("bloom.scale") == 8.0 and server.rejected == 0
    client.send_message("/latentstage/follow", 3)
    assert wait_for(lambda: server.rejected == 1, timeout=WAIT)


def test_feedback_skips_the_controller_that_made_the_change(bus, osc_clock, listener):
    feedback = f"127.0.0.1:{listener.getsockname()[1]}"
    with OscServer(OscConfig(port=0, feedback=feedback), bus) as server:
        same_host, other_host = sender_from("127.0.0.1"), sender_from("127.0.0.3")
        same_host.sendto(build_msg("/latentstage/fade", 6.0).dgram, server.address)
        assert wait_for(lambda: bus.get("fade") == 6.0, timeout=WAIT)
        # The controller on the feedback host moved it itself: no echo. Another controller's change
        # is echoed, and must be the first to arrive (with the clock standing still, an echo of 6.0
        # would both arrive first and hold 8.0 back behind the rate limit).
        other_host.sendto(build_msg("/latentstage/fade", 8.0).dgram, server.address)
        (message,) = received(listener, 1)
        assert (message.address, message.params) == ("/latentstage/fade", [8.0])
        same_host.close()
        other_host.close()


def test_a_dead_feedback_address_does_not_stop_the_control_path(bus):
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()  # nobody listens there now: sends may come back as "connection refused"
    with OscServer(OscConfig(port=0, feedback=f"127.0.0.1:{closed_port}"), bus) as server:
        for value in (2.0, 3.0, 4.0):
            assert bus.set("fade", value) == value
        SimpleUDPClient(*server.address).send_message("/latentstage/cppn/scale", 9.0)
        assert wait_for(lambda: bus.get("cppn.scale") == 9.0, timeout=WAIT)


def test_a_feedback_host_that_does_not_resolve_turns_off_feedback_only(bus, caplog):
    # a show file is refused for it (check, run, rehearse); a name that stops resolving after that
    # (the venue's DNS) must still leave the controllers working, and say in one line why labels stay put
    with OscServer(OscConfig(port=0, feedback="lighting-desk.invalid:9001"), bus) as server:
        SimpleUDPClient(*server.address).send_message("/latentstage/cppn/scale", 9.0)
        assert wait_for(lambda: bus.get("cppn.scale") == 9.0, timeout=WAIT)
        assert "'lighting-desk.invalid' does not resolve" in server.feedback_problem
        assert server.status().endswith("; feedback off: its host does not resolve")  # on the HUD
    said = [record.getMessage() for record in caplog.records if "feedback" in record.getMessage()]
    assert len(said) == 1 and "OSC input still listens" in said[0], said


def test_start_and_stop(bus):
    server = OscServer(OscConfig(port=0), bus)
    with pytest.raises(RuntimeError, match="not started"):
        server.address
    server.start()
    host, port = server.address
    assert host == "127.0.0.1" and port > 0
    with pytest.raises(RuntimeError, match="already"):
        server.start()
    server.stop()
    server.stop()  # twice is harmless
    again = OscServer(OscConfig(port=port), bus)  # the port is free again
    again.start()
    assert again.address == ("127.0.0.1", port)
    with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
        OscServer(OscConfig(port=port), bus).start()  # taken
    again.stop()


def test_config_validation():
    assert OscConfig().host == "127.0.0.1" and OscConfig().port == 9000 and OscConfig().prefix == "/latentstage"
    # allow-list entries are normalised to the form the server compares senders with
    assert OscConfig(allow=["0:0:0:0:0:0:0:1", "FE80::A", "127.0.0.1"]).allow == ["::1", "fe80::a", "127.0.0.1"]
    assert split_host_port("192.168.1.20:9001") == ("192.168.1.20", 9001)
    for bad in ({"port": 70000}, {"allow": ["not-an-ip"]}, {"allow": ["127.000.0.1"]}, {"feedback": "9001"}, {"feedback": "host:x"},
                {"prefix": "latentstage"}, {"prefix": "/latentstage/"}, {"hots": "0.0.0.0"}):
        with pytest.raises(ValidationError):
            OscConfig(**bad)


def test_address_table_lists_everything(bus):
    table = address_table(bus, "/vj").splitlines()
    assert table[0].split() == ["address", "type", "range", "default", "description"]
    assert any(line.startswith("/vj/cppn/scale ") and "0.1 .. 64" in line and "(scene's)" in line for line in table)
    assert any(line.startswith("/vj/bloom/scale ") and "0.1 .. 64" in line and "8.0" in line for line in table)
    assert any(line.startswith("/vj/scene ") and "mirror | bloom | snow" in line for line in table)
    assert any(line.startswith("/vj/query") for line in table) and any(line.startswith("/vj/list") for line in table)
    column = table[0].index("type")
    assert all(line[column - 2:column] == "  " for line in table)  # aligned
    assert len(table) == len(bus.parameters()) + 5  # the header, query, follow, list, other addresses
    assert any(line.startswith("/vj/cppn/scale ") and "on screen: CPPN" in line for line in table)
    assert any(line.startswith("/vj/bloom/scale ") and "on screen" not in line for line in table)


def test_a_custom_prefix_moves_the_address_space(bus):
    with OscServer(OscConfig(port=0, prefix="/vj"), bus) as server:
        client = SimpleUDPClient(*server.address)
        client.send_message("/vj/cppn/scale", 4.0)
        client.send_message("/latentstage/cppn/scale", 5.0)  # now just some controller's address
        assert wait_for(lambda: server.applied == 2, timeout=WAIT)
        assert bus.get("cppn.scale") == 4.0 and bus.input("osc:/latentstage/cppn/scale") == 5.0


def test_apply_message_is_what_the_server_does_without_a_socket(bus):
    """Rehearsal scripts replay OSC through the same function, so they give the same values."""
    heard = []
    bus.subscribe(lambda name, value, source: heard.append((name, value, source)))
    apply_message(bus, "/latentstage", "/latentstage/cppn/scale", [6.0], "script")
    apply_message(bus, "/latentstage", "/latentstage/scene/next", [], "script")
    apply_message(bus, "/latentstage", "/latentstage/scene/next", [0.0], "script")  # a release
    apply_message(bus, "/latentstage", "/2/toggle1", [True], "script")
    assert heard == [("mirror.scale", 6.0, "script"), ("scene.next", 1, "script")]
    assert bus.input("osc:/2/toggle1") == 1.0
    for address, arguments in [("/latentstage/fade", []), ("/latentstage/nope", [1.0]), ("/1/label", ["x"])]:
        with pytest.raises(ControlError):
            apply_message(bus, "/latentstage", address, arguments, "script")
