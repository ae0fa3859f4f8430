"""Projection store: a pymongo-compatible Database, real (MongoDB wire) or embedded (litemongo).

Both speak the pymongo API, so the projection and the read model have one code path.
"""
from __future__ import annotations

import os
from urllib.parse import urlparse


def unavailable_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "the store cannot be reached right now" (the HTTP layer answers 503)."""
    from pymongo.errors import ConnectionFailure

    return (ConnectionFailure,)  # covers AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError


def open_store(url: str):
    parsed = urlparse(url)
    if parsed.scheme == "mongodb":
        import pymongo

        # retryWrites=false: MongoDB-wire servers without replica sets reject retryable writes.
        # Short server selection: with the store away a request fails in ~2 s with a clear
        # error (the services answer 503) instead of hanging; the projector retries with backoff.
        client = pymongo.MongoClient(url, retryWrites=False, serverSelectionTimeoutMS=2000, connectTimeoutMS=3000,
                                     socketTimeoutMS=30000,
                                     tz_aware=False, appname="storyline")
        return client.get_default_database("storyline")
    if parsed.scheme == "file":
        import litemongo

        _share_sqlite_connections_across_threads()

        path = parsed.path
        os.makedirs(path, exist_ok=True)
        return litemongo.connect(path)["storyline"]
    raise ValueError(f"unsupported store url {url!r}")


def _share_sqlite_connections_across_threads() -> None:
    """litemongo guards each collection with its own read/write lock but opens SQLite with
    the default same-thread check, which breaks the threaded servers; lift only that check."""
    import sqlite3
    import threading
    import types

    from litemongo import sqlite_store

    if getattr(sqlite_store.sqlite3, "_storyline_shim", False):
        return
    shim = types.SimpleNamespace(**{k: getattr(sqlite3, k) for k in dir(sqlite3) if not k.startswith("__")})
    shim.connect = lambda *a, **kw: sqlite3.connect(*a, **{"check_same_thread": False, "timeout": 30, **kw})
    shim._storyline_shim = True
    sqlite_store.sqlite3 = shim
    # Two threads touching a collection for the first time both create its file record and
    # the second fails (UNIQUE constraint failed: info.key); open collections one at a time.
    opening = threading.Lock()
    first_open = sqlite_store.DatabaseStore.__getitem__

    def _getitem(self, col_name):
        with opening:
            return first_open(self, col_name)

    sqlite_store.DatabaseStore.__getitem__ = _getitem
