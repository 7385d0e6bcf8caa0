"""The latest-wins sender with a real stream output: MPEG-TS over TCP to a socket in this test that reads
it, goes away and comes back."""
import socket
import threading
import time

import numpy as np

from live.core.frames import Frame
from live.output.sender import FrameSender
from live.output.stream_out import StreamOutput

TS_PACKET = 188


class Listener:
    """A TCP receiver on a fixed port that keeps what it reads; close() and a new one on the same port
    stand in for OBS quitting and starting again."""

    def __init__(self, port: int = 0):
        self.server = socket.create_server(("127.0.0.1", port))
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self._connection: socket.socket | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            self._connection, _ = self.server.accept()
            while chunk := self._connection.recv(65536):
                self.received += chunk
        except OSError:  # closed by the test
            pass

    def close(self) -> None:
        if self._connection is not None:
            self._connection.shutdown(socket.SHUT_RDWR)
            self._connection.close()
        self.server.close()


def offer_until(sender: FrameSender, condition, timeout: float = 30.0) -> bool:
    """Offer a new 320x180 picture every 10 ms (faster than a busy machine encodes) until `condition` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        seq = sender.offered
        sender.offer(Frame(np.full((180, 320, 3), (seq * 7) % 256, np.uint8), seq / 30, seq))
        time.sleep(0.01)
    return condition()


def test_a_stream_sends_the_newest_frames_and_comes_back_when_its_receiver_does():
    listener = Listener()
    sender = FrameSender(StreamOutput(f"tcp://127.0.0.1:{listener.port}", 30.0), time.perf_counter)
    sender.start()
    try:
        assert offer_until(sender, lambda: len(listener.received) > 20 * TS_PACKET and sender.sent >= 10)
        data = bytes(listener.received[:len(listener.received) // TS_PACKET * TS_PACKET])
        assert all(data[i] == 0x47 for i in range(0, len(data), TS_PACKET))  # MPEG-TS sync bytes all along
        assert "sending" in sender.hud_line()

        listener.close()  # the receiver quits: writes fail, the sender says so and keeps trying
        assert offer_until(sender, lambda: sender.errors >= 1 and "not sending" in sender.hud_line())
        listener = Listener(listener.port)  # and comes back on the same port
        assert offer_until(sender, lambda: len(listener.received) > 20 * TS_PACKET)
        # recovered once it has sent for STEADY_AFTER seconds (a peer that stalls again at once never is)
        assert offer_until(sender, lambda: sender.worker.health().restarts >= 1)
    finally:
        sender.stop()
        listener.close()
    # every frame offered was sent or dropped (the newest one may still wait when it stopped)
    assert sender.offered - 1 <= sender.sent + sender.dropped <= sender.offered
    assert sender.figures()["errors"] == sender.errors >= 1
