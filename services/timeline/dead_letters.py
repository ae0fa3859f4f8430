"""The dead-letter topic: list what the projector set aside, and send it back after a fix.

Replay publishes each original message, unchanged, to the main topic with its original
key (so it lands in its story's partition), and remembers how far it got in a consumer
group of its own, so a second replay does not send the same letters again. A letter that
still cannot be applied comes back to the dead-letter topic with a new reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from shared.ports import Message, Record

_DLQ_PREFIX = "dlq."


@dataclass(frozen=True)
class Letter:
    dlq_partition: int
    dlq_offset: int
    reason: str
    origin: str  # topic:partition:offset of the original message
    key: str | None
    value: bytes
    headers: dict

    def as_json(self) -> dict:
        return {
            "dlq": f"{self.dlq_partition}:{self.dlq_offset}",
            "origin": self.origin,
            "reason": self.reason,
            "key": self.key,
            "value": self.value.decode("utf-8", "replace")[:2000],
        }


def letter(m: Message) -> Letter:
    h = m.headers
    origin = f"{h.get('dlq.topic', '?')}:{h.get('dlq.partition', '?')}:{h.get('dlq.offset', '?')}"
    return Letter(m.partition, m.offset, h.get("dlq.reason", ""), origin, m.key, m.value, h)


def list_letters(dead_letter_log) -> list[Letter]:
    return [letter(m) for m in dead_letter_log.read("beginning")]


def replay(dead_letter_log, event_log, group: str, dry_run: bool = False) -> list[Letter]:
    """Send every letter not replayed before back to the main log; returns them."""
    # Only the letters there now: one that fails again comes back as a new letter, and must
    # wait for the next replay rather than circle forever.
    ends = dead_letter_log.end_offsets()
    if not any(ends.values()):
        return []
    consumer = dead_letter_log.consumer(f"{group}.dlq-replay")
    sent: list[Letter] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            polled = consumer.poll(max_records=500, timeout_ms=1500)
            batch = [m for m in polled if m.offset < ends.get(m.partition, 0)]
            if not batch:
                if consumer.assignment() and not polled:
                    break  # joined the group and nothing is left before the snapshot
                if polled:
                    break  # only letters that arrived after the snapshot
                continue
            letters = [letter(m) for m in batch]
            if not dry_run:
                event_log.publish(
                    [
                        Record(
                            key=lt.key or "",
                            value=lt.value,
                            headers={
                                **{k: v for k, v in lt.headers.items() if not k.startswith(_DLQ_PREFIX)},
                                "replayed_from": lt.origin,
                            },
                        )
                        for lt in letters
                    ]
                )
                # Only after the main log took them: a crash here means a letter is sent
                # again, which the projection's idempotence absorbs.
                consumer.commit({(m.topic, m.partition): m.offset + 1 for m in batch})
            sent.extend(letters)
    finally:
        consumer.close()
    return sent
