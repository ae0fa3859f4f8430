"""Durable outbox: records accepted by ingest, kept in one SQLite file until the log acknowledges them.

Every gunicorn worker of one ingest instance opens the same file (WAL, so readers never wait
for the writer; BEGIN IMMEDIATE, so two workers never interleave one article's records).
Sequence numbers come from AUTOINCREMENT: never reused, so outbox order is arrival order even
across restarts. The relay lease is an advisory lock on a side file: the kernel drops it when
the holding process dies, so a killed worker never blocks relaying.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time

from shared.ports import OutboxUnavailable, Queued, Record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL, value BLOB NOT NULL, headers TEXT NOT NULL, queued_at INTEGER NOT NULL,
  topic TEXT NOT NULL DEFAULT '');
"""


class SqliteOutbox:
    def __init__(self, directory: str):
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, "outbox.sqlite3")
        self._lease_path = os.path.join(directory, "outbox.lease")
        self._lease_fd: int | None = None
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a 202 means the records survive a power cut
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        if "topic" not in columns:  # an outbox file from before the article topic: its records are events
            self._db.execute("ALTER TABLE outbox ADD COLUMN topic TEXT NOT NULL DEFAULT ''")

    def _write(self, sql: str, rows) -> list[int]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seqs = [self._db.execute(sql, row).lastrowid for row in rows]
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return seqs

    def add(self, records: list[Record]) -> list[int]:
        now = int(time.time() * 1000)
        try:
            return self._write(
                "INSERT INTO outbox (key, value, headers, queued_at, topic) VALUES (?,?,?,?,?)",
                [(r.key, r.value, json.dumps(r.headers), now, r.topic) for r in records],
            )
        except sqlite3.Error as exc:  # disk full, locked beyond the timeout, unreadable file
            raise OutboxUnavailable(f"outbox {self.path}: {exc}") from exc

    def pending(self, limit: int) -> list[Queued]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, key, value, headers, topic FROM outbox ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [
            Queued(seq, Record(key, bytes(value), json.loads(headers), topic))
            for seq, key, value, headers, topic in rows
        ]

    def mark_sent(self, seqs: list[int]) -> None:
        if seqs:
            self._write("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])

    def unsent(self, seqs: list[int]) -> int:
        if not seqs:
            return 0
        with self._lock:
            (n,) = self._db.execute(
                "SELECT COUNT(*) FROM outbox WHERE seq BETWEEN ? AND ?", (min(seqs), max(seqs))
            ).fetchone()
        return n

    def backlog(self) -> tuple[int, float | None]:
        with self._lock:
            n, oldest = self._db.execute("SELECT COUNT(*), MIN(queued_at) FROM outbox").fetchone()
        return n, (None if oldest is None else max(time.time() - oldest / 1000, 0.0))

    def try_lease(self) -> bool:
        with self._lock:
            if self._lease_fd is not None:
                return True
            fd = os.open(self._lease_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._lease_fd = fd
            return True

    def release_lease(self) -> None:
        with self._lock:
            if self._lease_fd is not None:
                os.close(self._lease_fd)  # closing the descriptor drops the lock
                self._lease_fd = None

    def close(self) -> None:
        self.release_lease()
        with self._lock:
            self._db.close()
