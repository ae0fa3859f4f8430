"""Composition root: turns Settings into the adapters every service uses."""
from __future__ import annotations

from urllib.parse import urlparse

from shared.adapters.stores import open_store
from shared.config import Settings


def open_log(settings: Settings, topic: str | None = None):
    parsed = urlparse(settings.log_url)
    if parsed.scheme == "kafka":
        from shared.adapters.kafka_log import KafkaLog

        return KafkaLog(parsed.netloc, topic or settings.topic, settings.partitions,
                        replication_factor=settings.replication_factor, min_insync_replicas=settings.min_insync_replicas)
    from shared.adapters.embedded_log import EmbeddedLog

    return EmbeddedLog(parsed.path, topic or settings.topic, settings.partitions)


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


__all__ = ["open_log", "open_outbox", "open_store", "open_dead_letter_log", "open_projector", "Settings"]
