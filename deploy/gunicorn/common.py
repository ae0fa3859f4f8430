"""Gunicorn settings both HTTP services share; each service's conf file adds its app and port."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Heartbeat files on tmpfs: avoids worker stalls on slow container filesystems.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def bind_from_env(default_port: int) -> str:
    return os.environ.get("GUNICORN_BIND", f"0.0.0.0:{default_port}")
