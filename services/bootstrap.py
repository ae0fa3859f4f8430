"""The composition root: Settings in, one typed set of components out, one start, one stop.

`storyline serve`, `storyline project`, the gunicorn wsgi modules, the tests and the
benchmarks all build their parts here; the Flask app factories only assemble what they are
given and start nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from shared.adapters.stores import open_store
from shared.config import Settings
from shared.ports import EventLog, Outbox

if TYPE_CHECKING:
    from flask import Flask

    from services.ingest.relay import Relay
    from services.timeline.health import ProjectorMonitor
    from services.timeline.projector import Projector

log = logging.getLogger("storyline")


def open_log(settings: Settings, topic: str | None = None) -> EventLog:
    parsed = urlparse(settings.log_url)
    if parsed.scheme == "kafka":
        from shared.adapters.kafka_log import KafkaLog

        return KafkaLog(
            parsed.netloc,
            topic or settings.topic,
            settings.partitions,
            replication_factor=settings.replication_factor,
            min_insync_replicas=settings.min_insync_replicas,
        )
    from shared.adapters.embedded_log import EmbeddedLog

    return EmbeddedLog(parsed.path, topic or settings.topic, settings.partitions)


# The article topic keeps every article for good: `storyline reextract` re-derives events from
# it, so it is the fact the events are a reading of. Deliberately not compacted: it is keyed by
# story (an article and its events share a partition, hence an order), and compaction would keep
# one article per story. Bodies are large, so the producer compresses (gzip, in kafka-python
# without extra packages) and a record may be up to 8 MiB (shared/adapters/kafka_log.py).
ARTICLE_TOPIC_CONFIGS = {
    "cleanup.policy": "delete",
    "retention.ms": "-1",
    "retention.bytes": "-1",
    "compression.type": "producer",
}


def article_topic(settings: Settings) -> str:
    return settings.topic + ".articles"


def open_article_log(settings: Settings) -> EventLog:
    """The article topic (article_received), partitioned like the events topic. Embedded: the
    same SQLite log file, another topic."""
    parsed = urlparse(settings.log_url)
    if parsed.scheme == "kafka":
        from shared.adapters.kafka_log import KafkaLog

        return KafkaLog(
            parsed.netloc,
            article_topic(settings),
            settings.partitions,
            replication_factor=settings.replication_factor,
            min_insync_replicas=settings.min_insync_replicas,
            topic_configs=ARTICLE_TOPIC_CONFIGS,
            compression="gzip",
        )
    return open_log(settings, article_topic(settings))


def open_outbox(settings: Settings) -> Outbox:
    """Ingest's durable queue in front of the log; one file per instance, shared by its workers."""
    from shared.adapters.sqlite_outbox import SqliteOutbox

    return SqliteOutbox(settings.data_dir)


def dead_letter_topic(settings: Settings) -> str:
    return settings.topic + ".dlq"


def open_dead_letter_log(settings: Settings) -> EventLog:
    """Where the projector sets aside what it cannot apply; same partitioning as the main log."""
    return open_log(settings, dead_letter_topic(settings))


def open_projector(settings: Settings, log: EventLog | None = None, store: Any = None) -> Projector:
    from services.timeline.projector import Projector

    return Projector(
        log or open_log(settings),
        store if store is not None else open_store(settings.store_url),
        settings.group,
        dead_letters=open_dead_letter_log(settings),
    )


ROLES = ("ingest", "projector", "query")


@dataclass
class Components:
    """What one process runs. Build with `build`; `start()` starts the threads (relay,
    projector, its monitor), `stop()` stops them in order and closes every adapter."""

    settings: Settings
    log: EventLog | None
    store: Any  # one object serving ProjectionStore, ReadStore and ArticleIndex (shared/adapters/stores.py)
    outbox: Outbox | None = None
    article_log: EventLog | None = None  # the article topic ingest records article_received on
    relay: Relay | None = None
    projector: Projector | None = None
    monitor: ProjectorMonitor | None = None
    projector_port: int | None = None
    _threads: list[Any] = field(default_factory=list)
    _ingest: Flask | None = None
    _query: Flask | None = None

    def ingest_app(self) -> Flask:
        if self._ingest is None:
            from services.ingest.app import create_app

            assert self.outbox is not None and self.relay is not None and self.log is not None, "no ingest role"
            self._ingest = create_app(
                self.settings,
                log=self.log,
                store=self.store,
                outbox=self.outbox,
                relay=self.relay,
                article_log=self.article_log,
            )
        return self._ingest

    def query_app(self) -> Flask:
        if self._query is None:
            from services.query.app import create_app

            self._query = create_app(self.settings, store=self.store)
        return self._query

    def start(self, monitor_host: str = "0.0.0.0") -> Components:
        import threading

        if self.relay is not None:
            self.relay.start()
        if self.projector is not None:
            if self.monitor is not None:
                self.projector_port = self.monitor.start(self.settings.projector_port, host=monitor_host)
            t = threading.Thread(target=self.projector.run, name="projector", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, drain_s: float = 0.0) -> None:
        """The query app's live poller first (its open streams end; it reads the store), then the
        projector (it finishes and commits its batch, leaves the group), then the relay
        (publishing what the outbox still holds for up to `drain_s`), then every adapter."""
        if self._query is not None:
            self._query.extensions["storyline.live"].stop()
        if self.projector is not None:
            self.projector.stop()
            for t in self._threads:
                t.join(timeout=15)
            if self.monitor is not None:
                self.monitor.stop()
            if self.projector.dead_letters is not None:
                self.projector.dead_letters.close()
        if self.relay is not None:
            self.relay.stop(drain_s=drain_s)
        if self.outbox is not None:
            self.outbox.close()
        if self.article_log is not None:
            self.article_log.close()
        if self.log is not None:
            self.log.close()
        self.store.close()


def build(
    settings: Settings, roles: tuple[str, ...] = ROLES, store: Any = None, allow_legacy_store: bool = False
) -> Components:
    """The components for `roles` (any of ingest, projector, query), sharing one log and one store."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    event_log = open_log(settings) if {"ingest", "projector"} & set(roles) else None
    if store is None:
        store = open_store(settings.store_url, allow_legacy=allow_legacy_store)
    parts = Components(settings, event_log, store)
    if "ingest" in roles:
        from services.ingest.relay import Relay
        from shared.observability import InstrumentedLog

        assert event_log is not None
        parts.outbox = open_outbox(settings)
        # the relay publishes through the instrumented log the ingest app reports on
        parts.log = InstrumentedLog(event_log)
        parts.article_log = open_article_log(settings)
        parts.relay = Relay(parts.outbox, parts.log, routes={article_topic(settings): parts.article_log})
    if "projector" in roles:
        from services.timeline.health import ProjectorMonitor

        assert event_log is not None
        parts.projector = open_projector(settings, event_log, store)
        parts.monitor = ProjectorMonitor(parts.projector, event_log, store, settings.group, settings.lag_interval_s)
    return parts


__all__ = [
    "Components",
    "build",
    "open_log",
    "open_article_log",
    "article_topic",
    "open_outbox",
    "open_store",
    "open_dead_letter_log",
    "open_projector",
    "Settings",
]
