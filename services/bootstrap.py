"""Composition root: turns Settings into the adapters every service uses."""
from __future__ import annotations

from urllib.parse import urlparse

from shared.adapters.stores import open_store
from shared.config import Settings


def open_log(settings: Settings, topic: str | None = None):
    parsed = urlparse(settings.log_url)
    if parsed.scheme == "kafka":
        from shared.adapters.kafka_log import KafkaLog

        return KafkaLog(parsed.netloc, topic or settings.topic, settings.partitions)
    from shared.adapters.embedded_log import EmbeddedLog

    return EmbeddedLog(parsed.path, topic or settings.topic, settings.partitions)


# The article topic keeps every article for good: `storyline reextract` re-derives events from
# it, so it is the fact the events are a reading of. Deliberately not compacted: it is keyed by
# story (an article and its events share a partition, hence an order), and compaction would keep
# one article per story. Bodies are large, so the producer compresses (gzip, in kafka-python
# without extra packages) and a record may be up to 8 MiB (shared/adapters/kafka_log.py).
ARTICLE_TOPIC_CONFIGS = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1",
                         "compression.type": "producer"}


def article_topic(settings: Settings) -> str:
    return settings.topic + ".articles"


def open_article_log(settings: Settings):
    """The article topic (article_received), partitioned like the events topic. Embedded: the
    same SQLite log file, another topic."""
    parsed = urlparse(settings.log_url)
    if parsed.scheme == "kafka":
        from shared.adapters.kafka_log import KafkaLog

        return KafkaLog(parsed.netloc, article_topic(settings), settings.partitions,
                        topic_configs=ARTICLE_TOPIC_CONFIGS, compression="gzip")
    return open_log(settings, article_topic(settings))


def open_outbox(settings: Settings):
    """Ingest's durable queue in front of the log; one file per instance, shared by its workers."""
    from shared.adapters.sqlite_outbox import SqliteOutbox

    return SqliteOutbox(settings.data_dir)


def dead_letter_topic(settings: Settings) -> str:
    return settings.topic + ".dlq"


def open_dead_letter_log(settings: Settings):
    """Where the projector sets aside what it cannot apply; same partitioning as the main log."""
    return open_log(settings, dead_letter_topic(settings))


def open_projector(settings: Settings, log=None, store=None):
    from services.timeline.projector import Projector

    return Projector(log or open_log(settings), store if store is not None else open_store(settings.store_url),
                     settings.group, dead_letters=open_dead_letter_log(settings),
                     pipelined=urlparse(settings.store_url).scheme == "mongodb")


__all__ = ["open_log", "open_article_log", "article_topic", "open_outbox", "open_store", "open_dead_letter_log", "open_projector", "Settings"]
