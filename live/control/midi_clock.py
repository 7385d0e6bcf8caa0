"""MIDI clock: follow another tool's (24 ticks a beat, start/stop/continue, song position), or send the show's.

In: the port's callback (rtmidi's thread) stamps each real-time byte with the
show's clock and queues it; the frame tick (`beats_until`) plays the queue: a
start counts from the bar's first beat, song position (in sixteenths) moves the
count while stopped, continue resumes from it, and every 24th tick is a beat at
the time the line through the last FIT_TICKS ticks' arrivals gives it: a MIDI
system hands messages over in bursts (JACK once a cycle, up to 43 ms apart), and
the line takes that jitter out. Its slope is the tempo. The clock is lost when
stopped, or with no tick for MIDI_LOST_AFTER.

Out: a thread sends a tick every 1/24 beat on the grid the frame tick hands it
(`follow(bpm, beat, t)`): the first tick is preceded by song position (the next
beat, as sixteenths) and continue, so a receiver counts the show's bars; stop on
`stop()`. Absent devices drop and count what they cannot send (midi_ports).
"""
from __future__ import annotations

import logging
import math
import threading
from collections import deque

import numpy as np

from live.control.midi_ports import PortWatcher, WatchedPort
from live.core.clock import Clock

log = logging.getLogger("latentstage.midi_clock")

TICKS_PER_BEAT = 24
TICK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
MIDI_LOST_AFTER = 0.5  # seconds without a tick while running: the clock (or its cable) is gone
QUEUE = 4096  # real-time messages held between two frames (a flood beyond this is dropped, counted)
FIT_TICKS = 4 * TICKS_PER_BEAT  # ticks the tempo and beat times are fitted to: four beats
MIN_FIT_TICKS = TICKS_PER_BEAT // 2  # before this many, a beat is where its tick arrived


class MidiClockIn:
    def __init__(self, device: str | int, clock: Clock, beats_per_bar: int):
        self.clock = clock
        self.beats_per_bar = beats_per_bar
        self.device = device
        self.port: WatchedPort | None = None  # from `start`, where there is a MIDI system
        self._watcher: PortWatcher | None = None
        self._queue: deque[tuple[float, int, int]] = deque()  # (show seconds, status, song position)
        self._lock = threading.Lock()
        self.dropped = 0  # messages past QUEUE
        self.ignored = 0  # anything but clock messages
        # frame tick only
        self._running = False
        self._tick = 0  # ticks since the bar-aligned origin; the next tick's number
        self._ticks: deque[tuple[int, float]] = deque(maxlen=FIT_TICKS)  # (tick number, arrival), since (re)start
        self.problem = ""

    def start(self) -> None:
        try:
            self.port = WatchedPort(self.device, "input", self._arrived)
            self._watcher = PortWatcher([self.port])
            self._watcher.start()
        except OSError as error:  # no MIDI system here (MidiUnavailable): the source is lost, the show goes on
            self.problem = str(error)
            log.error("MIDI clock in: %s", error)

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        if self.port is not None:
            self.port.close()

    def _arrived(self, message: list[int], delta: float) -> None:
        """rtmidi's thread: stamp and queue clock messages, count the rest."""
        status = message[0] if message else 0
        if status not in (TICK, START, CONTINUE, STOP, SONG_POSITION) or (status == SONG_POSITION and len(message) < 3):
            self.ignored += 1
            return
        position = message[1] + 128 * message[2] if status == SONG_POSITION else 0
        with self._lock:
            if len(self._queue) >= QUEUE:
                self.dropped += 1
                return
            self._queue.append((self.clock(), status, position))

    def beats_until(self, t: float) -> list[tuple[float, bool]]:
        """(show time, downbeat) of each beat whose tick arrived since the previous call."""
        with self._lock:
            arrived, self._queue = self._queue, deque()
        beats = []
        for at, status, position in arrived:
            if status == START:
                self._running, self._tick = True, 0
                self._ticks.clear()
            elif status == CONTINUE:
                self._running = True
                self._ticks.clear()
            elif status == STOP:
                self._running = False
            elif status == SONG_POSITION and not self._running:
                self._tick = position * (TICKS_PER_BEAT // 4)  # sixteenths: 6 ticks each
            elif status == TICK and self._running:
                self._ticks.append((self._tick, at))
                if self._tick % TICKS_PER_BEAT == 0:
                    beats.append((self._tick_time(self._tick), (self._tick // TICKS_PER_BEAT) % self.beats_per_bar == 0))
                self._tick += 1
        return beats

    def running(self, t: float) -> bool:
        return self._running and bool(self._ticks) and t - self._ticks[-1][1] < MIDI_LOST_AFTER

    def _line(self) -> tuple[float, float] | None:
        """(seconds a tick, arrival time of tick 0) fitted by least squares to the recent ticks."""
        if len(self._ticks) < MIN_FIT_TICKS:
            return None
        numbers = np.array([tick for tick, _ in self._ticks], float)
        times = np.array([at for _, at in self._ticks])
        slope, intercept = np.polyfit(numbers, times, 1)
        return (float(slope), float(intercept)) if slope > 0 else None

    def _tick_time(self, tick: int) -> float:
        line = self._line()
        return line[1] + line[0] * tick if line else self._ticks[-1][1]

    def bpm(self) -> float | None:
        line = self._line()
        return 60.0 / (line[0] * TICKS_PER_BEAT) if line else None

    def beat_at(self, t: float) -> float | None:
        line = self._line()
        return (t - line[1]) / line[0] / TICKS_PER_BEAT if line else None

    def status(self) -> str:
        port = self.port.status() if self.port is not None else ""
        return self.problem or port or ("" if self._running else "stopped")


class MidiClockOut:
    def __init__(self, device: str | int, clock: Clock, beats_per_bar: int = 4):
        self.clock = clock
        self.beats_per_bar = beats_per_bar
        self.device = device
        self.port: WatchedPort | None = None  # from `start`, where there is a MIDI system
        self._watcher: PortWatcher | None = None
        self._grid: tuple[float, float, float] | None = None  # (bpm, beat, show time) the frame tick handed over
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.sent = 0  # ticks sent
        self.problem = ""

    def start(self) -> None:
        try:
            self.port = WatchedPort(self.device, "output")
            self._watcher = PortWatcher([self.port])
            self._watcher.start()
        except OSError as error:  # no MIDI system here: the show goes on without sending its clock
            self.problem = str(error)
            log.error("MIDI clock out: %s", error)
            return
        self._thread = threading.Thread(target=self._send, name="midi-clock-out", daemon=True)
        self._thread.start()

    def follow(self, bpm: float, beat: float | None, t: float) -> None:
        """The frame tick: the leading tempo, and its beat at show time t (None: phase from here on)."""
        with self._changed:
            if beat is None:
                beat = self._beat_at(t) if self._grid else 0.0
            self._grid = (bpm, beat, t)
            self._changed.notify()

    def _beat_at(self, t: float) -> float:
        bpm, beat, at = self._grid
        return beat + (t - at) * bpm / 60.0

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self.port.send([STOP])
        if self._watcher is not None:
            self._watcher.stop()
        if self.port is not None:
            self.port.close()

    def _send(self) -> None:
        started = False
        tick: int | None = None  # the next tick's number on the grid (24 a beat)
        with self._changed:
            while not self._stopping:
                if self._grid is None:
                    self._changed.wait()
                    continue
                now = self.clock()
                bpm, beat, at = self._grid
                behind = tick is not None and self._due(tick) < now - 60.0 / bpm / TICKS_PER_BEAT
                if tick is None or behind:  # the first, or a stall (or the grid jumped): on from now
                    tick = math.floor(self._beat_at(now) * TICKS_PER_BEAT) + 1
                due = self._due(tick)
                if due > now:
                    self._changed.wait(due - now)  # a new grid wakes it early, and it works the tick's time out again
                    continue
                if not started and tick % TICKS_PER_BEAT == 0:  # begin on a beat, with the bar's position
                    sixteenths = (tick // TICKS_PER_BEAT) % (self.beats_per_bar * 255) * 4
                    self.port.send([SONG_POSITION, sixteenths & 0x7F, sixteenths >> 7])
                    self.port.send([CONTINUE])
                    started = True
                if started:
                    self.port.send([TICK])
                    self.sent += 1
                tick += 1

    def _due(self, tick: int) -> float:
        """Show time of a tick on the grid handed over last."""
        bpm, beat, at = self._grid
        return at + (tick / TICKS_PER_BEAT - beat) * 60.0 / bpm
