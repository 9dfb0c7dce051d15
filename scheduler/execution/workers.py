"""Worker pools: FAST and ECO, each a fixed number of slots, each slot with its own process.

A slot's process is started the first time it runs a task (a pool of sleeps never starts one) from a fork
server, so it does not inherit the service's threads or its database connection. A process that is killed (a
timeout, a cancel, a shutdown's grace run out) or dies is replaced by a fresh one the next time its slot runs
a task. ECO workers run at a lower CPU priority (nice 10).
"""

import multiprocessing
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from scheduler.execution import worker_main

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["scheduler.execution.worker_main"])  # numpy and the kinds, imported once
ECO_NICE = 10


@dataclass(eq=False)
class Slot:
    name: str  # "fast-0", "eco-1": the worker the attempts and transitions name
    pool: str
    module: str | None  # TASKPILOT_TASK_MODULE, imported by the process
    process: BaseProcess | None = None
    conn: Connection | None = None
    running: Any = None  # the executor's record of what runs here (clock tasks hold a slot with no process)
    started: int = field(default=0)  # processes started in this slot, the first included

    @property
    def free(self) -> bool:
        return self.running is None

    def send(self, message: tuple[Any, ...]) -> None:
        """Run a task in this slot's process, started (or restarted) first if it is not alive."""
        if self.process is None or not self.process.is_alive():
            self.kill()
            parent, child = _CONTEXT.Pipe()
            self.process = _CONTEXT.Process(
                target=worker_main.serve, args=(child, self.module, ECO_NICE if self.pool == "eco" else 0), name=f"taskpilot-{self.name}"
            )
            self.process.daemon = True
            self.process.start()
            child.close()
            self.conn = parent
            self.started += 1
        assert self.conn is not None
        self.conn.send(message)

    def kill(self) -> None:
        """Stop the process now (SIGKILL: a task's code gets no say), and forget it."""
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
        if self.conn is not None:
            self.conn.close()
        self.process, self.conn = None, None

    def close(self) -> None:
        """Let an idle process end by itself (its pipe closes), else kill it."""
        if self.process is not None and self.running is None and self.conn is not None:
            self.conn.close()
            self.conn = None
            self.process.join(5.0)
        self.kill()


def make_pools(sizes: dict[str, int], module: str | None) -> dict[str, list[Slot]]:
    return {pool: [Slot(f"{pool}-{i}", pool, module) for i in range(size)] for pool, size in sizes.items()}
