"""Heavy requests' work, bounded: threads of its own, a time budget, and stopped when its client leaves or
the process stops. POST /plan runs here.

`WorkPool(threads, waiting)` runs at most `threads` pieces of work at once, on threads of its own, so the
shared thread pool stays free for every other request and at most `threads` CPU-bound threads compete with
the event loop for the GIL. Up to `waiting` more requests wait their turn on the event loop, holding no
thread; one more is refused (`Busy`, 429). A piece of work is a function of one argument, `check`, which it
calls between chunks (the planner's tick): `check` raises `Stopped` once the time budget, counted from
the start of the work, is spent, once the client has disconnected, or once the process is stopping (the
end of uvicorn's graceful shutdown cancels the request, which then answers 503 saying so once its thread
is done, and the lifespan's `close` stops whatever still runs).
A thread's slot is given back only when the thread has really finished, so stopped work never piles up.
"""

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from starlette.types import Receive

log = logging.getLogger(__name__)
T = TypeVar("T")
SHUTTING_DOWN = "the server is shutting down"
CLIENT_GONE = "the client disconnected"
WORKER_NICE = 10


class Stopped(Exception):
    """Work stopped before it finished; the message says why, as a sentence for the client."""


class Busy(Exception):
    """Every worker is taken and the waiting line is full; the message says which settings."""


class Work:
    """One piece of work in progress: its budget, and why it must stop (set from the event loop)."""

    def __init__(self, what: str, budget_s: float, setting: str):
        self.what, self.budget_s, self.setting = what, budget_s, setting
        self.deadline: float | None = None
        self.reason: str | None = None  # one assignment of a str: the worker reads it without a lock

    def stop(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason

    def check(self, _done: int = 0) -> None:
        """Raise Stopped when the work must stop: called by the worker between chunks."""
        if self.reason is None and self.deadline is not None and time.monotonic() > self.deadline:
            self.reason = f"{self.what} was stopped after its time budget of {self.budget_s:g} s ({self.setting})"
        if self.reason is not None:
            raise Stopped(self.reason)


class WorkPool:
    def __init__(self, threads: int, waiting: int, name: str):
        self.threads, self.waiting = threads, waiting
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name, initializer=_lower_priority)
        self._free = asyncio.Semaphore(threads)
        self._queued = 0
        self.active: set[Work] = set()
        """Work running now: tests and the lifespan's close look at it."""
        self._closing = False

    async def run(self, receive: Receive, work: Work, fn: Callable[[Callable[[int], None]], T]) -> T:
        """fn(work.check) on a worker once one is free; its result, or Stopped, Busy, or what fn raised."""
        if self._closing:
            raise Stopped(SHUTTING_DOWN)
        if self._free.locked() and self._queued >= self.waiting:
            raise Busy(f"{self.threads} {work.what}s are running and {self._queued} waiting, the most this server takes")
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await self._take_worker(gone)
            return await self._run_on_worker(work, fn, gone)
        finally:
            gone.cancel()

    async def _take_worker(self, gone: "asyncio.Future[None]") -> None:
        if not self._free.locked():
            # A free worker, and nobody waiting for one: taken at once (acquire does not suspend here). Counted
            # in the waiting line, it was still counted there until its wait returned, so a burst of requests
            # saw a full line where one was free and got 429 (tests/abuse/test_health.py, 1 run in 4).
            await self._free.acquire()
            return
        self._queued += 1
        turn = asyncio.ensure_future(self._free.acquire())
        taken = False
        try:
            await asyncio.wait({turn, gone}, return_when=asyncio.FIRST_COMPLETED)
            taken = turn.done() and not gone.done()
        finally:
            self._queued -= 1
            if not taken:  # the client left, or the request was cancelled, while it waited
                self._give_back(turn)
        if not taken:
            raise Stopped(CLIENT_GONE)

    def _give_back(self, turn: "asyncio.Future[bool]") -> None:
        if turn.done() and not turn.cancelled():
            self._free.release()
        else:
            turn.cancel()

    async def _run_on_worker(self, work: Work, fn: Callable[[Callable[[int], None]], T], gone: "asyncio.Future[None]") -> T:
        self.active.add(work)
        work.deadline = time.monotonic() + work.budget_s
        log.debug("%s started on a worker (%d running)", work.what, len(self.active))
        done = asyncio.get_running_loop().run_in_executor(self._executor, fn, work.check)
        done.add_done_callback(lambda _: self._finished(work))  # the slot comes back when the thread is done
        try:
            await asyncio.wait({done, gone}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # uvicorn's graceful shutdown ran out and cancels the request: rather than vanish (with a
            # traceback in the log), it stops the work and answers why, once the thread is done.
            work.stop(SHUTTING_DOWN)
        if not done.done():
            work.stop(CLIENT_GONE)
        if work.reason is not None:
            log.info("%s stopped: %s", work.what, work.reason)
        return await done

    def _finished(self, work: Work) -> None:
        self.active.discard(work)
        self._free.release()

    async def close(self) -> None:
        """Stop whatever runs (at its next check) and wait for the threads, off the event loop (requests
        being stopped still answer): the lifespan's end."""
        self._closing = True
        for work in list(self.active):
            work.stop(SHUTTING_DOWN)
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)


def _lower_priority() -> None:
    """This worker thread yields the CPU to the event loop's (Linux: a thread's own nice value)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)


async def _disconnected(receive: Receive) -> None:
    """Returns when the client has gone. Only called once the request's body has been read, when the next
    message can only be http.disconnect (sent when the client goes, or once the answer is complete)."""
    while (await receive())["type"] != "http.disconnect":
        pass
