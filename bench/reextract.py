"""`storyline reextract` over N stored articles (default 5,000), against bare extraction.

Stores N articles the way ingest does (an `article_received` on the article topic, the events
of extractor version A on the events topic, keyed by story), built from the bodies of the
shared sample corpus and our own test articles, cycled with distinct ids and 100 stories.
Storing them runs the extractor over all N in batches (`extract_many`, one spaCy pipe per 32):
that time is the bare extraction rate of this run, on the same texts. Then, in one process:

  reextract B    STORYLINE_EXTRACTOR_VARIANT=test-drop-rebuttals: a new reading for every
                 article whose events change (those with a rebuttal)
  reextract B'   the same again: nothing changes, nothing is published

Prints articles/s of each, its ratio to the bare rate, the share of its own time spent inside
the extractor (measured within the same run, so machine noise does not move it as much as the
ratio), and each run's JSON summary.
Asserts nothing. Usage: STORYLINE_LOG=... python -m bench.reextract [N]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid

from tqdm import tqdm

from bench.extraction import load_articles
from services.bootstrap import open_article_log, open_log
from services.ingest import reextract, service
from services.ingest.extractor_variant import ENV as VARIANT
from shared.config import Settings

BATCH = 32


def store(n: int, settings: Settings) -> tuple[float, int]:
    """Publish N articles and their version-A events; returns (seconds extracting, events)."""
    sources = load_articles()
    article_log, event_log = open_article_log(settings), open_log(settings)
    extracting, n_events = 0.0, 0
    try:
        with tqdm(total=n, unit="art", desc="store (extract A)", file=sys.stderr) as bar:
            for i in range(0, n, BATCH):
                batch = []
                for j in range(i, min(n, i + BATCH)):
                    a = sources[j % len(sources)]
                    batch.append(
                        {
                            "id": f"bench-{j:06d}",
                            "story_id": f"bench-story-{j % 100:03d}",
                            "url": f"https://bench.test/{j}",
                            "outlet": "Bench",
                            "title": a["title"],
                            "body": a["body"],
                            "published_at": a["published"],
                        }
                    )
                t = time.perf_counter()
                found = service.findings_for_many(batch)
                extracting += time.perf_counter() - t
                articles, evs = [], []
                for art, findings in zip(batch, found):
                    recorded = "2026-01-01T00:00:00.000Z"
                    received = service.article_received(art, art["story_id"], "", recorded)
                    articles.append(service.article_record(received, article_log.topic))
                    evs += [
                        service.event_record(e) for e in service.envelopes(art, findings, art["story_id"], recorded)
                    ]
                article_log.publish(articles)
                event_log.publish(evs)
                n_events += len(evs)
                bar.update(len(batch))
    finally:
        article_log.close()
        event_log.close()
    return extracting, n_events


def run(settings: Settings, label: str) -> reextract.Summary:
    article_log, event_log = open_article_log(settings), open_log(settings)
    try:
        with tqdm(unit="art", desc=label, file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            return reextract.reextract(article_log, event_log, settings.data_dir, progress=progress)
    finally:
        article_log.close()
        event_log.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    run_id = uuid.uuid4().hex[:8]
    env = dict(os.environ, STORYLINE_TOPIC=f"bench.reextract.{run_id}")
    env.setdefault("STORYLINE_DATA_DIR", tempfile.mkdtemp(prefix="bench-reextract-"))
    settings = Settings.from_env(env)
    os.environ.pop(VARIANT, None)
    service.findings_for_many(
        [{"title": "Warm up", "body": "A said B lied.", "published_at": load_articles()[0]["published"]}]
    )  # load spaCy outside the timings
    extract_s, n_events = store(n, settings)
    bare = n / extract_s
    os.environ[VARIANT] = "test-drop-rebuttals"
    try:
        first = run(settings, "reextract B")
        second = run(settings, "reextract B again")
    finally:
        os.environ.pop(VARIANT, None)
    print(f"log {settings.log_url}, {n} articles, {n_events} version-A events")
    print(f"bare extraction (extract_many, batches of {BATCH}) {bare:8.1f} articles/s ({extract_s:.1f} s)")
    for label, s in (("reextract B", first), ("reextract B again", second)):
        print(
            f"{label:<18} {s.articles_per_s:8.1f} articles/s ({s.seconds:.1f} s)  ratio to bare "
            f"{s.articles_per_s / bare:.2f}; extraction {s.extract_seconds / s.seconds:.0%} of its own time"
        )
        print("  " + json.dumps(s.as_json()))


if __name__ == "__main__":
    main()
