"""Composition root: turns Settings into the adapters every service uses."""
from __future__ import annotations

from urllib.parse import urlparse

from shared.adapters.stores import open_store
from shared.config import Settings


def open_log(settings: Settings):
    parsed = urlparse(settings.log_url)
    if parsed.scheme == "kafka":
        from shared.adapters.kafka_log import KafkaLog

        return KafkaLog(parsed.netloc, settings.topic, settings.partitions)
    from shared.adapters.embedded_log import EmbeddedLog

    return EmbeddedLog(parsed.path, settings.topic, settings.partitions)


def open_outbox(settings: Settings):
    """Ingest's durable queue in front of the log; one file per instance, shared by its workers."""
    from shared.adapters.sqlite_outbox import SqliteOutbox

    return SqliteOutbox(settings.data_dir)


__all__ = ["open_log", "open_outbox", "open_store", "Settings"]
