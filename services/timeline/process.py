"""The projector as a process of its own (`storyline project`): logs, probes, metrics, signals."""

from __future__ import annotations

import logging
import os
import signal

from shared.config import ConfigError, Settings


def run_projector(settings: Settings) -> int:
    # One process, one registry: a PROMETHEUS_MULTIPROC_DIR meant for gunicorn does not apply here
    # (prometheus_client reads it when first imported, hence before the imports below).
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from services import bootstrap
    from shared.logs import configure_logging

    configure_logging("timeline", settings.log_level)
    logger = logging.getLogger("storyline.timeline")
    parts = bootstrap.build(settings, roles=("projector",))
    projector, monitor = parts.projector, parts.monitor
    assert projector is not None and monitor is not None
    # SIGTERM (docker stop, a Kubernetes rollout): finish the batch in hand, commit, leave the group
    signal.signal(signal.SIGTERM, lambda *_: projector.stop())
    signal.signal(signal.SIGINT, lambda *_: projector.stop())
    try:
        port = monitor.start(settings.projector_port)
    except ConfigError:
        projector.consumer.close()
        raise
    logger.info(
        "projector started",
        extra={"log": settings.log_url, "topic": settings.topic, "group": settings.group, "port": port},
    )
    try:
        projector.run()  # here, in the main thread; returns after stop(): last batch committed, group left
    finally:
        parts.stop()
    logger.info(
        "projector stopped: last batch committed, consumer group left",
        extra={"group": settings.group, "applied": projector.applied},
    )
    return 0
