"""Gunicorn settings for the ingest service (services.ingest.wsgi:app)."""

import os

wsgi_app = "services.ingest.wsgi:app"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8001")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Heartbeat files on tmpfs: avoids worker stalls on slow container filesystems.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
