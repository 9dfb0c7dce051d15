"""Who is running what: each executor registers itself as a runner (host, pid, the process's start time),
and every attempt records its runner. At start-up, and every few seconds after, an executor takes back the
running tasks of runners that are gone (a process killed with -9 leaves its tasks `running` in the store):
they are queued again, their interrupted attempt counted. Tasks of a runner that is still alive are never
touched, so several processes may share one database.

A runner on this host is alive while its pid exists with the same start time (a reused pid has another);
one on another host while its heartbeat is recent.
"""

import os
import socket
import time
import uuid
from pathlib import Path

from scheduler.store.base import RunnerRecord

STALE_S = 60.0
"""A runner on another host whose heartbeat is older than this is taken to be gone."""


def process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (/proc/PID/stat, field 22), '' when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def this_process() -> RunnerRecord:
    pid = os.getpid()
    return RunnerRecord(uuid.uuid4().hex[:12], socket.gethostname(), pid, process_start(pid), time.time())


def alive(runner: RunnerRecord, now: float | None = None) -> bool:
    if runner.host != socket.gethostname():
        return (now if now is not None else time.time()) - runner.heartbeat < STALE_S
    if not runner.started:  # no /proc when it registered: all we can ask is whether the pid exists
        try:
            os.kill(runner.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return process_start(runner.pid) == runner.started
