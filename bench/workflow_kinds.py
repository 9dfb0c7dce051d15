"""Task kinds of the workflow benchmarks (TASKPILOT_TASK_MODULE names this module in their executors, whose
worker processes import it): a no-op, and `mark`, which appends its task and attempt to a file (the crash
benchmark counts the lines to find tasks that ran twice)."""

import os
import time
from typing import Any

from scheduler.execution.kinds import Param, TaskContext, task_kind

MODULE = "bench.workflow_kinds"


@task_kind("noop", {}, "Does nothing: what the executor and the store cost per task, in a worker process.")
def noop(params: dict[str, Any], context: TaskContext) -> None:
    return None


@task_kind(
    "mark", {"path": Param(str, "the file a line is appended to", "", max_length=500), "busy_ms": Param(float, "CPU time", 0.0, 0, 1000)}
)
def mark(params: dict[str, Any], context: TaskContext) -> None:
    until = time.perf_counter() + params["busy_ms"] / 1000.0
    while time.perf_counter() < until:  # a task that takes a little CPU, so many are in flight at the kill
        pass
    fd = os.open(params["path"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{context.task} {context.attempt}\n".encode())  # one small O_APPEND write: lines never interleave
    finally:
        os.close(fd)
