"""The SQLite store's connection machinery: its transactions and its checkpointer (scheduler.store.sqlite).

Under WAL with synchronous=NORMAL a commit is written to the WAL before it returns, without an fsync: a
process killed with -9 loses nothing it committed (the OS has the pages); a power cut may lose the last
commits. That is the promise: nothing lost on a crash of the process.
"""

import contextlib
import sqlite3
import threading
from types import TracebackType

CHECKPOINT_S = 0.5
"""How often the checkpointer copies committed WAL frames into the database file."""


class Transaction:
    """`with store.transaction():` BEGIN IMMEDIATE .. COMMIT (ROLLBACK on an error) around the outermost one,
    under the connection's lock (which its other calls take too); inner ones join it. A class rather than a
    generator: the executor opens one per pass, and a generator's context manager costs several times more."""

    __slots__ = ("_db", "_lock", "_depth")

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db, self._lock, self._depth = db, lock, 0

    def __enter__(self) -> None:
        self._lock.acquire()
        if self._depth == 0:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._lock.release()
                raise
        self._depth += 1

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        try:
            self._depth -= 1
            if self._depth == 0:
                if kind is None:
                    try:
                        self._db.execute("COMMIT")
                    except BaseException:
                        self._db.execute("ROLLBACK")
                        raise
                else:
                    self._db.execute("ROLLBACK")
        finally:
            self._lock.release()


class Checkpointer(threading.Thread):
    """Copies committed WAL frames into the database file on a connection and thread of its own (a PASSIVE
    checkpoint: it never blocks a writer or a reader). SQLite's automatic checkpoint would run inside whichever
    commit crossed 1,000 WAL pages, with its two fsyncs, and that commit would wait for them; here no commit
    does. Durability does not change: a commit is in the WAL before it returns either way."""

    def __init__(self, path: str) -> None:
        super().__init__(name="taskpilot-checkpoint", daemon=True)
        self.path = path
        self.halt = threading.Event()

    def run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        try:
            while not self.halt.wait(CHECKPOINT_S):
                with contextlib.suppress(sqlite3.Error):  # busy now: the next round copies what this one could not
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()
