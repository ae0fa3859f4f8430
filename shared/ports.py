"""The two ports every service talks through. Each has an embedded and a real adapter."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol


@dataclass(frozen=True)
class Record:
    """One message on its way into the log. `topic` "" is the events topic; the outbox also
    carries records for the article topic (see services/ingest/relay.py)."""
    key: str
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)
    topic: str = ""


@dataclass(frozen=True)
class Message:
    """One message read back from the log, with its coordinates."""
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    timestamp_ms: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PartitionLag:
    """How far a consumer group is behind on one partition."""
    end: int               # the offset the next record will get
    committed: int | None  # the group's committed next offset; None when it never committed
    lag: int               # records written and not yet committed by the group


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
