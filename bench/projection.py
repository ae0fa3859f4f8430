"""Projection throughput against the configured log and store, in one run on the same data.

Each round publishes N fresh events, then measures, on those same events:
  raw consume     reading them from the log (no decoding, no writes);
  raw bulk write  the projection's own upserts of the same documents into a collection
                  with the same indexes (no decoding, no summaries, no tracking);
  projection      the live projector's loop, end to end;
  rebuild         `storyline rebuild`'s code over the whole log so far.
The ratio projection / min(raw consume, raw bulk write) is taken per round and the median
printed, because the machine's noise moves all rates together within a round.

Usage: STORYLINE_LOG=... STORYLINE_STORE=... python bench/projection.py [N] [ROUNDS]
"""
from __future__ import annotations

import copy
import os
import statistics
import sys
import time
import uuid

from pymongo import UpdateOne

from shared.domain import events, read_model
from services.bootstrap import open_log, open_projector, open_store
from shared.config import Settings
from shared.ports import Record
from services.timeline.projection import Projection
from services.timeline.rebuild import rebuild


def template() -> dict:
    return {
        "event_id": "x" * 32, "event_type": "allegation_made", "schema_version": events.SCHEMA_VERSION, "story_id": "s",
        "occurred_at": "2025-01-02", "occurred_precision": "day", "published_at": "2025-01-03T00:00:00Z",
        "recorded_at": events.utcnow_iso(), "actor": {"name": "Jane Doe", "kind": "person"}, "target": None,
        "quote": "a quote", "summary": "Jane Doe alleged something", "details": {},
        "source": {"article_id": "a", "url": "https://x.test/a", "outlet": "o", "title": "t",
                   "sentence": "Jane Doe alleged something.", "char_start": 0, "char_end": 27},
        "extractor": {"version": "bench", "confidence": 0.5}}


def synthetic(run: str, n: int, stories: int = 200) -> list[dict]:
    base, out = template(), []
    for i in range(n):
        e = copy.deepcopy(base)
        e["event_id"] = f"{run}{i:024d}"
        e["story_id"] = f"story-{i % stories}"
        out.append(e)
    return out


def one_round(settings: Settings, log, db, n: int) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    evs = synthetic(run, n)
    t = time.perf_counter()
    for i in range(0, n, 1000):
        log.publish([Record(e["story_id"], events.encode(e)) for e in evs[i:i + 1000]])
    rates = {"publish": n / (time.perf_counter() - t)}

    consumer = log.consumer(f"raw-{run}")
    got, t = 0, time.perf_counter()
    while got < n:
        got += len(consumer.poll(max_records=2000, timeout_ms=2000))
    rates["raw_consume"] = got / (time.perf_counter() - t)
    consumer.close()

    # Same work as the projection's event write: the same upserts into the same collection
    # (same indexes, same size so far), under other ids that are deleted afterwards.
    target = read_model.current(db).events
    Projection(db, settings.group).ensure_indexes()
    docs = []
    for i, e in enumerate(evs):  # the documents the projection writes, fields and all
        d = dict(e, event_id="raw-" + e["event_id"],
                 log={"partition": i % settings.partitions, "offset": i, "timestamp_ms": 0})
        docs.append(dict(d, sort=read_model.sort_key(d), entry_id=read_model.entry_id_for(d),
                         status="active", history=[]))
    t = time.perf_counter()
    for i in range(0, n, 200):
        target.bulk_write([UpdateOne({"_id": d["event_id"]}, {"$setOnInsert": d}, upsert=True)
                           for d in docs[i:i + 200]], ordered=True)
    rates["raw_bulk_write"] = n / (time.perf_counter() - t)
    for i in range(0, n, 500):
        target.delete_many({"_id": {"$in": [d["event_id"] for d in docs[i:i + 500]]}})

    projector = open_projector(settings, log, db)
    projector.projection.ensure_indexes()
    target = projector.applied + n
    t = time.perf_counter()
    while projector.applied < target:
        projector.step(timeout_ms=2000)
    projector.flush()
    rates["projection"] = n / (time.perf_counter() - t)
    projector.consumer.close()
    rates["ratio"] = rates["projection"] / min(rates["raw_consume"], rates["raw_bulk_write"])
    return rates


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    run = uuid.uuid4().hex[:8]
    settings = Settings.from_env(dict(os.environ, STORYLINE_TOPIC=f"bench.{run}", STORYLINE_GROUP=f"bench-{run}"))
    log, db = open_log(settings), open_store(settings.store_url)
    print(f"events/round={n} rounds={rounds} log={settings.log_url} store={settings.store_url}")
    results = []
    for r in range(rounds):
        rates = one_round(settings, log, db, n)
        results.append(rates)
        print(f"round {r + 1}: " + "  ".join(f"{k} {v:,.2f}" if k == "ratio" else f"{k} {v:,.0f}/s"
                                             for k, v in rates.items()), flush=True)
    for k in ("publish", "raw_consume", "raw_bulk_write", "projection"):
        print(f"{k:>15}: {statistics.median(r[k] for r in results):10,.0f} events/s (median)")
    print(f"{'ratio':>15}: {statistics.median(r['ratio'] for r in results):10.2f}  "
          f"(median of per-round projection / min(raw consume, raw bulk write))")

    total = n * rounds
    result = rebuild(log, db, settings.group, batch_size=2000, drop_after_s=0)
    print(f"{'rebuild':>15}: {result.events:,} events in {result.seconds:.1f} s = "
          f"{result.events / result.seconds:,.0f} events/s; at that rate 1,000,000 events take "
          f"{1_000_000 / (result.events / result.seconds) / 60:.1f} min")
    assert result.events == total, (result.events, total)
    log.close()


if __name__ == "__main__":
    main()
