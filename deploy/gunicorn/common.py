"""Gunicorn settings both HTTP services share; each service's conf file adds its app and port."""

import glob
import os
import tempfile

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = 30
# SIGTERM: workers stop accepting, finish the requests in flight (up to this long), then exit.
graceful_timeout = 30
keepalive = 5
# The apps write one JSON access line per request (with its request id); gunicorn's would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Heartbeat files on tmpfs: avoids worker stalls on slow container filesystems.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def bind_from_env(default_port: int) -> str:
    return os.environ.get("GUNICORN_BIND", f"0.0.0.0:{default_port}")


def json_logging(service: str) -> dict:
    """gunicorn's own lines (boot, worker exits, timeouts) as the same JSON lines as the app's."""
    level = os.environ.get("STORYLINE_LOG_LEVEL", "INFO").upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
        "handlers": {"json": {"()": "shared.logs.json_handler", "service": service}},
    }


def on_starting(server):
    # Prometheus multiprocess mode: every worker writes its samples to files in this directory
    # and /metrics merges them. It must be set before a worker imports prometheus_client, and
    # emptied at start, or the counters of an earlier run would be added in again.
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="storyline-metrics-")
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path


def child_exit(server, worker):
    # A dead worker's live gauges must leave the merged view; its counters stay counted.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    # Runs in the worker after its last request: close the app's event log, so the Kafka
    # producer delivers whatever it still buffers before the process goes.
    app = getattr(worker, "wsgi", None)
    event_log = getattr(app, "extensions", {}).get("storyline.log")
    if event_log is not None:
        event_log.close()
        server.log.info("worker %s closed its event log", worker.pid)
