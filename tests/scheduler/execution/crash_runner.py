"""A TaskPilot executor in a process of its own, for the crash test: `python -m tests.scheduler.execution.crash_runner
DB DIR [submit]`. It runs on the SQLite file DB until SIGTERM (then stops gracefully, with a long grace);
with `submit`, it first submits the crash test's workflow (DIR holds the files its tasks use)."""

import signal
import sys
import threading
from pathlib import Path

from scheduler.execution.clock import WallClock
from scheduler.execution.executor import Executor, ExecutorConfig
from scheduler.store.sqlite import SqliteStore
from tests.scheduler.execution.helpers import TEST_KINDS, submit


def workflow(folder: Path) -> dict[str, object]:
    return {"name": "crash test", "tasks": [
        {"id": "done", "kind": "record", "params": {"path": str(folder / "done.log")}},
        {"id": "gate", "kind": "gate", "params": {"path": str(folder / "open")}, "depends_on": ["done"]},
        {"id": "later", "kind": "record", "params": {"path": str(folder / "later.log")}, "depends_on": ["gate"]},
        {"id": "deferred", "kind": "sleep", "params": {"seconds": 0}},
        {"id": "retrying", "kind": "fail", "retries": {"max_attempts": 3, "backoff_s": 3600, "jitter": False}},
    ]}  # fmt: skip


def main(db: str, folder: str, mode: str = "run") -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    executor = Executor(SqliteStore(db), WallClock(), ExecutorConfig({"fast": 2, "eco": 1}, task_module=TEST_KINDS, grace_s=120.0))
    executor.start()
    if mode == "submit":
        submit(executor, workflow(Path(folder)), delays_h={"deferred": 10.0}, scale=1.0)
    print("ready", flush=True)
    while not stop.wait(0.05):  # a timeout, so the main thread runs the handler whichever thread the signal reached
        pass
    print("stopping", flush=True)
    executor.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
