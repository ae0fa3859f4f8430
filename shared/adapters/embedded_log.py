"""Embedded event log: a durable, partitioned, append-only log in one SQLite file.

It keeps Kafka's semantics that the services rely on: records keyed to partitions,
offsets per partition, committed positions per consumer group. One process may hold a
group at a time; scaling out is what the Kafka adapter is for.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import zlib

import orjson

from shared.ports import Message, PartitionLag, Record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
  key TEXT, value BLOB NOT NULL, headers TEXT NOT NULL, ts INTEGER NOT NULL,
  PRIMARY KEY (topic, partition, offset));
CREATE TABLE IF NOT EXISTS group_offsets (
  grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
  PRIMARY KEY (grp, topic, partition));
"""


def partition_for(key: str, partitions: int) -> int:
    return zlib.crc32(key.encode()) % partitions


class EmbeddedLog:
    def __init__(self, directory: str, topic: str, partitions: int):
        os.makedirs(directory, exist_ok=True)
        self.topic = topic
        self.partitions = partitions
        self._path = os.path.join(directory, "log.sqlite3")
        self._lock = threading.Lock()
        self._db = self._connect()
        with self._db:
            self._db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path, timeout=30, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    def publish(self, records: list[Record]) -> None:
        now = int(time.time() * 1000)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for rec in records:
                    p = partition_for(rec.key, self.partitions)
                    (nxt,) = self._db.execute(
                        "SELECT COALESCE(MAX(offset) + 1, 0) FROM records WHERE topic=? AND partition=?",
                        (self.topic, p),
                    ).fetchone()
                    self._db.execute(
                        "INSERT INTO records VALUES (?,?,?,?,?,?,?)",
                        (self.topic, p, nxt, rec.key, rec.value, json.dumps(rec.headers), now),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def deliver(self, records: list[Record]) -> list[bool]:
        self.publish(records)  # one transaction: all acknowledged or an exception
        return [True] * len(records)

    def consumer(self, group: str) -> "EmbeddedConsumer":
        return EmbeddedConsumer(self, group)

    def end_offsets(self) -> dict[int, int]:
        rows = self._db.execute(
            "SELECT partition, MAX(offset) + 1 FROM records WHERE topic=? GROUP BY partition", (self.topic,)
        ).fetchall()
        return {p: 0 for p in range(self.partitions)} | {p: n for p, n in rows}

    def read(self, start="beginning", page: int = 2000):
        ends = self.end_offsets()
        db = self._connect()
        try:
            for p in range(self.partitions):
                if isinstance(start, dict):
                    pos = start.get(p, 0)
                elif isinstance(start, int):
                    row = db.execute(
                        "SELECT MIN(offset) FROM records WHERE topic=? AND partition=? AND ts>=?",
                        (self.topic, p, start),
                    ).fetchone()
                    pos = ends[p] if row[0] is None else row[0]
                else:
                    pos = 0
                while pos < ends[p]:
                    rows = db.execute(
                        "SELECT offset, key, value, headers, ts FROM records WHERE topic=? AND "
                        "partition=? AND offset>=? AND offset<? ORDER BY offset LIMIT ?",
                        (self.topic, p, pos, ends[p], page),
                    ).fetchall()
                    if not rows:
                        break
                    for off, key, value, headers, ts in rows:
                        yield Message(self.topic, p, off, key, bytes(value), ts, orjson.loads(headers))
                    pos = rows[-1][0] + 1
        finally:
            db.close()

    def lag(self, group: str) -> dict[tuple[str, int], PartitionLag]:
        with self._lock:  # the connection is shared with publish, which holds a transaction open
            ends = self.end_offsets()
            committed = dict(
                self._db.execute(
                    "SELECT partition, offset FROM group_offsets WHERE grp=? AND topic=?", (group, self.topic)
                ).fetchall()
            )
        out = {}
        for p in range(self.partitions):
            end, done = ends.get(p, 0), committed.get(p)
            out[(self.topic, p)] = PartitionLag(end, done, max(end - (done or 0), 0))
        return out

    def ping(self) -> None:
        self._db.execute("SELECT 1").fetchone()

    def close(self) -> None:
        self._db.close()


class EmbeddedConsumer:
    def __init__(self, log: EmbeddedLog, group: str):
        self._log = log
        self._group = group
        self._db = log._connect()
        self._positions: dict[tuple[str, int], int] = {}
        for p in range(log.partitions):
            row = self._db.execute(
                "SELECT offset FROM group_offsets WHERE grp=? AND topic=? AND partition=?", (group, log.topic, p)
            ).fetchone()
            self._positions[(log.topic, p)] = row[0] if row else 0

    def assignment(self) -> set[tuple[str, int]]:
        return set(self._positions)

    def poll(self, max_records: int = 500, timeout_ms: int = 1000) -> list[Message]:
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            out: list[Message] = []
            for (topic, p), pos in sorted(self._positions.items()):
                rows = self._db.execute(
                    "SELECT offset, key, value, headers, ts FROM records WHERE topic=? AND partition=? AND offset>=?"
                    " ORDER BY offset LIMIT ?",
                    (topic, p, pos, max_records - len(out)),
                ).fetchall()
                for off, key, value, headers, ts in rows:
                    out.append(Message(topic, p, off, key, bytes(value), ts, orjson.loads(headers)))
                if rows:
                    self._positions[(topic, p)] = rows[-1][0] + 1
                if len(out) >= max_records:
                    break
            if out or time.monotonic() >= deadline:
                return out
            time.sleep(0.05)

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._positions[(topic, partition)] = offset

    def commit(self, positions: dict[tuple[str, int], int]) -> None:
        with self._log._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for (topic, p), off in positions.items():
                self._db.execute("INSERT OR REPLACE INTO group_offsets VALUES (?,?,?,?)", (self._group, topic, p, off))
            self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
