"""Huey's side of the workflow throughput benchmark: a SqliteHuey on a file and its real consumer.

`consumer_command(DB, N, WORKERS, SYNC)` runs the consumer (thread workers, no periodic
tasks) in a process of its own, prints `ready`, and `done F` once N tasks ended (counted by Huey's own
SIGNAL_COMPLETE and SIGNAL_ERROR; F of them failed). The benchmark enqueues from its own process, as a Huey producer does. SYNC is SQLite's
synchronous setting on every Huey connection: `default` is Huey's own (FULL: an fsync per commit), `normal`
is TaskPilot's (WAL without an fsync per commit; what a process crash cannot undo), set by a storage subclass.
"""

import sys
import threading
from typing import Any

from huey import SqliteHuey
from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR
from huey.storage import SqliteStorage

BUSY_S = 60.0
"""Huey's busy timeout (its default is 5 s): on two shared cores, with fsyncs, a 5 s wait for the lock does
happen, and the task then fails with 'database is locked'."""


class NormalSyncStorage(SqliteStorage):
    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn


def make_huey(path: str, sync: str) -> tuple[SqliteHuey, Any]:
    """The Huey and its no-op task (calling the task enqueues it), the same in the producer and the consumer."""
    storage = NormalSyncStorage if sync == "normal" else SqliteStorage
    huey = SqliteHuey("bench", filename=path, results=False, storage_class=storage, timeout=BUSY_S)
    return huey, huey.task(name="noop")(noop)


def noop() -> None:
    return None


def consume(path: str, n: int, workers: int, sync: str) -> None:
    huey, _ = make_huey(path, sync)
    ended, failed, lock = [0], [0], threading.Lock()

    @huey.signal(SIGNAL_COMPLETE, SIGNAL_ERROR)
    def completed(signal: str, task: Any, *args: Any, **kwargs: Any) -> None:
        with lock:
            ended[0] += 1
            failed[0] += signal == SIGNAL_ERROR
            if ended[0] == n:
                print(f"done {failed[0]}", flush=True)

    # The consumer's idle polling starts at 1 ms (Huey's default is 100 ms, growing to 10 s): the queue is
    # never idle for long in this benchmark, and a long first poll would only add a constant to its time.
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=False, initial_delay=0.001, max_delay=0.01)
    print("ready", flush=True)
    consumer.run()


def consumer_command(path: str, n: int, workers: int, sync: str) -> list[str]:
    """The consumer's command line. It imports this module by name (not `-m`, which would make it __main__):
    Huey names a task after its function's module, which must be the producer's."""
    return [sys.executable, "-c", f"from bench.huey_queue import consume; consume({path!r}, {n}, {workers}, {sync!r})"]
