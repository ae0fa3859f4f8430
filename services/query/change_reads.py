"""The store reads of live updates and feeds, in one place (to move onto the read port).

Plain finds only: the tracking records, and event documents by partition (or story) whose
`change_offset` (shared/domain/read_model.py) is at or after a position.
"""
from __future__ import annotations

from shared.domain import read_model
from services.query.changes import Position
from services.query.reads import Reads
from shared.domain.timeline import Filters

_CHANGE_FIELDS = {"_id": 0, "story_id": 1, "event_id": 1, "entry_id": 1, "recorded_at": 1, "log": 1, "history": 1}
_EVERY_ENTRY = Filters(include_retracted=True)


class ChangeReads:
    def __init__(self, reads: Reads, group: str, topic: str):
        self.reads, self.group, self.topic = reads, group, topic
        self._indexed: set[int] = set()

    def collections(self) -> read_model.Collections:
        c = self.reads.collections()
        if c.generation not in self._indexed:  # idempotent; a race only repeats a no-op
            c.events.create_index([("log.partition", 1), ("change_offset", 1)])
            self._indexed.add(c.generation)
        return c

    def horizon(self, c: read_model.Collections) -> Position:
        """Per partition, the next offset the projector has not fully applied (its tracking
        record is written after the whole batch, so everything below it is in place)."""
        prefix = f"{self.group}:{self.topic}:"
        out: Position = {}
        for d in c.tracking.find({}):
            key = str(d["_id"])
            if key.startswith(prefix) and key[len(prefix):].isdigit():
                out[int(key[len(prefix):])] = int(d.get("next_offset", 0))
        return out

    def changed_docs(self, c: read_model.Collections, since: Position, partitions, stories=None) -> list[dict]:
        """Event documents with a change at or after `since` in `partitions` (of `stories` if given)."""
        docs: list[dict] = []
        if stories is not None:
            floor = min((since.get(p, 0) for p in partitions), default=0)
            docs += c.events.find({"story_id": {"$in": sorted(stories)}, "change_offset": {"$gte": floor}},
                                  _CHANGE_FIELDS)
            return docs
        for p in partitions:
            docs += c.events.find({"log.partition": p, "change_offset": {"$gte": since.get(p, 0)}}, _CHANGE_FIELDS)
        return docs

    def entries_by_id(self, c: read_model.Collections, story_id: str) -> dict[str, dict]:
        """The story's entries exactly as the timeline endpoint builds them, retracted ones included."""
        return {e["entry_id"]: e for e in (x.to_dict() for x in self.reads.entries(c, story_id, _EVERY_ENTRY))}

    def story_exists(self, c: read_model.Collections, story_id: str) -> dict | None:
        return self.reads.story(c, story_id)
