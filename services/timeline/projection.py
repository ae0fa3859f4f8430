"""The projection: events -> read-model documents, through the ProjectionStore port.

Exactly-once effect from at-least-once delivery:
- event documents are inserted only when new (by event_id), so a repeat never overwrites
  (a newer state only ever comes from a correction, which is guarded by its own change id);
- a tracking record per partition, written with the batch, lets a restarted projector
  skip what it applied before it could commit to the log;
- story summaries are advanced incrementally from the events a batch inserted. When a
  batch meets an event that was already there (a redelivery after a crash), the summary of
  that story is recomputed from its events instead, since on a store without transactions
  the crash may have landed between the event write and the summary write.

A `reading_replaced` (a newer reading of one article, shared.domain.readings) is applied in
the batch's order with the corrections, as one write-port operation
(ProjectionBatch.replace_reading): new events inserted, changed ones rewritten with the
replaced values kept in their history, missing ones marked superseded; then the story's
summary is recomputed.

On SQLite (and MongoDB with transactions) a batch is one transaction. The document shapes
are in shared/domain/read_model.py; applying a change is shared/domain/corrections.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain import events, read_model
from shared.ports import Message, ProjectionStore

_FINDING_TYPES = frozenset(events.EVENT_TYPES)


@dataclass
class DeadLetter:
    """A message the projection cannot apply, with where it came from and why."""

    message: Message
    reason: str


@dataclass
class Prepared:
    """A batch sorted into what to apply and what to set aside."""

    findings: list[dict] = field(default_factory=list)
    changes: list[tuple[dict, int]] = field(default_factory=list)  # (change event, its log offset)
    dead: list[DeadLetter] = field(default_factory=list)
    positions: dict[tuple[str, int], int] = field(default_factory=dict)


class Projection:
    def __init__(self, store: ProjectionStore, group: str, generation: int | None = None):
        self.store = store
        self.group = group
        self.fixed_generation = generation
        self.generation = generation or store.current_generation()

    def generation_moved(self) -> bool:
        return self.fixed_generation is None and self.store.current_generation() != self.generation

    def refresh_generation(self) -> bool:
        """Follow the readers' pointer (unless pinned); True when it moved."""
        if self.fixed_generation is not None:
            return False
        g = self.store.current_generation()
        if g == self.generation:
            return False
        self.generation = g
        self.ensure_indexes()
        return True

    def ensure_indexes(self) -> None:
        self.store.ensure_generation(self.generation)

    def tracked(self, topic: str, partition: int) -> int:
        """Next offset to apply for a partition, from the tracking record (-1 when none)."""
        return self.store.tracked(self.generation, read_model.tracking_key(self.group, topic, partition))

    # -- step 1: decode, no writes ---------------------------------------------------------
    def prepare(self, batch: list[Message], pending: Prepared | None = None) -> Prepared:
        """`pending`: a batch prepared earlier whose write may not have landed yet; a
        correction may name one of its events."""
        out = Prepared()
        skip_below: dict[tuple[str, int], int] = {}
        batch_ids: set[str] = set()
        pending_ids = {ev["event_id"] for ev in pending.findings} if pending else set()
        if pending:
            pending_ids |= {
                e["event_id"]
                for c, _ in pending.changes
                if c["event_type"] in events.READING_TYPES
                for e in c["details"]["events"]
            }
        positions, findings, tracked = out.positions, out.findings, self.tracked
        decode, document, plain = events.decode_fast, read_model.event_document, _FINDING_TYPES
        for msg in batch:
            tp = (msg.topic, msg.partition)
            floor = skip_below.get(tp)
            if floor is None:
                floor = skip_below[tp] = tracked(*tp)
            offset = msg.offset
            positions[tp] = offset + 1
            if offset < floor:
                continue  # applied before a crash that happened ahead of the commit
            try:
                ev = decode(msg.value)
            except ValueError as exc:
                out.dead.append(DeadLetter(msg, str(exc)[:2000]))
                continue
            kind = ev["event_type"]
            if kind in plain:
                if ev["event_id"] in batch_ids:
                    continue  # a second copy within one batch: the first stands, and counts once
                findings.append(document(ev, msg.partition, offset, msg.timestamp_ms))
                batch_ids.add(ev["event_id"])
            elif kind in events.READING_TYPES:
                ev["log"] = {"partition": msg.partition, "offset": offset, "timestamp_ms": msg.timestamp_ms}
                out.changes.append((ev, offset))
                batch_ids |= {e["event_id"] for e in ev["details"]["events"]}
            else:  # a change: it must name an event the timeline holds or is about to
                target = ev["details"]["event_id"]
                if (
                    target not in batch_ids
                    and target not in pending_ids
                    and not self.store.has_event(self.generation, target)
                ):
                    out.dead.append(DeadLetter(msg, f"{kind}: no event {target} in the timeline"))
                    continue
                ev["log"] = {"partition": msg.partition, "offset": offset, "timestamp_ms": msg.timestamp_ms}
                out.changes.append((ev, offset))
        return out

    # -- step 2: write ---------------------------------------------------------------------
    def apply(self, prepared: Prepared) -> None:
        """Write a prepared batch with its tracking records."""
        with self.store.batch(self.generation) as tx:
            new = tx.insert_new(prepared.findings)
            inserted = [ev for ev in prepared.findings if ev["event_id"] in new]
            redelivered = {ev["story_id"] for ev in prepared.findings if ev["event_id"] not in new}
            changed = {
                tx.replace_reading(change)
                if change["event_type"] in events.READING_TYPES
                else tx.apply_change(change, offset)
                for change, offset in prepared.changes
            }
            tx.fold_summaries(inserted, redelivered | {s for s in changed if s is not None})
            tx.advance_tracking(
                {
                    read_model.tracking_key(self.group, topic, partition): nxt
                    for (topic, partition), nxt in prepared.positions.items()
                }
            )
