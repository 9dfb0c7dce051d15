"""Task kinds only the tests register (TASKPILOT_TASK_MODULE names this module): a gate a test opens by
creating a file, a busy loop that never ends, a kind that writes a line per run, and one whose process dies."""

import os
import time
from pathlib import Path
from typing import Any

from scheduler.execution.kinds import Param, TaskContext, task_kind


@task_kind("gate", {"path": Param(str, "runs until this file exists", "", max_length=500)})
def gate(params: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    path = Path(params["path"])
    while not path.exists():
        time.sleep(0.001)  # polling a file the test creates: the task waits for the test, not for a duration
    return {"pid": os.getpid()}


@task_kind("busy", {"pidfile": Param(str, "where to write the worker's pid first", "", max_length=500)})
def busy(params: dict[str, Any], context: TaskContext) -> None:
    if params["pidfile"]:
        Path(params["pidfile"]).write_text(str(os.getpid()))
    while True:  # only a kill stops it
        pass


@task_kind("record", {"path": Param(str, "a file each run appends a line to", "", max_length=500)})
def record(params: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    with open(params["path"], "a") as f:
        f.write(f"{context.task} {context.attempt}\n")
    return {"task": context.task}


@task_kind("crash", {})
def crash(params: dict[str, Any], context: TaskContext) -> None:
    os._exit(3)  # the worker process dies under the task


@task_kind("whoami", {})
def whoami(params: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    return {"pid": os.getpid(), "nice": os.nice(0), "mode": context.mode}
