"""Configuration from the environment, validated once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from urllib.parse import urlparse

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


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


def _seconds(env, name: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value} is outside {lo}..{hi}")
    return value


@dataclass(frozen=True)
class LiveSettings:
    """Server-Sent Events of the query service (services/query/live.py)."""

    heartbeat_s: float = 15.0  # a comment line this often keeps proxies from closing an idle stream
    max_stream_s: float = 300.0  # then the stream ends and the client reconnects with Last-Event-ID
    max_clients: int = 200  # open streams per process; more get 503 with Retry-After
    poll_s: float = 0.25  # how often the process looks for newly projected changes

    @classmethod
    def from_env(cls, env) -> "LiveSettings":
        return cls(
            heartbeat_s=_seconds(env, "STORYLINE_SSE_HEARTBEAT_SECONDS", 15.0, 0.1, 3600),
            max_stream_s=_seconds(env, "STORYLINE_SSE_MAX_STREAM_SECONDS", 300.0, 0.1, 86400),
            max_clients=_int(env, "STORYLINE_SSE_MAX_CLIENTS", 200, 1, 100000),
            poll_s=_seconds(env, "STORYLINE_SSE_POLL_SECONDS", 0.25, 0.01, 60),
        )


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
    api_keys: tuple[str, ...] = ()
    projector_port: int = 8003
    lag_interval_s: int = 5
    log_level: str = "INFO"
    live: LiveSettings = LiveSettings()
    # copies of each partition, and how many must hold a write before acks=all succeeds
    replication_factor: int = 1
    min_insync_replicas: int = 1

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
            raise ConfigError(
                f"STORYLINE_STORE={store_url!r}: use 'embedded', 'file:///dir' or 'mongodb://host:port/db'"
            )
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
            api_keys=_api_keys(env),
            # 0 lets the system pick a free port (several projectors on one machine)
            projector_port=_int(env, "STORYLINE_PROJECTOR_PORT", 8003, 0),
            lag_interval_s=_int(env, "STORYLINE_LAG_INTERVAL_SECONDS", 5, 1, 3600),
            log_level=_log_level(env),
            live=LiveSettings.from_env(env),
            **_replication(env),
        )

    def with_api_keys(self, keys: tuple[str, ...]) -> "Settings":
        return replace(self, api_keys=keys)


def _replication(env) -> dict:
    factor = _int(env, "STORYLINE_REPLICATION_FACTOR", 1, 1, 32)
    min_isr = _int(env, "STORYLINE_MIN_INSYNC_REPLICAS", 1, 1, 32)
    if min_isr > factor:
        raise ConfigError(
            f"STORYLINE_MIN_INSYNC_REPLICAS={min_isr} is more than STORYLINE_REPLICATION_FACTOR={factor}: "
            "no write could ever be acknowledged"
        )
    return {"replication_factor": factor, "min_insync_replicas": min_isr}


def _log_level(env) -> str:
    level = env.get("STORYLINE_LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"STORYLINE_LOG_LEVEL={level!r}: use one of {', '.join(LOG_LEVELS)}")
    return level


def _api_keys(env) -> tuple[str, ...]:
    """Several keys may be valid at once, so a key can be rotated without downtime."""
    keys = [k.strip() for k in env.get("STORYLINE_API_KEYS", "").split(",")]
    path = env.get("STORYLINE_API_KEYS_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                keys += [line.strip() for line in fh if line.strip() and not line.startswith("#")]
        except OSError as exc:
            raise ConfigError(f"STORYLINE_API_KEYS_FILE={path!r}: {exc.strerror}") from None
    keys = [k for k in keys if k]
    short = [k for k in keys if len(k) < 16]
    if short:
        raise ConfigError("STORYLINE_API_KEYS: every key needs at least 16 characters")
    return tuple(dict.fromkeys(keys))
