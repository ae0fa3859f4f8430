"""Projection store: a pymongo-compatible Database, real (MongoDB wire) or embedded (litemongo).

Both speak the pymongo API, so the projection and the read model have one code path.
"""
from __future__ import annotations

import inspect
import os
import threading
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
        return _Serialised(litemongo.connect(path)["storyline"], threading.RLock())
    raise ValueError(f"unsupported store url {url!r}")


def _share_sqlite_connections_across_threads() -> None:
    """litemongo guards each collection with its own read/write lock but opens SQLite with
    the default same-thread check, which breaks the threaded servers; lift only that check."""
    import sqlite3
    import types

    from litemongo import sqlite_store

    if getattr(sqlite_store.sqlite3, "_storyline_shim", False):
        return
    shim = types.SimpleNamespace(**{k: getattr(sqlite3, k) for k in dir(sqlite3) if not k.startswith("__")})
    shim.connect = lambda *a, **kw: sqlite3.connect(*a, **{"check_same_thread": False, "timeout": 30, **kw})
    shim._storyline_shim = True
    sqlite_store.sqlite3 = shim


class _Serialised:
    """One lock around every call into the embedded store.

    litemongo (mongomock over SQLite) is not safe when threads share it: concurrent reads
    and writes raised "Recursive use of cursors" and could crash the interpreter. The
    embedded default serves one machine, so one call at a time costs little. Collections
    and cursors it hands out are wrapped too; a cursor is read whole inside the lock."""

    def __init__(self, inner, lock):
        self._inner = inner
        self._lock = lock

    def __getitem__(self, name):
        with self._lock:
            return _Serialised(self._inner[name], self._lock)

    def __getattr__(self, name):
        with self._lock:
            attr = getattr(self._inner, name)
        if not inspect.isroutine(attr):  # a sub-collection or a plain value
            return _wrap(attr, self._lock)

        def call(*args, **kwargs):
            with self._lock:
                return _wrap(attr(*args, **kwargs), self._lock)
        return call

    def __iter__(self):
        with self._lock:
            items = list(self._inner)
        return iter(items)

    def __next__(self):
        with self._lock:
            return next(self._inner)


def _wrap(value, lock):
    if type(value).__module__.startswith("litemongo."):
        return _Serialised(value, lock)
    return value
