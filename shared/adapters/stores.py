"""Opening the read-model store a URL names: SQLite (file:///dir, the embedded default),
MongoDB (mongodb://host:port/db) or memory: (tests). Each is one object serving both ports
of shared/ports.py (ProjectionStore, ReadStore) and ingest's ArticleIndex."""

from __future__ import annotations

import os
import sqlite3
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from shared.ports import StoreUnavailable

LEGACY_DIR = "storyline"  # what litemongo (the embedded store before SQLite) kept under the store directory


class LegacyStore(RuntimeError):
    """An embedded store from before the native SQLite one, with nothing projected yet."""


def unavailable_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "the store cannot be reached right now" (the HTTP layer answers 503)."""
    from pymongo.errors import ConnectionFailure

    # ConnectionFailure covers AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError;
    # OperationalError is SQLite's "database is locked" / "unable to open".
    return (ConnectionFailure, StoreUnavailable, sqlite3.OperationalError)


def legacy_data(directory: str) -> str | None:
    """The old litemongo directory inside `directory`, if one is there."""
    path = os.path.join(directory, LEGACY_DIR)
    return path if os.path.isdir(path) else None


def open_store(url: str, allow_legacy: bool = False):
    parsed = urlparse(url)
    if parsed.scheme == "mongodb":
        from shared.adapters.mongo_store import MongoStore, open_database

        return MongoStore(open_database(url))
    if parsed.scheme == "memory":
        from shared.adapters.memory_store import MemoryStore

        return MemoryStore()
    if parsed.scheme == "file":
        from shared.adapters.sqlite_store import SqliteStore

        store = SqliteStore(parsed.path)
        old = legacy_data(parsed.path)
        if old and not allow_legacy and not store.has_projected():
            raise LegacyStore(
                f"{old} holds a store written by an older Storyline (litemongo); the store is now native SQLite. "
                "Run `storyline rebuild` once to fill it from the log, which holds every event; nothing is lost."
            )
        return store
    raise ValueError(f"unsupported store url {url!r}")


def retire_legacy_data(url: str) -> str | None:
    """After a rebuild filled the new store: move the litemongo directory aside (not deleted)."""
    parsed = urlparse(url)
    old = legacy_data(parsed.path) if parsed.scheme == "file" else None
    if old is None:
        return None
    kept = old + ".litemongo-old"
    os.replace(old, kept)
    return kept


if TYPE_CHECKING:  # mypy holds every adapter to every port it serves (make lint)
    from shared.adapters.memory_store import MemoryStore
    from shared.adapters.mongo_store import MongoStore
    from shared.adapters.sqlite_store import SqliteStore
    from shared.ports import ArticleIndex, ProjectionStore, ReadStore

    def _adapters_satisfy_the_ports(sqlite: SqliteStore, mongo: MongoStore, memory: MemoryStore) -> None:
        writers: list[ProjectionStore] = [sqlite, mongo, memory]
        readers: list[ReadStore] = [sqlite, mongo, memory]
        articles: list[ArticleIndex] = [sqlite, mongo, memory]
        del writers, readers, articles
