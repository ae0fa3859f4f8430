"""Re-extraction: derive every stored article's events again with the current extractor and
publish a new reading where they changed (shared.domain.readings).

The articles come from the article topic (`article_received`), the current readings from the
events topic, both read without a consumer group, so ingest and the projector keep working
meanwhile. An article re-posted or re-extracted while this runs gets a reading from the same
text and extractor, so whichever lands last, the projection converges on the same events.

Two passes over the article topic: the first finds each article's newest `article_received`
(an article posted twice is read once, from its latest text) and the total for the progress
bar; the second extracts them in batches (one spaCy pipe per batch) and publishes. A checkpoint
file in the data directory names, per partition, the article-topic offset below which all is
done; a stopped run started again with the same selection resumes there, and a finished run
removes it (so the next run reads everything again, and publishes nothing if nothing changed).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from services.ingest import service
from shared.domain import events, readings

BATCH = 32


@dataclass(frozen=True)
class Selection:
    story: str | None = None
    article: str | None = None
    since_ms: int | None = None  # articles received at or after this time (log timestamp)

    def admits(self, ts_ms: int, received: dict) -> bool:
        return (
            (self.since_ms is None or ts_ms >= self.since_ms)
            and (self.story is None or received["story_id"] == self.story)
            and (self.article is None or received["article_id"] == self.article)
        )


@dataclass
class Summary:
    articles_read: int = 0
    readings_published: int = 0
    events_added: int = 0
    events_removed: int = 0
    events_changed: int = 0
    articles_unchanged: int = 0
    undecodable_articles: int = 0
    extractor_version: str = ""
    dry_run: bool = False
    resumed: bool = False
    stopped: bool = False
    seconds: float = 0.0
    extract_seconds: float = 0.0  # of `seconds`, the time inside the extractor (parse and rules)
    articles_per_s: float | None = None
    diffs: list[dict] = field(default_factory=list, repr=False)

    def as_json(self) -> dict:
        out = asdict(self)
        out.pop("diffs")
        if self.dry_run:
            out["readings_to_publish"] = out.pop("readings_published")
        return out


class Checkpoint:
    """Per-partition article-topic offsets done, for one selection and extractor version."""

    def __init__(self, directory: str, topic: str, selection: Selection, version: str):
        key = hashlib.sha256(json.dumps([topic, asdict(selection), version]).encode()).hexdigest()[:16]
        self.path = os.path.join(directory, "reextract", f"{key}.json")

    def load(self) -> dict[int, int]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                return {int(p): int(o) for p, o in json.load(fh)["done"].items()}
        except FileNotFoundError:
            return {}

    def save(self, done: dict[int, int]) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"done": done}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)  # a crash leaves the old checkpoint or the new one, whole

    def clear(self) -> None:
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass


def _current(event_log, selection: Selection) -> dict[str, dict[str, dict]]:
    def decoded() -> Iterable[dict]:
        for msg in event_log.read("beginning"):
            try:
                ev = events.decode(msg.value)
            except ValueError:
                continue  # the dead-letter topic's business
            if selection.story is None or ev["story_id"] == selection.story:
                yield ev

    return readings.current_readings(list(decoded()))


def _article(received: dict) -> dict:
    """article_received -> the validated article shape the extractor and envelopes take."""
    return {
        "id": received["article_id"],
        "story_id": received["story_id"],
        "title": received["title"],
        "body": received["body"],
        "url": received["url"],
        "outlet": received["outlet"],
        "published_at": datetime.fromisoformat(received["published_at"].replace("Z", "+00:00")),
    }


def _brief(ev: dict) -> dict:
    return {
        "event_id": ev["event_id"],
        "event_type": ev["event_type"],
        "actor": ev["actor"]["name"],
        "summary": ev["summary"],
    }


def article_diff(received: dict, current: dict[str, dict], new: list[dict], d: readings.Diff) -> dict:
    """What --dry-run prints for one article."""
    by_id = {e["event_id"]: e for e in new}
    changed = []
    for eid in d.changed:
        old, now = readings.content(current[eid]), readings.content(by_id[eid])
        changed.append(
            {**_brief(by_id[eid]), "fields": sorted(k for k in set(old) | set(now) if old.get(k) != now.get(k))}
        )
    return {
        "article_id": received["article_id"],
        "story_id": received["story_id"],
        "added": [_brief(by_id[e]) for e in d.added],
        "removed": [_brief(current[e]) for e in d.removed],
        "changed": changed,
    }


def reextract(
    article_log,
    event_log,
    data_dir: str,
    selection: Selection = Selection(),
    dry_run: bool = False,
    restart: bool = False,
    progress: Callable[[int, int], None] | None = None,
    on_diff: Callable[[dict], None] | None = None,
    batch: int = BATCH,
    stop: Callable[[], bool] = lambda: False,
) -> Summary:
    started = time.monotonic()
    version = service.extractor_version()
    summary = Summary(extractor_version=version, dry_run=dry_run)
    checkpoint = Checkpoint(data_dir, article_log.topic, selection, version)
    done = {} if restart or dry_run else checkpoint.load()
    summary.resumed = bool(done)
    start: str | dict[int, int] = dict(done) if done else "beginning"

    # pass 1: the newest article_received of each selected article
    newest: dict[str, tuple[int, int]] = {}
    for msg in article_log.read(start):
        try:
            received = events.decode_article(msg.value)
        except ValueError:
            summary.undecodable_articles += 1
            continue
        if selection.admits(msg.timestamp_ms, received):
            newest[received["article_id"]] = (msg.partition, msg.offset)
    total = len(newest)
    wanted = {pos for pos in newest.values()}
    current = _current(event_log, selection)

    pending: list[dict] = []
    positions: dict[int, int] = dict(done)

    def flush() -> None:
        if not pending:
            return
        t = time.monotonic()
        found = service.findings_for_many([_article(r) for r in pending])
        summary.extract_seconds += time.monotonic() - t
        recorded_at = events.utcnow_iso()
        out = []
        for received, findings in zip(pending, found):
            new = service.envelopes(_article(received), findings, received["story_id"], recorded_at)
            now = current.get(received["article_id"], {})
            d = readings.diff(now, new)
            summary.articles_read += 1
            if d.empty:
                summary.articles_unchanged += 1
                continue
            summary.events_added += len(d.added)
            summary.events_removed += len(d.removed)
            summary.events_changed += len(d.changed)
            summary.readings_published += 1
            if on_diff:
                on_diff(article_diff(received, now, new, d))
            out.append(service.reading_of(received, new, recorded_at))
            current[received["article_id"]] = {e["event_id"]: e for e in new}
        if out and not dry_run:
            event_log.publish([service.event_record(ev) for ev in out])
        pending.clear()
        if not dry_run:
            checkpoint.save(positions)
        if progress:
            progress(summary.articles_read, total)

    # pass 2: extract, diff and publish, in log order
    for msg in article_log.read(start):
        if stop():
            summary.stopped = True
            break
        if (msg.partition, msg.offset) in wanted:
            pending.append(events.decode_article(msg.value))
        positions[msg.partition] = msg.offset + 1
        if len(pending) >= batch:
            flush()
    else:
        flush()
        if not dry_run:
            checkpoint.clear()
    summary.seconds = round(time.monotonic() - started, 3)
    summary.extract_seconds = round(summary.extract_seconds, 3)
    summary.articles_per_s = round(summary.articles_read / summary.seconds, 1) if summary.seconds else None
    return summary
