"""Gates for the HTTP tests: long operations made long on purpose, by the test.

A test that must check something while a request is in progress holds that request at a Gate (or holds
the session's lock itself) instead of hoping the work is slow enough; a test that needs requests to
overlap makes them wait for each other. The in-process server exposes the app, so a test can fit these
gates into its sessions and simulations. Nothing here waits for a duration: every wait is for a
condition, with GATE_TIMEOUT_S only turning a hang into a failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI

from api import create_app
from bench import live
from tests.web.conftest import make_settings

GATE_TIMEOUT_S = 120.0
"""The longest a test waits for a gate, a lock, an answer or a server: reached only when something hangs,
never a measure of speed (nothing here waits for a duration)."""
HOLD_LIMIT_S = 2 * GATE_TIMEOUT_S
"""The longest held work waits for its gate before it gives up: longer than any wait of the test, so a
test that fails while holding work reports its own cause rather than the gate's."""
CLIENT_TIMEOUT_S = HOLD_LIMIT_S + GATE_TIMEOUT_S
"""Timeout of a client whose request may be held: it outlasts the hold."""


class Gate:
    """A point where work stops until the test opens the gate, so an operation that must be in progress
    while the test checks something is held there on purpose rather than hoped to be slow.

    Work that stays held past HOLD_LIMIT_S raises instead of hanging (a test that never opens its gate
    fails)."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self._opened = threading.Event()

    def pass_through(self) -> None:
        """Called by the held work: waits until the gate is open."""
        self.arrived.set()
        if not self._opened.wait(HOLD_LIMIT_S):
            raise TimeoutError(f"the test did not open the gate within {HOLD_LIMIT_S:g} s")

    def open(self) -> None:
        self._opened.set()

    def wait_arrival(self, what: str) -> None:
        assert self.arrived.wait(GATE_TIMEOUT_S), f"{what} did not reach the gate within {GATE_TIMEOUT_S:g} s"


class WatchedLock:
    """A drop-in for a session's threading.Lock that counts the threads blocked on it, so a test knows
    when requests are waiting for the session instead of guessing how long that takes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._waiting = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(blocking=False):
            return True
        if not blocking:
            return False
        with self._changed:
            self._waiting += 1
            self._changed.notify_all()
        try:
            return self._lock.acquire(True, timeout)
        finally:
            with self._changed:
                self._waiting -= 1

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def wait_for_waiters(self, n: int, what: str) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self._waiting >= n, GATE_TIMEOUT_S), (
                f"{what}: {self._waiting} of {n} waiting after {GATE_TIMEOUT_S:g} s"
            )


@contextmanager
def threaded_server(**overrides: Any) -> Iterator[tuple[str, FastAPI]]:
    """bench.live.threaded_server serving create_app(make_settings(**overrides)); yields its base URL and the
    app, whose state (sessions, simulations) the test may put gates in."""
    app = create_app(make_settings(**overrides))
    with live.threaded_server(app, GATE_TIMEOUT_S) as base:
        yield base, app


def wait_until(condition: Callable[[], Any], what: str, timeout_s: float = GATE_TIMEOUT_S, poll_s: float = 0.01) -> Any:
    """condition()'s first truthy value: the tests' one way to wait for a condition. It is polled every poll_s
    (the interval between looks, not a wait for anything); the deadline only turns a hang into a failure
    naming `what`, it is not a measure of speed."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:g} s"
        time.sleep(poll_s)
