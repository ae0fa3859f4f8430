"""The two ports every service talks through. Each has an embedded and a real adapter."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol


@dataclass(frozen=True)
class Record:
    """One message on its way into the log."""
    key: str
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


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
