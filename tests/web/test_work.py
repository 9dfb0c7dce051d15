"""web.work.WorkPool: `threads` pieces of work run, `waiting` more wait their turn, one more is Busy, whatever
the interleaving of the requests' arrival with the event loop's turns."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from web.work import Busy, Work, WorkPool


def run_alone(main: Any) -> Any:
    """asyncio.run(main) on a thread of its own: another test's fixture (Playwright's sync API) may keep an event
    loop running on this thread, where asyncio.run refuses to start one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, main).result()


async def never_disconnects() -> dict[str, Any]:
    await asyncio.Event().wait()
    return {"type": "http.disconnect"}


@pytest.mark.parametrize("turns", range(6))
def test_a_burst_that_fits_is_never_refused(turns: int) -> None:
    """Two requests take the two workers, two more wait: none is Busy, however many turns of the event loop
    pass between them. Those that had just taken a worker were still counted in the waiting line until
    their wait returned, so the line looked full and the fourth got 429 (1 run in 4 of test_health)."""

    async def burst() -> list[Any]:
        pool, release = WorkPool(threads=2, waiting=2, name="test"), threading.Event()

        def held(check: Any) -> str:
            release.wait(60)
            return "done"

        def start() -> asyncio.Task[Any]:
            return asyncio.ensure_future(pool.run(never_disconnects, Work("plan", 60, "TEST"), held))

        runs = [start(), start()]
        for _ in range(turns):
            await asyncio.sleep(0)
        runs += [start(), start()]
        for _ in range(10):
            await asyncio.sleep(0)
        early = [r.exception() for r in runs if r.done()]
        release.set()
        results = await asyncio.gather(*runs, return_exceptions=True)
        await pool.close()
        return early + results

    outcomes = run_alone(burst())
    assert not any(isinstance(o, Busy) for o in outcomes), outcomes
    assert outcomes[-4:] == ["done"] * 4


def test_one_more_than_the_line_is_busy() -> None:
    async def overflow() -> list[Any]:
        pool, release = WorkPool(threads=1, waiting=1, name="test"), threading.Event()
        work = [pool.run(never_disconnects, Work("plan", 60, "TEST"), lambda check: release.wait(60)) for _ in range(3)]
        runs = [asyncio.ensure_future(w) for w in work]
        for _ in range(10):
            await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(*runs, return_exceptions=True)
        await pool.close()
        return results

    results = run_alone(overflow())
    assert sum(isinstance(r, Busy) for r in results) == 1, results
