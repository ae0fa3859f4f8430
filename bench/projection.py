"""Projection throughput against the configured log and store, in one run on the same data.

Prints: raw consume rate (log only), raw bulk-write rate (store only, same upserts the
projection issues), and the projection's end-to-end events/s, with the ratio
projection / min(raw). Usage: STORYLINE_LOG=... STORYLINE_STORE=... python bench/projection.py [N]
"""
from __future__ import annotations

import copy
import sys
import time
import uuid

from pymongo import UpdateOne

from shared import events
from shared.bootstrap import open_log, open_projector, open_store
from shared.config import Settings
from shared.ports import Record


def template() -> dict:
    return {
        "event_id": "x" * 32, "event_type": "allegation_made", "schema_version": 1, "story_id": "s",
        "occurred_at": "2025-01-02", "occurred_precision": "day", "published_at": "2025-01-03T00:00:00Z",
        "recorded_at": events.utcnow_iso(), "actor": {"name": "Jane Doe", "kind": "person"}, "target": None,
        "quote": "a quote", "summary": "Jane Doe alleged something", "details": {},
        "source": {"article_id": "a", "url": "https://x.test/a", "outlet": "o", "title": "t",
                   "sentence": "Jane Doe alleged something.", "char_start": 0, "char_end": 27},
        "extractor": {"version": "bench", "confidence": 0.5}}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    run = uuid.uuid4().hex[:8]
    import os

    env = dict(os.environ, STORYLINE_TOPIC=f"bench.{run}", STORYLINE_GROUP=f"bench-{run}")
    settings = Settings.from_env(env)
    log = open_log(settings)
    base = template()
    evs = []
    for i in range(n):
        e = copy.deepcopy(base)
        e["event_id"] = f"{run}{i:024d}"
        e["story_id"] = f"story-{i % 200}"
        evs.append(e)
    t = time.perf_counter()
    for i in range(0, n, 1000):
        log.publish([Record(e["story_id"], events.encode(e)) for e in evs[i:i + 1000]])
    publish_s = time.perf_counter() - t

    consumer = log.consumer(f"raw-{run}")
    got, t = 0, time.perf_counter()
    while got < n:
        got += len(consumer.poll(max_records=500, timeout_ms=2000))
    consume_s = time.perf_counter() - t
    consumer.close()

    db = open_store(settings.store_url)
    raw = db[f"raw_{run}"]
    docs = [dict(e, sort="k") for e in evs]
    t = time.perf_counter()
    for i in range(0, n, 200):
        raw.bulk_write([UpdateOne({"_id": d["event_id"]}, {"$setOnInsert": d}, upsert=True)
                        for d in docs[i:i + 200]], ordered=True)
    write_s = time.perf_counter() - t
    raw.drop()

    projector = open_projector(settings, log, db)
    projector.projection.ensure_indexes()
    t = time.perf_counter()
    while projector.applied < n:
        projector.run_once(timeout_ms=2000)
    project_s = time.perf_counter() - t

    rates = {"publish": n / publish_s, "raw_consume": n / consume_s, "raw_bulk_write": n / write_s,
             "projection": n / project_s}
    print(f"events={n} log={settings.log_url} store={settings.store_url}")
    for k, v in rates.items():
        print(f"{k:>15}: {v:10.0f} events/s")
    ratio = rates["projection"] / min(rates["raw_consume"], rates["raw_bulk_write"])
    print(f"{'ratio':>15}: {ratio:10.2f}  (projection / min(raw consume, raw bulk write))")
    log.close()


if __name__ == "__main__":
    main()
