"""The supervised worker on scripted work functions: backoff, health, stopping, a wedged call, quiet logs.

Tests wait for conditions (a failure counted, a thread gone), never for fixed
sleeps; where time matters they read the delays the worker logged, or bound
real gaps from below only, so a slow or busy machine cannot fail them.
"""
from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time

import pytest

import live.core.worker as worker_module
from live.core.worker import SUMMARY_EVERY, SupervisedWorker, WorkerHealth, WorkFailure
from tests.conftest import wait_for

LOGGER = "latentstage.worker"


class FakeClock:
    """A clock that stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0  # seconds

    def __call__(self) -> float:
        return self.now


def until_stopped(worker: SupervisedWorker) -> None:
    while not worker.wait(1.0):
        pass


def thread_alive(name: str) -> bool:
    return any(thread.name == name for thread in threading.enumerate())


def lines(caplog, level: int = logging.WARNING) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER and record.levelno >= level]


def test_failures_back_off_doubling_and_the_backoff_resets_once_the_work_works(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    started: list[float] = []  # real seconds of each attempt

    def work(worker: SupervisedWorker) -> None:
        started.append(time.perf_counter())
        attempt = len(started)
        if attempt <= 3:
            raise WorkFailure(f"not yet {'abc'[attempt - 1]}")  # letters: each a new failure, each logged
        worker.mark_healthy("running")
        if attempt == 4:
            raise WorkFailure("dropped after working")
        until_stopped(worker)

    worker = SupervisedWorker("scripted", work, time.perf_counter, backoff_start=0.1, backoff_max=0.4)
    assert worker.health() == WorkerHealth(False, "not started", 0, 0)
    worker.start()
    try:
        assert wait_for(lambda: len(started) == 5 and worker.health().healthy, 20.0), worker.health()
        health = worker.health()
    finally:
        worker.stop()
    assert health == WorkerHealth(True, "running", 4, 2)  # two recoveries: after "c" and after "dropped"
    with pytest.raises(dataclasses.FrozenInstanceError):
        health.healthy = False  # type: ignore[misc]

    delays = [float(re.search(r"retrying in ([\d.]+) s", record.getMessage()).group(1)) for record in lines(caplog)]
    assert delays == [0.1, 0.2, 0.4, 0.1]  # doubling up to the max; back to the start after working
    gaps = [later - earlier for earlier, later in zip(started, started[1:])]
    assert all(gap >= 0.9 * delay for gap, delay in zip(gaps, delays)), gaps
    recoveries = [r.getMessage() for r in caplog.records if r.name == LOGGER and "recovered" in r.getMessage()]
    assert recoveries == ["scripted: recovered after 3 failure(s)", "scripted: recovered after 1 failure(s)"]
    assert worker.health() == WorkerHealth(False, "stopped", 4, 2)


def test_stop_cuts_the_wait_between_attempts_short_and_start_runs_again():
    attempts = []

    def work(worker: SupervisedWorker) -> None:
        attempts.append(1)
        raise WorkFailure("device gone")

    worker = SupervisedWorker("patient", work, time.perf_counter, backoff_start=600.0, backoff_max=600.0)
    worker.start()
    assert wait_for(lambda: worker.health().failures == 1, 10.0)
    assert worker.health() == WorkerHealth(False, "device gone", 1, 0)
    worker.stop()
    assert not thread_alive("patient")  # stop() joined it: the 600 s wait ended at once
    assert worker.health() == WorkerHealth(False, "stopped", 1, 0) and len(attempts) == 1

    worker.start()  # a fresh thread, starting at once rather than after the old backoff
    assert wait_for(lambda: worker.health().failures == 2, 10.0)
    worker.stop()
    assert not thread_alive("patient") and len(attempts) == 2


def test_a_wedged_call_is_left_behind_with_one_warning(caplog, monkeypatch):
    monkeypatch.setattr(worker_module, "STOP_JOIN_TIMEOUT", 0.2)
    entered, release, returned = threading.Event(), threading.Event(), threading.Event()
    attempts = []

    def work(worker: SupervisedWorker) -> None:
        attempts.append(1)
        entered.set()
        release.wait(60.0)  # a driver call that does not look at worker.stopping
        worker.mark_healthy()  # too late: the worker was stopped meanwhile
        returned.set()

    worker = SupervisedWorker("wedged", work, time.perf_counter)
    worker.start()
    try:
        assert entered.wait(10.0)
        worker.stop()
        assert thread_alive("wedged")
        assert [r.getMessage() for r in lines(caplog)] == [
            "wedged: still busy 0.2 s after stop (a driver call that does not return); leaving it behind as a daemon"]
        assert worker.health() == WorkerHealth(False, "stopped", 0, 0)
    finally:
        release.set()
    assert returned.wait(10.0)
    assert wait_for(lambda: not thread_alive("wedged"), 10.0)
    assert worker.health() == WorkerHealth(False, "stopped", 0, 0)  # no failure counted, no retry
    assert len(attempts) == 1 and len(lines(caplog)) == 1


def test_a_failure_repeating_fast_logs_a_bounded_number_of_lines(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock = FakeClock()
    attempts = [0]
    fixed = threading.Event()

    def work(worker: SupervisedWorker) -> None:
        attempts[0] += 1
        if not fixed.is_set():
            raise WorkFailure(f"device 3 gone after {attempts[0] / 100:.2f} s")  # other numbers, same failure
        worker.mark_healthy()
        until_stopped(worker)

    worker = SupervisedWorker("flaky", work, clock, backoff_start=0.001, backoff_max=0.002)
    worker.start()
    try:
        assert wait_for(lambda: worker.health().failures >= 100, 60.0)
        assert [r.getMessage() for r in lines(caplog)] == ["flaky: device 3 gone after 0.01 s; retrying in 0.001 s"]

        clock.now += SUMMARY_EVERY + 1.0
        failures = worker.health().failures
        assert wait_for(lambda: worker.health().failures >= failures + 3, 60.0)
        assert len(lines(caplog)) == 2, [r.getMessage() for r in lines(caplog)]
        summary = lines(caplog)[1].getMessage()
        assert re.fullmatch(r"flaky: still failing: \d+ failure\(s\) in the last 31 s, \d+ in a row; "
                            r"latest: device 3 gone after [\d.]+ s", summary), summary

        fixed.set()
        assert wait_for(lambda: len(lines(caplog, logging.INFO)) == 3, 10.0)  # logged just after the health turns good
        health = worker.health()
        assert health.healthy
        assert lines(caplog, logging.INFO)[2].getMessage() == f"flaky: recovered after {health.failures} failure(s)"
        assert health.restarts == 1 and health.failures >= 103
    finally:
        worker.stop()


def test_an_unexpected_error_is_logged_with_its_traceback_once(caplog):
    attempts = [0]

    def work(worker: SupervisedWorker) -> None:
        attempts[0] += 1
        if attempts[0] == 6:
            worker.mark_healthy()  # worked for a moment, then the same bug again: a new streak
        if attempts[0] <= 6:
            raise RuntimeError("driver exploded")
        worker.mark_healthy()
        until_stopped(worker)

    worker = SupervisedWorker("buggy", work, FakeClock(), backoff_start=0.001, backoff_max=0.001)
    worker.start()
    try:
        assert wait_for(lambda: attempts[0] >= 7 and worker.health().healthy, 20.0)
    finally:
        worker.stop()
    warnings = lines(caplog)
    assert [r.getMessage() for r in warnings] == ["buggy: unexpected RuntimeError: driver exploded; retrying in 0.001 s"] * 2
    assert warnings[0].exc_info is not None and "driver exploded" in caplog.text
    assert warnings[1].exc_info is None
    assert caplog.text.count("Traceback") == 1
    assert worker.health().failures == 6 and worker.health().restarts == 2


def test_work_that_returns_by_itself_counts_as_a_failure():
    attempts = [0]

    def work(worker: SupervisedWorker) -> None:
        attempts[0] += 1
        if attempts[0] > 1:
            until_stopped(worker)

    worker = SupervisedWorker("brief", work, time.perf_counter, backoff_start=0.01, backoff_max=0.01)
    worker.start()
    try:
        assert wait_for(lambda: attempts[0] == 2, 10.0)
        assert worker.health() == WorkerHealth(False, "the work ended without being asked to stop", 1, 0)
    finally:
        worker.stop()


def test_mark_unhealthy_says_why_without_counting_a_failure():
    said = threading.Event()

    def work(worker: SupervisedWorker) -> None:
        worker.mark_unhealthy("opened, waiting for the first frame")
        said.set()
        until_stopped(worker)

    worker = SupervisedWorker("opening", work, time.perf_counter)
    worker.start()
    try:
        assert said.wait(10.0)
        assert worker.health() == WorkerHealth(False, "opened, waiting for the first frame", 0, 0)
    finally:
        worker.stop()


def test_backoff_must_start_positive_and_below_its_max():
    with pytest.raises(ValueError, match="backoff"):
        SupervisedWorker("bad", until_stopped, time.perf_counter, backoff_start=2.0, backoff_max=1.0)
    with pytest.raises(ValueError, match="backoff"):
        SupervisedWorker("bad", until_stopped, time.perf_counter, backoff_start=0.0)
