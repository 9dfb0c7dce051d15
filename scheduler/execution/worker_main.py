"""The loop of a worker process: receive a task, run its kind, send back the outcome; until the pipe closes.

Workers ignore SIGINT and SIGTERM: a Ctrl-C or a SIGTERM sent to the whole process group (uvicorn's, a
container's stop) is for the executor, which lets running tasks finish within its grace period and kills the
workers itself. A worker whose executor died without a word sees the pipe close and exits.
"""

import ctypes
import os
import signal
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

import orjson

from scheduler.execution.builtin_kinds import load_kinds
from scheduler.execution.footprint import rapl_joules, rapl_read, rapl_zones
from scheduler.execution.kinds import MAX_RESULT_CHARS, TaskContext, run_kind

PR_SET_PDEATHSIG = 1


def serve(conn: Connection, module: str | None, nice: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent()
    if nice:
        os.nice(nice)  # ECO workers: a lower CPU priority, so FAST work goes first on a busy machine
    load_kinds(module)
    zones = rapl_zones()
    while True:
        try:
            ticket, kind, params, context = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send((ticket, *run_one(kind, params, context, zones)))
        except (BrokenPipeError, OSError):
            return


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when its parent (the fork server, which exits with the service) dies, so a
    service killed with -9 leaves no task running on: the next start runs it again, and only that run counts."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def run_one(kind: str, params: dict[str, Any], context: TaskContext, zones: list[Any]) -> tuple[Any, ...]:
    """(outcome, error kinds, error text, result, runtime_s, cpu_energy_j) of one run."""
    energy_before = rapl_read(zones) if zones else None
    started = time.perf_counter()
    try:
        result = run_kind(kind, params, context)
        outcome: tuple[Any, ...] = ("succeeded", [], None, kept(result))
    except Exception as exc:  # the task's own error is its outcome, whatever it is
        kinds = [cls.__name__ for cls in type(exc).__mro__ if cls not in (object, BaseException)]
        text = f"{type(exc).__name__}: {exc}"[:1000]
        outcome = ("failed", kinds, text, {"traceback": traceback.format_exc(limit=-3)[-MAX_RESULT_CHARS:]})
    runtime = time.perf_counter() - started
    energy = rapl_joules(energy_before, rapl_read(zones)) if zones else None
    return (*outcome, runtime, energy)


def kept(result: Any) -> dict[str, Any] | None:
    """A kind's return value as the store keeps it: small JSON, or a note saying why it was not kept."""
    if result is None:
        return None
    try:
        text = orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    except TypeError as exc:
        return {"note": f"result not kept: not JSON ({exc})"}
    if len(text) > MAX_RESULT_CHARS:
        return {"note": f"result not kept: {len(text)} bytes of JSON, more than {MAX_RESULT_CHARS}"}
    value = orjson.loads(text)
    return value if isinstance(value, dict) else {"value": value}
