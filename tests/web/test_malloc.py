"""web.malloc: the server's threads share at most MALLOC_ARENAS glibc arenas (counted by glibc's own
malloc_stats in a fresh interpreter whose threads allocate at once), its child processes inherit the limit,
and MALLOC_ARENA_MAX still wins."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from web.malloc import MALLOC_ARENAS

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc arenas: Linux only")

# Threads that allocate and free at the same time, held together by a barrier so that each asks malloc
# for memory while the others hold their arenas; then glibc lists its arenas on stderr.
PROGRAM = r"""
import ctypes, sys, threading
if sys.argv[1] == "limit":
    from web.malloc import limit_arenas
    assert limit_arenas() == (sys.argv[2] == "expect-set")
    import os
    assert os.environ["MALLOC_ARENA_MAX"] in ("1", "2")  # what child processes inherit
barrier = threading.Barrier(16)
def churn():
    barrier.wait()
    for _ in range(200):
        blocks = [bytearray(2048) for _ in range(100)]
        del blocks
    barrier.wait()
threads = [threading.Thread(target=churn) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL("libc.so.6").malloc_stats()
"""


def arenas(*args: str, env: dict[str, str] | None = None) -> int:
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | (env or {})
    done = subprocess.run([sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, env=environ, timeout=120, check=True)
    return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


def test_threads_share_at_most_the_limit_of_arenas() -> None:
    unlimited = arenas("none")
    if unlimited <= MALLOC_ARENAS:
        pytest.skip(f"glibc made only {unlimited} arenas for 16 threads here without a limit: nothing to show")
    assert arenas("limit", "expect-set") <= MALLOC_ARENAS < unlimited


def test_the_environment_wins() -> None:
    assert arenas("limit", "expect-unset", env={"MALLOC_ARENA_MAX": "1"}) == 1
