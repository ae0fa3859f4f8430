"""The store reads of live updates and feeds, in one place, through the read port (ReadView).

The projection position per partition (from the tracking records), and event documents
whose `change_offset` (shared/domain/read_model.py) is at or after a position.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from services.query import reads
from services.query.changes import Position
from services.query.grouped import GroupedStories
from shared.domain.timeline import Filters
from shared.ports import ReadStore, ReadView

_EVERY_ENTRY = Filters(include_retracted=True)


class ChangeReads:
    def __init__(self, store: ReadStore, group: str, topic: str, kept: GroupedStories | None = None):
        self.store, self.group, self.topic = store, group, topic
        self.kept = kept  # the app's grouped stories, shared with the timeline endpoints

    def view(self) -> AbstractContextManager[ReadView]:
        return self.store.view()

    def horizon(self, view: ReadView) -> Position:
        """Per partition, the next offset the projector has not fully applied (its tracking
        record is written with the whole batch, so everything below it is in place)."""
        prefix = f"{self.group}:{self.topic}:"
        out: Position = {}
        for key, offset in view.freshness().positions.items():
            if key.startswith(prefix) and key[len(prefix) :].isdigit():
                out[int(key[len(prefix) :])] = int(offset)
        return out

    def changed_docs(self, view: ReadView, since: Position, partitions, stories=None) -> list[dict]:
        """Event documents with a change at or after `since` in `partitions` (of `stories` if given)."""
        if stories is not None:
            floor = min((since.get(p, 0) for p in partitions), default=0)
            docs: list[dict] = []
            for story_id in sorted(stories):
                docs += view.changes_since(story_id, floor - 1)  # the port reads "after", not "at or after"
            return docs
        return view.changed_since({p: since.get(p, 0) for p in partitions})

    def entries_by_id(self, view: ReadView, story_id: str) -> dict[str, dict]:
        """The story's entries exactly as the timeline endpoint builds them, retracted ones included."""
        entries = reads.entries(view, story_id, _EVERY_ENTRY, self.kept)
        return {e["entry_id"]: e for e in (x.to_dict() for x in entries)}

    def story_exists(self, view: ReadView, story_id: str) -> dict | None:
        return reads.story(view, story_id)
