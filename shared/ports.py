"""The two ports every service talks through. Each has an embedded and a real adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ContextManager, Iterator, NamedTuple, Protocol


@dataclass(frozen=True)
class Record:
    """One message on its way into the log. `topic` "" is the events topic; the outbox also
    carries records for the article topic (see services/ingest/relay.py)."""

    key: str
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)
    topic: str = ""


class Message(NamedTuple):
    """One message read back from the log, with its coordinates. A named tuple rather than
    a frozen dataclass: the projector makes one per event, and this is three times cheaper."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    timestamp_ms: int
    headers: dict[str, str] = {}  # never mutated: adapters always pass their own


@dataclass(frozen=True)
class PartitionLag:
    """How far a consumer group is behind on one partition."""

    end: int  # the offset the next record will get
    committed: int | None  # the group's committed next offset; None when it never committed
    lag: int  # records written and not yet committed by the group


class LogConsumer(Protocol):
    def poll(self, max_records: int = 500, timeout_ms: int = 1000) -> list[Message]: ...
    def commit(self, positions: dict[tuple[str, int], int]) -> None:
        """Commit the next offset to read, per (topic, partition)."""

    def seek(self, topic: str, partition: int, offset: int) -> None: ...
    def assignment(self) -> set[tuple[str, int]]: ...
    def close(self) -> None: ...


class EventLog(Protocol):
    topic: str

    def publish(self, records: list[Record]) -> None:
        """Durably append (acks=all) or raise."""

    def deliver(self, records: list[Record]) -> list[bool]:
        """Send all, wait, and say per record whether the log acknowledged it (never raises
        for a refused record; raises only when nothing could be attempted)."""

    def consumer(self, group: str) -> LogConsumer: ...
    def read(self, start: "str | int | dict[int, int]" = "beginning") -> Iterator[Message]:
        """Every message from `start` up to the end as it stands now, no consumer group:
        "beginning", a time in epoch milliseconds, or {partition: offset}. For analysts and
        rebuilds; partitions are read one after another, each in order."""

    def end_offsets(self) -> dict[int, int]:
        """Next offset to be written, per partition."""

    def ping(self) -> None: ...
    def lag(self, group: str) -> dict[tuple[str, int], PartitionLag]:
        """Per partition of the topic: end offset, the group's committed offset, the difference."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class Queued:
    """A record waiting in the outbox; `seq` is its place in outbox order."""

    seq: int
    record: Record


class OutboxUnavailable(RuntimeError):
    """The outbox could not store the records: nothing was accepted."""


class Outbox(Protocol):
    """Records accepted but not yet acknowledged by the log, kept durably, in order."""

    def add(self, records: list[Record]) -> list[int]:
        """Store all of them in one transaction; return their sequence numbers.
        Raises OutboxUnavailable when it cannot."""

    def pending(self, limit: int) -> list[Queued]:
        """The oldest unsent records, in outbox order."""

    def mark_sent(self, seqs: list[int]) -> None: ...
    def unsent(self, seqs: list[int]) -> int:
        """How many of these are still waiting."""

    def backlog(self) -> tuple[int, float | None]:
        """How many records wait, and the age in seconds of the oldest (None when empty)."""

    def try_lease(self) -> bool:
        """Become the one relay of this outbox (True while held; released when the process ends)."""

    def release_lease(self) -> None: ...
    def close(self) -> None: ...


# ---------------------------------------------------------------- the read model
#
# Two narrow ports over one store: the projection writes through ProjectionStore, the query
# service reads through ReadStore. Documents are the shapes of shared.domain.read_model; the
# adapters (shared/adapters/sqlite_store.py, mongo_store.py, memory_store.py) keep them as
# they like, and tests/test_store_contract.py holds them to the same behaviour.


class StoreUnavailable(RuntimeError):
    """The store cannot be reached right now (the HTTP layer answers 503)."""


@dataclass(frozen=True)
class Freshness:
    """How far the projection has applied the log: generation, next offset per tracking key."""

    generation: int
    positions: dict[str, int]

    @property
    def position(self) -> str:
        return f"g{self.generation}" + "".join(f";{k}={v}" for k, v in sorted(self.positions.items()))


@dataclass(frozen=True)
class EventQuery:
    """Which of a story's event documents to read, in `sort` order. Bounds on `sort` are
    strings compared as such; `recorded_by` keeps events recorded at or before it (as-of)."""

    types: tuple[str, ...] = ()
    actor: str | None = None  # case-insensitive exact actor name
    sort_from: str | None = None  # sort >= this
    sort_below: str | None = None  # sort < this
    after: str | None = None  # sort > this (a cursor)
    through: str | None = None  # sort <= this
    include_retracted: bool = False
    include_superseded: bool = False  # an older reading of its article (shared.domain.readings)
    recorded_by: str | None = None
    limit: int | None = None

    ALL_STATUSES = ("active", "corrected", "retracted", "superseded")

    @property
    def statuses(self) -> tuple[str, ...] | None:
        """The statuses to keep, None for all (an allow-list: not every MongoDB-wire server serves $nin)."""
        keep = (
            ("active", "corrected")
            + ("retracted",) * self.include_retracted
            + ("superseded",) * self.include_superseded
        )
        return None if len(keep) == len(self.ALL_STATUSES) else keep


@dataclass(frozen=True)
class StoryQuery:
    """The stories list: newest activity first (last_recorded_at, then story_id, descending)."""

    text: str | None = None  # case-insensitive substring of title, participant name or story id
    actor: str | None = None  # a participant in the actor role, case-insensitive exact
    event_type: str | None = None  # at least one active event of this type
    after: tuple[str, str] | None = None  # (last_recorded_at, story_id) of the previous page's last
    limit: int = 20


class ProjectionBatch(Protocol):
    """One batch's writes to one generation. Where the store offers it (SQLite; MongoDB with
    transactions) everything written through one batch lands together or not at all; else
    in call order, tracking last, so a crash replays harmlessly."""

    def insert_new(self, docs: list[dict[str, Any]]) -> set[str]:
        """Insert the event documents not stored yet (by event_id; a stored one is never
        overwritten); return the event_ids that were new."""

    def apply_change(self, change: dict[str, Any], offset: int) -> str | None:
        """Apply a correction or retraction (shared.domain.corrections.apply_change) to its
        event; return the story touched, None when the event is unknown."""

    def replace_reading(self, reading: dict[str, Any]) -> str:
        """Make a newer reading of one article current (a decoded `reading_replaced` with its
        `log`): the article's stored documents and the reading give shared.domain.readings.switch's
        plan, applied here, in the batch (so atomically where the batch is a transaction): new
        events inserted, changed ones rewritten with a history record, missing ones marked
        superseded. A publication applied before changes nothing. Returns the story touched."""

    def fold_summaries(self, inserted: list[dict[str, Any]], recompute: set[str]) -> None:
        """Advance the summaries of the stories of `inserted`; rebuild those in `recompute` from
        all their events (shared.domain.summaries.summarise)."""

    def advance_tracking(self, positions: dict[str, int]) -> None:
        """Move each tracking key's next offset forward (never back)."""


class ProjectionStore(Protocol):
    def current_generation(self) -> int: ...
    def open_generation(self) -> int:
        """A fresh generation number, never used before, with its tables or collections ready."""

    def ensure_generation(self, generation: int) -> None: ...
    def switch_generation(self, generation: int) -> None:
        """Point readers at `generation` in one write (they see the old or the new)."""

    def drop_generation(self, generation: int) -> None: ...
    def tracked(self, generation: int, key: str) -> int:
        """The next offset to apply for a tracking key, -1 when there is no record."""

    def has_event(self, generation: int, event_id: str) -> bool: ...
    def batch(self, generation: int) -> "ContextManager[ProjectionBatch]": ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


class ReadView(Protocol):
    """One request's reads, from one generation (a snapshot where the store has them)."""

    generation: int

    def freshness(self) -> Freshness: ...
    def story(self, story_id: str) -> dict[str, Any] | None: ...
    def stories(self, query: StoryQuery) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        """A page of story summaries and the (last_recorded_at, story_id) to continue after."""

    def events(self, story_id: str, query: EventQuery) -> list[dict[str, Any]]:
        """The story's event documents that match, in sort order (ties by event_id)."""

    def changed_since(self, since: dict[int, int]) -> list[dict[str, Any]]:
        """Event documents of every story whose latest change (change_offset) is at or after
        since[partition], for the partitions in `since`; by partition, then change_offset
        (live updates and feeds across stories)."""

    def changes_since(self, story_id: str, offset: int) -> list[dict[str, Any]]:
        """The story's event documents inserted or changed by a log message at an offset
        after `offset` (a story lives in one partition), by that offset."""


class ReadStore(Protocol):
    def view(self) -> "ContextManager[ReadView]": ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


class ArticleIndex(Protocol):
    """Ingest's record of which story each article went to, with the profile it was matched by."""

    def story_of(self, article_id: str) -> str | None: ...
    def has_story(self, story_id: str) -> bool: ...
    def profiles_between(self, start: str, end: str, limit: int) -> list[tuple[str, list[str], list[str], str]]:
        """(story_id, names, terms, published) of articles published in [start, end], newest first."""

    def record(self, article_id: str, story_id: str, names: list[str], terms: list[str], published: str) -> None: ...
