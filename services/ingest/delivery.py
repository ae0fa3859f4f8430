"""Hand records to the outbox and tell the client whether the log has them yet.

Articles and corrections both go this way, so a story's events reach the log in the order
ingest accepted them, whatever the state of the broker.
"""

from __future__ import annotations

import time
from dataclasses import replace

from flask import current_app

from shared.logs import current_request_id
from shared.ports import Record

PUBLISH_WAIT_S = 1.0  # how long a request waits for the log's acknowledgement before answering 'queued'
# A cluster below min.insync.replicas still answers metadata requests but acknowledges no write:
# records this old in the outbox say the log is not taking them, whatever a ping says.
STUCK_S = 10.0


def queue(records: list[Record]) -> list[int]:
    """Store the records durably in one transaction (raises OutboxUnavailable) and wake the relay."""
    rid = current_request_id()
    if rid:  # whatever a request wrote can be followed into the projector's logs
        records = [
            r if r.headers.get("request_id") else replace(r, headers={**r.headers, "request_id": rid}) for r in records
        ]
    seqs = current_app.extensions["storyline.outbox"].add(records)
    current_app.extensions["storyline.relay"].wake.set()
    return seqs


def await_publication(seqs: list[int]) -> str:
    """'published' once the log acknowledged every record, else 'queued' (kept in the outbox,
    published when the log is back)."""
    outbox = current_app.extensions["storyline.outbox"]
    _, oldest = outbox.backlog()
    if oldest is not None and oldest > PUBLISH_WAIT_S:
        return "queued"  # older records are stuck already: the log is away, do not hold the client
    deadline = time.monotonic() + PUBLISH_WAIT_S
    while outbox.unsent(seqs):
        if time.monotonic() >= deadline:
            return "queued"
        time.sleep(0.01)
    return "published"


def readiness(outbox, event_log) -> dict:
    """The log's state and the outbox depth, for /readyz: 'degraded' while the log is away
    (articles are still accepted and queued)."""
    queued, oldest = outbox.backlog()
    body = {
        "log": "reachable",
        "outbox": {"queued": queued, "oldest_age_s": None if oldest is None else round(oldest, 3)},
    }
    try:
        event_log.ping()
    except Exception as exc:
        body.update(status="degraded", log=f"unreachable: {type(exc).__name__}")
    else:
        if oldest is not None and oldest > STUCK_S:
            body.update(status="degraded", log=f"not acknowledging: the oldest queued record waits {oldest:.0f}s")
    return body
