"""until(condition, what): the benchmarks' one way to wait for a condition, with a deadline, so that a run
that never gets there (a dead runner, a stuck executor) fails naming what it waited for instead of hanging
`make bench`. The deadline is not a measure of speed: the benchmarks time their work themselves."""

import time
from collections.abc import Callable
from typing import Any

DEADLINE_S = 600.0


def until(condition: Callable[[], Any], what: str, poll_s: float = 0.01, timeout_s: float = DEADLINE_S) -> Any:
    """condition()'s first truthy value, polled every poll_s; RuntimeError naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"benchmark: {what} did not happen within {timeout_s:g} s")
        time.sleep(poll_s)
    return value
