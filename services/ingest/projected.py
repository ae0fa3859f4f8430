"""Would a new reading of a known article change the timeline? Ingest asks the read model.

A re-posted article gets its current reading as one `reading_replaced` (services/ingest/
service.py). When the text gives the same events as the reading the projection holds, that
event changes nothing: the projection plans nothing for it (shared.domain.readings.plan) and
only the log grows. So before queueing one, ingest runs the projection's own plan against the
article's stored documents, and leaves the reading out when the plan is empty.

The stored documents are only a sound answer when the projection has applied everything the
log holds for the story: otherwise a different reading may be on its way (posted a moment
ago, still in this instance's outbox or in the log ahead of the projector), and leaving this
one out would let that older text win. So an empty plan counts only when this instance's
outbox is empty and the projector's tracking record for the story's partition has reached the
partition's end. Whenever it cannot tell (lagging, the store or the log away), the reading is
published, as before: a redundant reading is harmless, a missing one is not.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.domain import events, read_model, readings
from shared.ports import EventLog, EventQuery, Outbox

log = logging.getLogger(__name__)


def _document(ev: dict[str, Any]) -> dict[str, Any]:
    """What plan() needs of a (rewritten) document: its sort key and entry id."""
    return {**ev, "sort": read_model.sort_key(ev), "entry_id": read_model.entry_id_for(ev)}


class ProjectedReadings:
    """Ingest's view of the projection, for one question (see the module docstring)."""

    def __init__(self, store: Any, event_log: EventLog, outbox: Outbox, group: str, topic: str):
        self.store, self.log, self.outbox, self.group, self.topic = store, event_log, outbox, group, topic

    def would_change(self, reading: dict[str, Any]) -> bool:
        """False only when the projection is caught up with the story and applying `reading`
        (a `reading_replaced` envelope) would change none of its documents."""
        try:
            return self._would_change(events.decode(events.encode(reading)))
        except Exception:  # cannot tell: publishing it is the safe side
            log.warning("could not compare a reading with the projection; publishing it", exc_info=True)
            return True

    def _would_change(self, reading: dict[str, Any]) -> bool:
        article = reading["details"]["article_id"]
        # In this order: how far the projection had applied, then its documents (as far at
        # least), then the log's end. An end no further than the applied position means the
        # documents read hold everything the log had for the story.
        with self.store.view() as view:
            applied_at = view.freshness().positions
            query = EventQuery(include_retracted=True, include_superseded=True)
            stored = [
                d
                for d in view.events(reading["story_id"], query)
                if (d.get("source") or {}).get("article_id") == article
            ]
        if not stored:
            return True
        partitions = {d["log"]["partition"] for d in stored}
        if len(partitions) != 1 or self.outbox.backlog()[0]:
            return True  # (one story is one partition; the outbox may hold another reading of it)
        (partition,) = partitions
        applied = applied_at.get(read_model.tracking_key(self.group, self.topic, partition), 0)
        if self.log.end_offsets().get(partition, 0) > applied:
            return True  # the projector has not applied all the story's log yet
        return not readings.plan(stored, reading, _document).empty
