"""Configuration from the environment, validated once at start."""
from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse


class ConfigError(ValueError):
    """A bad environment variable; the message names it."""


def _int(env, name: str, default: int, lo: int = 1, hi: int = 65535) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value} is outside {lo}..{hi}")
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: str
    log_url: str
    store_url: str
    topic: str
    partitions: int
    group: str
    ingest_port: int
    query_port: int
    max_body_bytes: int

    @classmethod
    def from_env(cls, env=None) -> "Settings":
        env = os.environ if env is None else env
        data_dir = os.path.abspath(env.get("STORYLINE_DATA_DIR", ".storyline"))
        log_url = env.get("STORYLINE_LOG", "embedded")
        store_url = env.get("STORYLINE_STORE", "embedded")
        if urlparse(log_url).scheme not in ("embedded", "file", "kafka", ""):
            raise ConfigError(f"STORYLINE_LOG={log_url!r}: use 'embedded', 'file:///dir' or 'kafka://host:port'")
        if log_url == "embedded":
            log_url = "file://" + os.path.join(data_dir, "log")
        if store_url == "embedded":
            store_url = "file://" + os.path.join(data_dir, "store")
        if urlparse(store_url).scheme not in ("file", "mongodb"):
            raise ConfigError(f"STORYLINE_STORE={store_url!r}: use 'embedded', 'file:///dir' or 'mongodb://host:port/db'")
        return cls(
            data_dir=data_dir,
            log_url=log_url,
            store_url=store_url,
            topic=env.get("STORYLINE_TOPIC", "storyline.events"),
            partitions=_int(env, "STORYLINE_PARTITIONS", 6, 1, 1000),
            group=env.get("STORYLINE_GROUP", "storyline-timeline"),
            ingest_port=_int(env, "STORYLINE_INGEST_PORT", 8001),
            query_port=_int(env, "STORYLINE_QUERY_PORT", 8002),
            max_body_bytes=_int(env, "STORYLINE_MAX_BODY_BYTES", 1 << 20, 1024, 1 << 30),
        )
