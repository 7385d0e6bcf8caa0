"""Ableton Link, for real: a peer in a second process (tests/link_peer.py) and the show's LinkSession
find each other over UDP multicast on this machine, share tempo and phase, and either can lead."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest

from live.inputs.link import LinkSession
from tests.conftest import REPO, wait_for

JOIN_TIMEOUT = 30.0  # seconds: peers find each other in well under a second on an idle machine


class Peer:
    """tests/link_peer.py running; `latest` is its newest line."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.lines: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(json.loads(line))

    @property
    def latest(self) -> dict:
        return self.lines[-1] if self.lines else {"peers": 0, "tempo": 0.0, "beat": 0.0, "link_us": 0}

    def beat_at(self, link_us: int) -> float:
        """The session's beat at Link time link_us, as this peer sees it (its tempo held since its newest line)."""
        line = self.latest
        return line["beat"] + (link_us - line["link_us"]) * line["tempo"] / 60e6


@contextmanager
def link_peer(bpm: float, lead: bool = False, prefix: tuple[str, ...] = ()):
    command = [*prefix, sys.executable, "-m", "tests.link_peer", str(bpm), *(["--lead"] if lead else [])]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield Peer(process)
    finally:
        process.terminate()
        process.communicate(timeout=30)


def phase_difference(a: float, b: float, quantum: float = 4.0) -> float:
    """The distance between two beats' phases in the bar, in beats, 0 .. quantum / 2."""
    difference = (a - b) % quantum
    return min(difference, quantum - difference)


@pytest.fixture
def session():
    link = LinkSession(100.0, 4.0, time.perf_counter)
    link.start()
    yield link
    link.stop()


def test_the_show_follows_a_peers_tempo_and_phase(session):
    with link_peer(128.0, lead=True) as peer:
        assert wait_for(lambda: session.peers() >= 1 and abs(session.reading(time.perf_counter()).bpm - 128) < 0.01,
                        JOIN_TIMEOUT), f"no peer or no tempo: {session.peers()} peers, {session.reading(0.0)}"
        assert wait_for(lambda: peer.latest["peers"] >= 1 and abs(peer.latest["tempo"] - 128.0) < 0.01, 10.0)
        reading = session.reading(time.perf_counter())
        assert phase_difference(reading.beat, peer.beat_at(reading.link_us)) < 0.01  # one shared bar
        t = time.perf_counter()
        beats = session.beats_between(t - 4.0, t)  # the session's beats of the last 4 s, at their times
        assert len(beats) in (8, 9)  # 128 BPM: 8.53 beats in 4 s
        gaps = [b[0] - a[0] for a, b in zip(beats, beats[1:])]
        assert all(gap == pytest.approx(60 / 128, abs=1e-4) for gap in gaps)
        for at, downbeat in beats:  # each at a whole beat of the peer's bar, downbeats on its 0
            beat = session.reading(at).beat
            assert abs(beat - round(beat)) < 0.005
            assert downbeat == (round(beat) % 4 == 0)
            assert phase_difference(beat, peer.beat_at(session.reading(at).link_us)) < 0.01


def test_the_show_leads_the_session_tempo(session):
    with link_peer(100.0) as peer:
        assert wait_for(lambda: session.peers() >= 1 and peer.latest["peers"] >= 1, JOIN_TIMEOUT)
        session.lead(140.0, time.perf_counter())
        assert wait_for(lambda: abs(peer.latest["tempo"] - 140.0) < 0.01, 10.0)  # Link keeps microseconds a beat, peer.latest


def test_without_the_wheel_link_is_off_and_says_why():
    program = """
import sys, time
sys.modules["link"] = None  # as if LinkPython-extern were not installed
from live.inputs.link import LinkSession
session = LinkSession(120.0, 4.0, time.perf_counter)
session.start()
print("OFF", session.running, session.reading(0.0), session.beats_between(0.0, 1.0), session.problem)
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "OFF False None [] Link is not installed" in result.stdout


def test_two_peers_find_each_other_with_loopback_alone():
    """As in a fresh container with no network but lo: a private network namespace (needs root or
    user namespaces; skipped where neither is allowed). Link needs no route for its multicast."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare or ip (util-linux, iproute2) missing: no private network namespace to try")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"no private network namespace allowed here ({probe.stderr.strip()})")
    peer = f"{sys.executable} -m tests.link_peer 128 --lead --seconds 20"  # leads; the other one reports
    script = (f"ip link set lo up && ip -o link show | grep -c ': ' ; "
              f"{peer} >/dev/null & {sys.executable} -m tests.link_peer 90 --seconds 20; wait")
    process = subprocess.Popen(["unshare", "-n", "sh", "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    found = []
    try:
        for line in process.stdout:
            if line.strip() == "1":  # interfaces in the namespace: lo alone
                found.append("lo only")
            if line.startswith("{") and json.loads(line)["peers"] >= 1 and abs(json.loads(line)["tempo"] - 128.0) < 0.01:
                found.append(line)
                if len(found) > 3:
                    break
    finally:
        process.kill()
        process.communicate(timeout=30)
    assert found and found[0] == "lo only", found
    assert len(found) > 3, "the peers in a namespace with only loopback never met"
