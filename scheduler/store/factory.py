"""open_store: the store a setting names (TASKPILOT_STORE, TASKPILOT_DATABASE)."""

import sqlite3

from scheduler.store.base import Store
from scheduler.store.memory import MemoryStore
from scheduler.store.sqlite import SqliteStore


def open_store(kind: str, path: str) -> Store:
    """`memory`, or `sqlite` on a file (its folder is created) or on ':memory:' (gone with the process). A file
    that cannot be opened stops start-up with its path and the reason."""
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        try:
            return SqliteStore(path)
        except (sqlite3.Error, OSError) as exc:
            raise RuntimeError(f"cannot open the workflow database {path} (TASKPILOT_DATABASE): {exc}") from exc
    raise ValueError(f"unknown store {kind!r}; known: memory, sqlite")
