"""open_store: the store a setting names (TASKPILOT_STORE, TASKPILOT_DATABASE)."""

from scheduler.store.base import Store
from scheduler.store.memory import MemoryStore
from scheduler.store.sqlite import SqliteStore


def open_store(kind: str, path: str) -> Store:
    """`memory`, or `sqlite` on a file (its folder is created) or on ':memory:' (gone with the process)."""
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SqliteStore(path)
    raise ValueError(f"unknown store {kind!r}; known: memory, sqlite")
