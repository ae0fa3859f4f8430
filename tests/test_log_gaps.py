"""The projector on a log whose offsets have gaps, as a transactional Kafka topic has them (each
commit marker takes an offset, an aborted batch several, and readers skip both): it crosses them
without rewinding forever, and still rewinds when records it never applied lie below a batch."""

from __future__ import annotations

from services.ingest.schemas import ArticleSchema
from services.ingest.service import events_for
from services.timeline.projector import Projector
from shared.adapters.memory_store import MemoryStore
from shared.domain import events
from shared.ports import Message

TOPIC = "gaps.events"


def envelopes(n: int) -> list[dict]:
    article = ArticleSchema().load(
        {
            "id": "gap-article",
            "url": "https://gaps.example.test/1",
            "title": "Harbour board denies leak",
            "body": "Ilse Varga has claimed that the harbour board hid the survey. "
            "The chair, Otto Brenn, denied the claim on Tuesday.",
            "published_at": "2025-05-02T08:00:00Z",
            "outlet": "Gap Gazette",
            "story_id": "gap-story",
        }
    )
    template = events_for(article)[0]
    return [{**template, "event_id": f"gap-{i:04d}"} for i in range(n)]


class GappedLog:
    """One partition; `records` maps offset -> value, and the offsets missing from it are
    markers or aborted records: the consumer steps over them as Kafka's read_committed does."""

    topic = TOPIC

    def __init__(self, records: dict[int, bytes], start: int = 0):
        self.records, self.start = records, start
        self.seeks: list[int] = []
        self.committed: dict[tuple[str, int], int] = {}

    def consumer(self, group: str) -> "GappedLog":
        self.position = self.start  # where the group's committed offset would put it
        return self

    def poll(self, max_records: int = 500, timeout_ms: int = 1000) -> list[Message]:
        end = max(self.records, default=-1) + 1
        out = []
        while self.position < end and len(out) < max_records:
            value = self.records.get(self.position)
            if value is not None:
                out.append(Message(TOPIC, 0, self.position, "gap-story", value, 0, {}))
            self.position += 1
        return out

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self.seeks.append(offset)
        self.position = offset

    def commit(self, positions: dict[tuple[str, int], int]) -> None:
        self.committed.update(positions)

    def assignment(self) -> set[tuple[str, int]]:
        return {(TOPIC, 0)}

    def close(self) -> None:
        pass


def run(projector: Projector, steps: int) -> None:
    for _ in range(steps):
        projector.run_once(timeout_ms=0)


def applied(projector: Projector, store: MemoryStore, evs: list[dict]) -> set[str]:
    return {e["event_id"] for e in evs if store.has_event(projector.projection.generation, e["event_id"])}


def test_the_projector_crosses_commit_markers_and_aborted_records():
    evs = envelopes(7)
    # three transactions: offsets 0-2 + marker 3, an aborted 4-5 + marker 6, 7-10 + marker 11
    layout = [0, 1, 2, 7, 8, 9, 10]
    log = GappedLog({o: events.encode(e) for o, e in zip(layout[:3], evs)})
    store = MemoryStore()
    projector = Projector(log, store, "gap-group")
    run(projector, 2)
    assert projector.projection.tracked(TOPIC, 0) == 3
    log.records |= {o: events.encode(e) for o, e in zip(layout[3:], evs[3:])}
    run(projector, 4)
    assert applied(projector, store, evs) == {e["event_id"] for e in evs}
    assert projector.projection.tracked(TOPIC, 0) == 11 and log.committed == {(TOPIC, 0): 11}
    assert log.seeks == [3], "one look at the gap, then the batch is kept"


def test_records_it_never_applied_below_a_batch_are_still_read_again():
    evs = envelopes(8)
    log = GappedLog({o: events.encode(e) for o, e in enumerate(evs[:2])})
    store = MemoryStore()
    projector = Projector(log, store, "gap-group")
    run(projector, 2)
    assert projector.projection.tracked(TOPIC, 0) == 2
    log.records |= {o: events.encode(e) for o, e in enumerate(evs) if o >= 2}
    log.position = 5  # offsets committed by a projector writing elsewhere: 2-4 were never applied here
    run(projector, 4)
    assert log.seeks[0] == 2
    assert applied(projector, store, evs) == {e["event_id"] for e in evs}
    assert projector.projection.tracked(TOPIC, 0) == 8
