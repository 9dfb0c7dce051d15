"""The executor's one clock: deferred starts, backoffs, sleep tasks and timeouts are all read on it.

`WallClock` is the service's: seconds since the epoch, so times kept in the store mean the same after a
restart. `ManualClock` is the tests': it moves only when `advance` is called, and wakes the executor when it
does, so a test decides exactly when a backoff is over or a timeout passes, whatever the machine's speed.

Grid sessions run on their own simulated clock (hours of grid data); the service maps a deferral of h hours on
that clock to h x 3600 / TASKPILOT_CLOCK_SCALE seconds on this one, so a demo sees deferred tasks released.
"""

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    kind: str

    def now(self) -> float: ...

    def wall_timeout(self, until: float) -> float | None:
        """Real seconds to wait until `until` may have come on this clock; None: only when the clock is moved."""
        ...

    def on_advance(self, callback: Callable[[], None]) -> None: ...


class WallClock:
    kind = "wall"

    def now(self) -> float:
        return time.time()

    def wall_timeout(self, until: float) -> float | None:
        return max(0.0, until - time.time())

    def on_advance(self, callback: Callable[[], None]) -> None:
        pass  # it advances by itself; waiters use wall_timeout


class ManualClock:
    kind = "manual"

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += seconds
            now = self._now
        for callback in list(self._callbacks):
            callback()
        return now

    def wall_timeout(self, until: float) -> float | None:
        return None

    def on_advance(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)
