"""At most MALLOC_ARENAS glibc malloc arenas for the process, unless MALLOC_ARENA_MAX says otherwise.

glibc gives threads that allocate at once arenas of their own, up to eight per core, and memory freed in
one arena is not reused by another: the server's threads (the shared pool, the plan and simulation
workers, the workflow executor) left that much more memory held. With every cap full at once the server's
process tree peaked at 451-483 MB, and at 384-397 MB with two arenas (`python -m bench --only caps`, twice
each way, MALLOC_ARENA_MAX=2 in the environment), on an instance of 512 MB. Set through mallopt when the
app is imported, so every start command (make run, Docker, Render, the tests) gets it, and in the
environment that its child processes inherit; a no-op where the C library is not glibc.
"""

import contextlib
import ctypes
import ctypes.util
import os

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's malloc.h


def limit_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Whether the limit was set (False: MALLOC_ARENA_MAX is set, which glibc obeys, or no glibc)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    # The workflow workers and the studies' child processes are part of the instance's memory too: glibc
    # reads this when each of them starts.
    os.environ["MALLOC_ARENA_MAX"] = str(arenas)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    return False
