"""The supervised worker: one daemon thread that runs a piece of work, retries it with backoff and reports health.

Every frame source and the audio input (and any other device or model loop)
hand their code to a `SupervisedWorker` as `work(worker)`: a function that runs until
`worker.stopping` (then returns) or fails (raises). The worker owns everything
around it: the thread, `stop()` (which leaves a wedged driver call behind as a
daemon rather than hang shutdown), exponential backoff between attempts (back
to the start once the work calls `mark_healthy`), and a frozen `WorkerHealth`
that any thread can read. It logs without flooding: each kind of failure once
when it starts (with a traceback the first time an exception type other than
`WorkFailure` is seen), repeats only as a count in at most one summary line
every SUMMARY_EVERY seconds, and one line on recovery. Log timing follows the
`clock` passed in; the waits between attempts are real seconds, since a thread
can only sleep on the wall clock.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, replace
from typing import Callable

from live.core.clock import Clock

log = logging.getLogger("latentstage.worker")

STOP_JOIN_TIMEOUT = 5.0  # seconds stop() waits for the thread; a wedged driver call may never return
SUMMARY_EVERY = 30.0  # seconds on the worker's clock between summary lines of a failure that keeps coming back
NUMBER = re.compile(r"\d+(?:\.\d+)?")  # masked when comparing failures: other seconds or counts, same failure


class WorkFailure(Exception):
    """An expected failure (a device gone, a file unreadable): the message says all, no traceback is logged."""


@dataclass(frozen=True)
class WorkerHealth:
    healthy: bool
    message: str  # what is wrong, or what the work last said when healthy ("ok")
    failures: int  # attempts that ended in an exception, since construction
    restarts: int  # times the work reported working again after failing


class SupervisedWorker:
    """Runs `work(self)` on a daemon thread from start() to stop(), again after each failure.

    The work polls `stopping` or sleeps with `wait(seconds)`, and says how it is
    doing with `mark_healthy` and `mark_unhealthy`; those calls are ignored once
    stop() was asked, so "stopped" stays what status shows."""

    def __init__(self, name: str, work: Callable[[SupervisedWorker], None], clock: Clock,
                 backoff_start: float = 0.5, backoff_max: float = 10.0):
        if not 0 < backoff_start <= backoff_max:
            raise ValueError(f"backoff must satisfy 0 < start ({backoff_start}) <= max ({backoff_max})")
        self.name = name
        self.clock = clock
        self._work = work
        self._backoff_start = backoff_start  # seconds
        self._backoff_max = backoff_max
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Written under the lock; _health is replaced whole, so health() reads it without one.
        self._lock = threading.Lock()
        self._health = WorkerHealth(False, "not started", 0, 0)
        self._backoff = backoff_start  # seconds before the next attempt
        self._streak = 0  # failures since the work last reported working
        self._kinds_logged: set[str] = set()  # kinds of failure already logged in this streak
        self._types_traced: set[type] = set()  # unexpected exception types whose traceback was logged
        self._unlogged = 0  # failures since the last log line
        self._logged_at = 0.0  # clock seconds of that line

    # ---- any thread

    def start(self) -> None:
        """Start the thread; nothing if it still runs (also when a stopped one is still wedged in a call)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        with self._lock:
            self._backoff = self._backoff_start
            self._health = replace(self._health, healthy=False, message="starting")
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the work to stop and wait up to STOP_JOIN_TIMEOUT for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_JOIN_TIMEOUT)
            if self._thread.is_alive():
                log.warning("%s: still busy %g s after stop (a driver call that does not return); "
                            "leaving it behind as a daemon", self.name, STOP_JOIN_TIMEOUT)
        with self._lock:
            self._health = replace(self._health, healthy=False, message="stopped")

    def health(self) -> WorkerHealth:
        return self._health

    # ---- the work's side

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds` (real time), cut short by stop(); whether the worker is stopping."""
        return self._stop.wait(max(0.0, seconds))

    def mark_healthy(self, message: str = "ok") -> None:
        """The work works: healthy, the next failure waits backoff_start again, a failure streak ends."""
        with self._lock:
            if self._stop.is_set():
                return
            recovered_after = self._streak
            restarts = self._health.restarts + (1 if recovered_after else 0)
            self._health = WorkerHealth(True, message, self._health.failures, restarts)
            self._backoff = self._backoff_start
            self._streak = 0
            self._kinds_logged.clear()
        if recovered_after:
            log.info("%s: recovered after %d failure(s)", self.name, recovered_after)

    def mark_unhealthy(self, message: str) -> None:
        """Not working yet, without counting a failure (opened, waiting for the first frame, say)."""
        with self._lock:
            if not self._stop.is_set():
                self._health = replace(self._health, healthy=False, message=message)

    # ---- the thread

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._work(self)
                failure: Exception = WorkFailure("the work ended without being asked to stop")
            except Exception as error:  # supervised: whatever the work raises, the thread lives on
                failure = error
            if self._stop.is_set():
                return
            self._stop.wait(self._count_failure(failure))

    def _count_failure(self, error: Exception) -> float:
        """Record a failed attempt, log it if it is news, and return the seconds to wait before the next."""
        expected = isinstance(error, WorkFailure)
        reason = str(error) if expected else f"unexpected {type(error).__name__}: {error}"
        kind = f"{type(error).__name__}: {NUMBER.sub('#', reason)}"
        now = self.clock()
        with self._lock:
            health = self._health
            self._health = WorkerHealth(False, reason, health.failures + 1, health.restarts)
            delay = self._backoff
            self._backoff = min(2.0 * delay, self._backoff_max)
            self._streak += 1
            streak, since_logged = self._streak, now - self._logged_at
            news = kind not in self._kinds_logged
            trace = not expected and type(error) not in self._types_traced
            if not news and since_logged < SUMMARY_EVERY:
                self._unlogged += 1
                return delay
            self._kinds_logged.add(kind)
            if trace:
                self._types_traced.add(type(error))
            repeats, self._unlogged, self._logged_at = self._unlogged, 0, now
        if news:
            log.warning("%s: %s; retrying in %g s", self.name, reason, delay, exc_info=error if trace else None)
        else:
            log.warning("%s: still failing: %d failure(s) in the last %.0f s, %d in a row; latest: %s",
                        self.name, repeats + 1, since_logged, streak, reason)
        return delay
