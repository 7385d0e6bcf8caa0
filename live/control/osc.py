"""The OSC server: UDP messages from controllers into the control bus, and values echoed back.

Every bus parameter answers at `<prefix>/<name with dots as slashes>`: a
scene's own (`/latentstage/drift/scale 12.0`) or the alias for whatever scene
of that kind is on screen (`/latentstage/cppn/scale 12.0`). Any other address
is a controller's own (`/1/fader1 0.4`) and its first number is stored as the
raw input "osc:/1/fader1" for mappings to read. `<prefix>/query` and
`<prefix>/list` answer the sender (a query of a name that does not exist with
`<prefix>/error ADDRESS WHY`, so a controller can tell it from a lost packet);
`<prefix>/follow <name>` lets a parameter follow the show again. The server
runs python-osc's blocking UDP server on its own daemon thread, so messages
are handled one at a time in arrival order, and handlers only write plain
values to the bus. Nothing in a packet can stop the listener: unparsable
datagrams, unknown addresses, wrong types and out-of-range values are
counted, remembered in `last_error` and logged at most once every few
seconds, with the sender's text clipped to a few hundred characters.
Addresses match exactly (OSC wildcards are not expanded) and bundle time
tags are ignored: a bundle applies when it arrives.
"""
from __future__ import annotations

import ipaddress
import logging
import math
import re
import socket
import threading
import time
from typing import Any

from pydantic import Field, field_validator
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

from live.core.text import OUTSIDE_TEXT_LIMIT, clipped
from live.control.bus import ControlBus
from live.control.controller import Controller
from live.control.osc_packet import MalformedPacket, Message, parse_packet
from live.control.parameters import ControlError, Parameter, Value
from live.core.config import Settings, matching
from live.core.rate_limited_log import RateLimitedLog

log = logging.getLogger(__name__)

PREFIX_PATTERN = re.compile(r"^(/[a-zA-Z0-9_.-]+)+$")
RECEIVE_BUFFER = 4 << 20  # bytes the kernel may queue: a burst of junk must not crowd out the next valid message
LOG_INTERVAL = 5.0  # seconds between warnings about bad packets; the counters still count every one
FEEDBACK_INTERVAL = 0.1  # seconds: at most 10 updates a second per address; the newest value always goes out


def split_host_port(text: str) -> tuple[str, int]:
    """"host:port" -> (host, port); raises ValueError on anything else."""
    host, separator, port = text.rpartition(":")
    if not separator or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{text!r} is not host:port (like 192.168.1.20:9001)")
    return host.strip("[]"), int(port)


def resolve_feedback(feedback: str) -> tuple[str, int]:
    """"host:port" -> (IP address, port) that feedback is sent to; ValueError when the host does not
    resolve (a typo, or a name only the venue's network knows)."""
    host, port = split_host_port(feedback)
    try:
        return socket.gethostbyname(host), port
    except OSError as error:  # socket.gaierror: "[Errno -2] Name or service not known" says too little
        raise ValueError(f"feedback host {host!r} does not resolve to an address ({error.strerror or error}); "
                         "give an IP address, or a name this machine can look up") from None


class OscConfig(Settings):
    host: str = "127.0.0.1"  # interface to listen on: loopback unless the show opens it (0.0.0.0: all)
    port: int = Field(9000, ge=0, le=65535)  # UDP; 0 binds any free port (tests)
    allow: list[str] | None = None  # sender IPs accepted; None: anyone who can reach `host`
    feedback: str | None = None  # "host:port" that hears every changed value, so controller labels follow
    prefix: str = "/latentstage"  # parameters live under it: <prefix>/cppn/scale

    @field_validator("allow")
    @classmethod
    def _addresses(cls, allow: list[str] | None) -> list[str] | None:
        return None if allow is None else [str(ipaddress.ip_address(entry)) for entry in allow]

    @field_validator("feedback")
    @classmethod
    def _host_port(cls, feedback: str | None) -> str | None:
        if feedback is not None:
            split_host_port(feedback)
        return feedback

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        return matching(PREFIX_PATTERN, prefix, "an OSC address prefix like /latentstage (no trailing slash)")


def parameter_address(prefix: str, name: str) -> str:
    return f"{prefix}/{name.replace('.', '/')}"


def apply_message(bus: ControlBus, prefix: str, address: str, arguments: list[Any], source: str) -> None:
    """One OSC message into the bus, as the live server does it (and a rehearsal's scripted OSC must).

    `<prefix>/<name>` sets the parameter from the first argument; a trigger counts a press for no
    argument or a non-zero one, and ignores 0/false (a push button's release); a trigger with a name
    of its own (`capture` and `capture.name`) takes a string as that name and a press. `<prefix>/follow
    <name>` returns a parameter to the show's own value. Any other address is a controller's: its
    first number goes to the input "osc:<address>". Raises ControlError.
    """
    if address == f"{prefix}/follow":
        if not arguments or not isinstance(arguments[0], str):
            raise ControlError("follow takes a parameter address or name")
        bus.release(_parameter_name(prefix, arguments[0]), source=source)
        return
    if address == prefix or address.startswith(f"{prefix}/"):
        name = address[len(prefix) + 1:].replace("/", ".")
        if bus.declaration(name).kind == "trigger":
            if arguments and isinstance(arguments[0], str):  # `/latentstage/capture storm`: named, then pressed
                if not any(parameter.name == f"{name}.name" for parameter in bus.parameters()):
                    raise ControlError(f"{name} is pressed by no value or a number, not a string")
                bus.set(f"{name}.name", arguments[0], source=source)
                bus.set(name, source=source)
                return
            if arguments and isinstance(arguments[0], float) and not math.isfinite(arguments[0]):
                raise ControlError(f"{name} is pressed by no value or a number, not {arguments[0]}")
            if not arguments or (isinstance(arguments[0], (int, float)) and arguments[0] != 0):
                bus.set(name, source=source)
            return
        if not arguments:
            raise ControlError(f"{name} needs a value")
        bus.set(name, arguments[0], source=source)
        return
    numbers = [argument for argument in arguments if isinstance(argument, (int, float))]
    if not numbers:
        raise ControlError("a controller address needs a number to store")
    bus.set_input(f"osc:{address}", float(numbers[0]))  # true/false count as 1/0


def _parameter_name(prefix: str, text: str) -> str:
    """A parameter named by its address (/latentstage/drift/scale) or its dotted name (drift.scale)."""
    return text.removeprefix(f"{prefix}/").strip("/").replace("/", ".")


def osc_value(value: Value) -> float | int | str:
    """A bus value as an OSC argument: on/off goes out as 1.0/0.0, which controllers' toggles understand."""
    return float(value) if isinstance(value, bool) else value


class OscServer(Controller):
    """Listens for OSC on UDP and writes to the bus; counters say what came in and what became of it.

    received: datagrams that arrived. refused: from a sender not in `allow`.
    malformed: datagrams that do not parse (a bundle with one broken element
    counts once, and none of it applies). applied and rejected count messages
    (a bundle holds several): rejected ones named an unknown parameter or
    carried a value of the wrong type or out of range.

    Feedback echo rule: a change of a base value is sent to the feedback address
    unless it came from an OSC message whose sender has the feedback host's IP.
    That controller moved the control itself, and echoing its own message back
    is how feedback loops start. Changes from anywhere else (another controller,
    a controller mapping, the director, a key) are echoed, at the parameter's
    own address and at any alias that points at it now. Modulation (audio,
    LFOs) is not a change of the base and is never sent: the knob shows what
    the performer set. A value that did not change is never sent, and each
    address sends at most every FEEDBACK_INTERVAL seconds: a faster run of
    changes sends its newest value when the interval is up (`flush_feedback`,
    called every frame, sends what is due).
    """

    name = "osc"

    def __init__(self, config: OscConfig, bus: ControlBus | None = None):
        """`bus`: the one to write to, or None until `use_bus` gives it (before `start`)."""
        super().__init__()
        self.config = config
        self.bus = bus
        self.received = 0
        self.applied = 0
        self.rejected = 0
        self.malformed = 0
        self.refused = 0
        self.last_error: str | None = None
        self._warnings = RateLimitedLog(log, LOG_INTERVAL)
        self._listener: _Listener | None = None
        self._thread: threading.Thread | None = None
        self._feedback: SimpleUDPClient | None = None
        self._feedback_ip: str | None = None
        self.feedback_problem: str | None = None  # why feedback is off although the show asks for it
        self._unsubscribe = None
        self._feedback_lock = threading.Lock()
        self._feedback_sent_at: dict[str, float] = {}  # address -> time.monotonic() of its last send
        self._feedback_due: dict[str, float | int | str] = {}  # address -> newest value not yet sent

    def counters(self) -> dict[str, int]:
        """What came in and what became of it, for --stats-json."""
        return {"received": self.received, "applied": self.applied, "rejected": self.rejected,
                "malformed": self.malformed, "refused": self.refused}

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound: with port 0 in the config, the one the system picked."""
        if self._listener is None:
            raise RuntimeError("the OSC server is not started")
        host, port = self._listener.server_address[:2]
        return host, port

    def start(self) -> None:
        if self._listener is not None:
            raise RuntimeError("the OSC server is already started")
        feedback = None
        if self.config.feedback is not None:
            try:
                feedback = resolve_feedback(self.config.feedback)
            except ValueError as error:  # controllers can still send: only their labels stop following
                self.feedback_problem = str(error)
                log.error("OSC feedback to %s is off: %s; OSC input still listens", self.config.feedback, error)
        try:
            listener = _Listener((self.config.host, self.config.port), _PacketDispatcher(self._handle_packet),
                                 self._admit)
        except OSError as error:
            raise OSError(error.errno, f"OSC cannot listen on {self.config.host}:{self.config.port}: "
                                       f"{error.strerror}") from None
        if feedback is not None:
            self._feedback_ip = feedback[0]
            self._feedback = SimpleUDPClient(*feedback)
            self._unsubscribe = self.bus.subscribe(self._echo)
        self._listener = listener
        self._thread = threading.Thread(target=listener.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="osc-server", daemon=True)
        self._thread.start()
        log.info("OSC listening on %s:%d under %s", *self.address, self.config.prefix)

    def use_bus(self, bus: ControlBus) -> None:
        """Write to `bus` from the next message on (a show reloaded while it runs has a new one);
        feedback follows it. The socket stays open: controllers notice nothing."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = bus.subscribe(self._echo)
        self.bus = bus

    def stop(self) -> None:
        if self._listener is None:
            return
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._listener.shutdown()  # returns once serve_forever has left its loop
        self._listener.server_close()
        self._thread.join(timeout=5.0)
        if self._feedback is not None:
            self._feedback.close()
            self._feedback = None
        self._listener = None

    def poll(self, t: float) -> None:
        self.flush_feedback()

    def status(self) -> str:
        if self._listener is None:
            return ""
        return (f"osc {self.address[0]}:{self.address[1]} in {self.received} bad "
                f"{self.rejected + self.malformed + self.refused} (malformed {self.malformed}, "
                f"rejected {self.rejected}, refused {self.refused})"
                + ("; feedback off: its host does not resolve" if self.feedback_problem else ""))

    def __enter__(self) -> OscServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- on the server thread ------------------------------------------------------------------------

    def _admit(self, sender: tuple[str, int]) -> bool:
        self.received += 1
        if self.config.allow is not None and sender[0] not in self.config.allow:
            self.refused += 1
            self._warn("refused", f"refused a packet from {sender[0]}: not in the allow list")
            return False
        return True

    def _handle_packet(self, data: bytes, sender: tuple[str, int]) -> list[tuple]:
        """Every message in the datagram, applied in order; returns replies for the sender."""
        try:
            messages = parse_packet(data)
        except MalformedPacket as error:
            self.malformed += 1
            self._warn("malformed", f"malformed packet of {len(data)} bytes from {sender[0]}: {error}")
            return []
        replies: list[tuple] = []
        for message in messages:
            replies.extend(self._handle_message(message, sender))
        return replies

    def _handle_message(self, message: Message, sender: tuple[str, int]) -> list[tuple]:
        prefix = self.config.prefix
        try:
            if message.address == f"{prefix}/query":
                replies = self._query(list(message.arguments))
            elif message.address == f"{prefix}/list":
                replies = self._listing()
            else:
                apply_message(self.bus, prefix, message.address, list(message.arguments),
                              f"osc:{sender[0]}:{sender[1]}")
                replies = []
        except ControlError as error:
            self.rejected += 1
            self._warn("rejected", f"rejected {message.address} from {sender[0]}: {error}")
            if message.address == f"{prefix}/query":  # silence would read like a lost packet to the asker
                return [(f"{prefix}/error", clipped(message.address), clipped(str(error)))]
            return []
        self.applied += 1
        return replies

    def _query(self, arguments: list[Any]) -> list[tuple]:
        if not arguments:
            replies = []
            for parameter in self.bus.parameters():
                try:
                    value = self.bus.get(parameter.name)
                except ControlError:  # an alias whose kind is not on screen now
                    continue
                replies.append((parameter_address(self.config.prefix, parameter.name), osc_value(value)))
            return replies
        if not isinstance(arguments[0], str):
            raise ControlError("query takes a parameter address or name")
        name = _parameter_name(self.config.prefix, arguments[0])
        return [(parameter_address(self.config.prefix, name), osc_value(self.bus.get(name)))]

    def _listing(self) -> list[tuple]:
        return [(f"{self.config.prefix}/list", parameter_address(self.config.prefix, parameter.name),
                 parameter.kind, *_bounds(parameter), _summary(parameter))
                for parameter in self.bus.parameters()]

    # --- on whichever thread changed the bus ---------------------------------------------------------

    def _echo(self, name: str, value: Value, source: str) -> None:
        if self._feedback is None or _sender_ip(source) == self._feedback_ip:
            return
        with self._feedback_lock:
            for alias_or_name in (name, *self.bus.aliases_of(name)):
                self._feedback_due[parameter_address(self.config.prefix, alias_or_name)] = osc_value(value)
        self.flush_feedback()

    def flush_feedback(self) -> None:
        """Send every pending feedback value whose address has not sent within FEEDBACK_INTERVAL."""
        feedback = self._feedback
        if feedback is None:
            return
        now = time.monotonic()
        with self._feedback_lock:
            due = [(address, value) for address, value in self._feedback_due.items()
                   if now - self._feedback_sent_at.get(address, -math.inf) >= FEEDBACK_INTERVAL]
            for address, _ in due:
                del self._feedback_due[address]
                self._feedback_sent_at[address] = now
        for address, value in due:
            try:
                feedback.send_message(address, value)
            except OSError as error:  # nobody listening there yet, or the network went away
                self._warn("feedback", f"feedback to {self.config.feedback} failed: {error}")

    def _warn(self, cause: str, text: str) -> None:
        text = clipped(text, OUTSIDE_TEXT_LIMIT * 2)  # the address and the error may each carry outside text
        self.last_error = text
        self._warnings.warning(cause, text)


def _sender_ip(source: str) -> str | None:
    """The IP in an OSC change's source, "osc:<ip>:<port>"; None for changes from elsewhere."""
    return source[4:].rpartition(":")[0] if source.startswith("osc:") else None


def _bounds(parameter: Parameter) -> tuple[float | None, float | None]:
    """(min, max) for a listing: numbers for numeric and on/off parameters, None (OSC nil) otherwise."""
    if parameter.kind == "bool":
        return 0.0, 1.0
    if parameter.kind in ("float", "int"):
        low, high = parameter.minimum, parameter.maximum
        return (None if low is None else float(low)), (None if high is None else float(high))
    return None, None


def _summary(parameter: Parameter) -> str:
    if parameter.choices:
        return f"{parameter.description} (choices: {', '.join(parameter.choices)})"
    return parameter.description


def _range_text(parameter: Parameter) -> str:
    if parameter.choices:
        return " | ".join(parameter.choices)
    if parameter.kind == "bool":
        return "0 / 1"
    if parameter.kind == "trigger":
        return "press"
    if parameter.kind == "str":
        return "text"
    low = "-inf" if parameter.minimum is None else f"{parameter.minimum:g}"
    high = "inf" if parameter.maximum is None else f"{parameter.maximum:g}"
    return f"{low} .. {high}"


def _default_text(parameter: Parameter) -> str:
    if parameter.kind == "trigger":
        return ""
    if parameter.kind == "bool":
        return "on" if parameter.default else "off"
    return str(parameter.default)


def address_table(bus: ControlBus, prefix: str = "/latentstage") -> str:
    """The whole address space as an aligned table: address, type, range, default, description."""
    rows = [("address", "type", "range", "default", "description")]
    for parameter in bus.parameters():
        if bus.is_alias(parameter.name):  # its value is the on-screen scene's: no default of its own
            rows.append((parameter_address(prefix, parameter.name), parameter.kind, _range_text(parameter),
                         "(scene's)", "on screen: " + parameter.description))
        else:
            rows.append((parameter_address(prefix, parameter.name), parameter.kind, _range_text(parameter),
                         _default_text(parameter), parameter.description))
    rows.append((f"{prefix}/query", "[address]", "", "", "replies with every value, or the one named "
                                                        "(an unknown one: <prefix>/error address why)"))
    rows.append((f"{prefix}/follow", "address", "", "", "the parameter follows the show again (its own value, "
                                                        "moved by the show's mappings)"))
    rows.append((f"{prefix}/list", "", "", "", "replies with address, type, min, max, description per parameter"))
    rows.append(("/any/other/address", "number", "", "", "stored as input osc:<address> for mappings"))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4] for row in rows]
    return "\n".join(line.rstrip() for line in lines)


class _Listener(BlockingOSCUDPServer):
    """python-osc's UDP server with our gate in front: every datagram is counted and the allow
    list applied here; the stock gate would drop non-OSC bytes without a trace. It reads whole
    datagrams (the stock 8 KiB cut longer ones short) from a receive buffer large enough that a
    burst of junk does not push out the valid messages queued behind it."""

    max_packet_size = 65536  # bytes read per datagram: more than any UDP datagram holds

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, admit):
        self._admit = admit  # (sender) -> bool; set before binding so no datagram misses it
        super().__init__(address, dispatcher)

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        super().server_bind()

    def verify_request(self, request: Any, client_address: tuple[str, int]) -> bool:
        return self._admit(client_address)


class _PacketDispatcher(Dispatcher):
    """python-osc's request handler passes each datagram here and sends back what we return.
    We parse and route ourselves: parse failures get counted (the stock dispatcher swallows
    them), addresses match exactly, and a bundle's time tag never makes the listener sleep."""

    def __init__(self, handle_packet):
        super().__init__()
        self._handle_packet = handle_packet  # (data, sender) -> [(address, *arguments)] replies

    def call_handlers_for_packet(self, data: bytes, client_address: tuple[str, int]) -> list:
        return self._handle_packet(data, client_address)
