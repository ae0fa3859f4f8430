"""Projection throughput against the configured log and store, in one run on the same data.

Each round publishes N fresh events, then measures, on those same events:
  raw consume     reading them from the log (no decoding, no writes);
  raw write       the same documents the projection stores, written the plainest way the
                  store allows, with no decoding, summaries or tracking: SQLite, an insert
                  that skips ids already there (JSON by orjson, as the store writes it) into
                  a table with a JSON column and a (story_id, sort) index, WAL, 200 rows per
                  transaction; MongoDB, pymongo bulk inserts of 200 (unordered, the fastest
                  write the server has: an upsert is about half as fast on SecantusDB) into a
                  collection with the same index. The raw table, like the projection's, keeps
                  its rows from round to round;
  raw write batched  the same in writes of 2,000, the projector's batch size;
  projection      the live projector's loop, end to end (built at the composition root);
  decode_check    the projection's check of each event (events.decode_fast), alone;
  decode_schema   the marshmallow load it stands in for (on a tenth of the events);
  rebuild         `storyline rebuild`'s code over the whole log so far.
The ratios projection / raw write and projection / min(raw consume, raw write) are taken
per round and their medians printed, because the machine's noise moves all rates together
within a round.

Usage: STORYLINE_LOG=... STORYLINE_STORE=... python bench/projection.py [N] [ROUNDS]
"""

from __future__ import annotations

import contextlib
import copy
import os
import sqlite3
import statistics
import sys
import time
import uuid
from urllib.parse import urlparse

import orjson

from services.bootstrap import open_log, open_projector, open_store
from services.timeline.projector import tune_garbage_collector
from services.timeline.rebuild import rebuild
from shared.adapters.sqlite_store import CONNECTION_PRAGMAS
from shared.config import Settings
from shared.domain import events, read_model
from shared.ports import Record


def template() -> dict:
    return {
        "event_id": "x" * 32,
        "event_type": "allegation_made",
        "schema_version": events.SCHEMA_VERSION,
        "story_id": "s",
        "occurred_at": "2025-01-02",
        "occurred_precision": "day",
        "published_at": "2025-01-03T00:00:00Z",
        "recorded_at": events.utcnow_iso(),
        "actor": {"name": "Jane Doe", "kind": "person"},
        "target": None,
        "quote": "a quote",
        "summary": "Jane Doe alleged something",
        "details": {},
        "source": {
            "article_id": "a",
            "url": "https://x.test/a",
            "outlet": "o",
            "title": "t",
            "sentence": "Jane Doe alleged something.",
            "char_start": 0,
            "char_end": 27,
        },
        "extractor": {"version": "bench", "confidence": 0.5},
        "responds_to": [],
    }


def synthetic(run: str, n: int, stories: int = 200) -> list[dict]:
    base, out = template(), []
    for i in range(n):
        e = copy.deepcopy(base)
        e["event_id"] = f"{run}{i:024d}"
        e["story_id"] = f"story-{i % stories}"
        out.append(e)
    return out


class RawWriter:
    """The plainest write of the projection's documents into the same kind of store. Its
    table lives for the whole run, like the projection's, so each round writes both into a
    table of the same size (a fresh empty table would be faster than any real store)."""

    def __init__(self, store_url: str, per_write: int = 200):
        parsed = urlparse(store_url)
        self.sqlite, self.per_write = parsed.scheme == "file", per_write
        if self.sqlite:
            self.path = os.path.join(parsed.path, f"raw_bench_{per_write}.sqlite")
            self.db = sqlite3.connect(self.path, isolation_level=None)
            for pragma in CONNECTION_PRAGMAS:  # WAL, synchronous, cache: as the store opens its own
                self.db.execute(pragma)
            self.db.execute("DROP TABLE IF EXISTS raw")
            self.db.execute("CREATE TABLE raw (event_id TEXT PRIMARY KEY, story_id TEXT, sort TEXT, doc TEXT)")
            self.db.execute("CREATE INDEX raw_story_sort ON raw (story_id, sort)")
            return
        from shared.adapters.mongo_store import open_database

        self.coll = open_database(store_url)[f"raw_bench_{per_write}"]
        self.coll.drop()
        self.coll.create_index([("story_id", 1), ("sort", 1)])

    def write(self, docs: list[dict]) -> float:
        """events/s for these documents."""
        t, step = time.perf_counter(), self.per_write
        if self.sqlite:
            for i in range(0, len(docs), step):
                self.db.execute("BEGIN")
                self.db.executemany(
                    "INSERT INTO raw VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                    [(d["event_id"], d["story_id"], d["sort"], orjson.dumps(d).decode()) for d in docs[i : i + step]],
                )
                self.db.execute("COMMIT")
        else:
            from pymongo import InsertOne

            for i in range(0, len(docs), step):  # each round's ids are new: no duplicate to skip
                self.coll.bulk_write(
                    [InsertOne({"_id": d["event_id"], **d}) for d in docs[i : i + step]], ordered=False
                )
        return len(docs) / (time.perf_counter() - t)

    def close(self) -> None:
        if self.sqlite:
            self.db.close()
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.path + suffix)
        else:
            self.coll.drop()
            self.coll.database.client.close()


def one_round(
    settings: Settings, log, projector, raw: RawWriter, raw_batched: RawWriter, n: int, project_first: bool
) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    evs = synthetic(run, n)
    t = time.perf_counter()
    for i in range(0, n, 1000):
        log.publish([Record(e["story_id"], events.encode(e)) for e in evs[i : i + 1000]])
    rates = {"publish": n / (time.perf_counter() - t)}

    consumer = log.consumer(f"raw-{run}")
    got, t = 0, time.perf_counter()
    while got < n:
        got += len(consumer.poll(max_records=2000, timeout_ms=2000))
    rates["raw_consume"] = got / (time.perf_counter() - t)
    consumer.close()

    # The projection's check of each event against the schema's own (on a sample: it is slow).
    values = [events.encode(e) for e in evs]
    t = time.perf_counter()
    for v in values:
        events.decode_fast(v)
    rates["decode_check"] = n / (time.perf_counter() - t)
    sample = values[: max(1, n // 10)]
    t = time.perf_counter()
    for v in sample:
        events.decode(v)
    rates["decode_schema"] = len(sample) / (time.perf_counter() - t)
    docs = [read_model.event_document(e, i % settings.partitions, i, 0) for i, e in enumerate(evs)]

    def project() -> None:
        polled, t = 0, time.perf_counter()
        while polled < n:  # the round's events only: no wait on an empty log at the end
            polled += projector.step(timeout_ms=2000)
        projector.flush()
        rates["projection"] = n / (time.perf_counter() - t)

    def write_raw() -> None:
        rates["raw_write"] = raw.write(docs)
        rates["raw_write_batched"] = raw_batched.write(copy.deepcopy(docs))

    # A store may still be busy with one write (checkpoints, compaction) when the next starts,
    # so which goes first alternates from round to round.
    for step in (project, write_raw) if project_first else (write_raw, project):
        step()
    rates["ratio_write"] = rates["projection"] / rates["raw_write"]
    rates["ratio"] = rates["projection"] / min(rates["raw_consume"], rates["raw_write"])
    rates["ratio_batched"] = rates["projection"] / rates["raw_write_batched"]
    return rates


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    run = uuid.uuid4().hex[:8]
    settings = Settings.from_env(dict(os.environ, STORYLINE_TOPIC=f"bench.{run}", STORYLINE_GROUP=f"bench-{run}"))
    log, db = open_log(settings), open_store(settings.store_url)
    raw = RawWriter(settings.store_url)
    # The same plain write in transactions as large as the projector's batches: at 200 rows a
    # commit rewrites the same index pages ten times as often, which slows it as tables grow.
    raw_batched = RawWriter(settings.store_url, per_write=2000)
    tune_garbage_collector()  # as Projector.run does; this loop drives step() itself
    # One projector for the whole run, as a live one runs: it joins its group (on Kafka, a
    # rebalance) before the first round, not inside any round's timing.
    projector = open_projector(settings, log, db)
    projector.projection.ensure_indexes()
    deadline = time.monotonic() + 60
    while not projector.consumer.assignment() and time.monotonic() < deadline:
        projector.step(timeout_ms=200)
    print(f"events/round={n} rounds={rounds} log={settings.log_url} store={settings.store_url}")
    results = []
    for r in range(rounds):
        rates = one_round(settings, log, projector, raw, raw_batched, n, project_first=r % 2 == 1)
        results.append(rates)
        print(
            f"round {r + 1}: "
            + "  ".join(f"{k} {v:,.2f}" if k.startswith("ratio") else f"{k} {v:,.0f}/s" for k, v in rates.items()),
            flush=True,
        )
    for k in (
        "publish",
        "raw_consume",
        "raw_write",
        "raw_write_batched",
        "decode_check",
        "decode_schema",
        "projection",
    ):
        print(f"{k:>15}: {statistics.median(r[k] for r in results):10,.0f} events/s (median)")
    print(
        f"{'ratio_write':>15}: {statistics.median(r['ratio_write'] for r in results):10.2f}  "
        f"(median of per-round projection / raw write)"
    )
    print(
        f"{'ratio':>15}: {statistics.median(r['ratio'] for r in results):10.2f}  "
        f"(median of per-round projection / min(raw consume, raw write))"
    )
    print(
        f"{'ratio_batched':>15}: {statistics.median(r['ratio_batched'] for r in results):10.2f}  "
        f"(median of per-round projection / raw write in transactions of 2,000, the projector's batch)"
    )

    total = n * rounds
    result = rebuild(log, db, settings.group, batch_size=2000, drop_after_s=0)
    print(
        f"{'rebuild':>15}: {result.events:,} events in {result.seconds:.1f} s = "
        f"{result.events / result.seconds:,.0f} events/s; at that rate 1,000,000 events take "
        f"{1_000_000 / (result.events / result.seconds) / 60:.1f} min"
    )
    assert result.events == total, (result.events, total)
    projector.consumer.close()
    raw.close()
    raw_batched.close()
    log.close()


if __name__ == "__main__":
    main()
