"""The relay: moves records from the outbox to the event log, oldest first.

A record leaves the outbox only after the log acknowledged it. When the log refuses a record,
later records of the same story stay too, so each story reaches the log in arrival order;
records of other stories go on. A record names its topic (the events topic by default, or the
article topic); each goes to the log of its topic, and the order holds per topic and story
(an article_received may reach its topic after its events reach theirs, or before). Only the holder of the outbox lease relays, so two workers
never send the same record; a restarted process resumes from whatever is still queued.

On Kafka the relay delivers each batch as one transaction per topic, under a transactional.id
that belongs to the ingest instance (`relay_id`: kept beside the outbox in the data dir, so each
replica has its own and a restart reuses it). A batch that failed (a delivery timeout below min
ISR) stays queued and goes out again in a new transaction; the producer that starts for it
fences the old one and the broker aborts what the old one appended, so readers (read_committed)
see each record once. Records leave the outbox only after the commit. The embedded log needs
none of this: a delivery there is one SQLite transaction.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid

from shared.ports import EventLog, Outbox

log = logging.getLogger("storyline.ingest.relay")


def relay_id(data_dir: str) -> str:
    """The instance's transactional identity, created once in its data dir (where the outbox
    lives: the id goes with the queue it relays). Every worker of the instance reads the same id;
    only the lease holder uses it, and a successor using it fences the one before."""
    path = os.path.join(data_dir, "relay.id")
    try:
        with open(path) as fh:
            return fh.read().strip()
    except FileNotFoundError:
        pass
    os.makedirs(data_dir, exist_ok=True)
    draft = f"{path}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    with open(draft, "w") as fh:
        fh.write(f"storyline-relay-{uuid.uuid4().hex}\n")
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(draft, path)  # atomic, and the first worker to get here wins
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)
    with open(path) as fh:
        return fh.read().strip()


class LogRefused(RuntimeError):
    """Some records were not acknowledged; they stay queued."""


class Relay:
    def __init__(
        self,
        outbox: Outbox,
        event_log: EventLog,
        batch_size: int = 500,
        idle_s: float = 0.05,
        lease_retry_s: float = 0.5,
        max_backoff_s: float = 2.0,
        routes: dict[str, EventLog] | None = None,
        transactional_id: str | None = None,
    ):
        self.outbox = outbox
        self.event_log = event_log
        self.routes = dict(routes or {})  # topic -> its log; "" and unknown topics: event_log
        self.batch_size = batch_size
        self.idle_s = idle_s
        self.lease_retry_s = lease_retry_s
        self.max_backoff_s = max_backoff_s
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.last_error: str | None = None
        self._thread: threading.Thread | None = None
        if transactional_id:
            # one id per topic's log: each delivers its own transactions (the embedded log has no
            # such thing and needs none)
            for target in (event_log, *self.routes.values()):
                use = getattr(target, "use_transactions", None)
                if use is not None:
                    use(f"{transactional_id}.{target.topic}")

    def relay_once(self) -> int:
        """Send one batch; return how many left the outbox. Raises LogRefused if any stayed."""
        batch = self.outbox.pending(self.batch_size)
        if not batch:
            return 0
        acked = self._deliver(batch)
        sent, held_back = [], set()
        for queued, ok in zip(batch, acked):
            # per topic: an article refused must not hold back its story's events, or they
            # would be sent again next round (their topic acknowledged them)
            place = (queued.record.topic, queued.record.key)
            if ok and place not in held_back:
                sent.append(queued.seq)
            else:
                held_back.add(place)
        self.outbox.mark_sent(sent)
        if held_back:
            raise LogRefused(f"{len(batch) - len(sent)} of {len(batch)} records not acknowledged; kept queued")
        return len(sent)

    def _deliver(self, batch) -> list[bool]:
        by_log: dict[int, list[int]] = {}
        logs = {}
        for i, queued in enumerate(batch):
            target = self.routes.get(queued.record.topic, self.event_log)
            logs[id(target)] = target
            by_log.setdefault(id(target), []).append(i)
        acked = [False] * len(batch)
        for key, indices in by_log.items():
            for i, ok in zip(indices, logs[key].deliver([batch[i].record for i in indices])):
                acked[i] = ok
        return acked

    def run(self) -> None:
        backoff = 0.1
        while not self.stopping.is_set():
            if not self.outbox.try_lease():
                self.stopping.wait(self.lease_retry_s)  # another process relays; take over if it dies
                continue
            try:
                moved = self.relay_once()
                self.last_error, backoff = None, 0.1
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("relay: event log unavailable (%s); retrying in %.1fs", self.last_error, backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            if not moved:
                self.wake.wait(self.idle_s)
                self.wake.clear()
        self.outbox.release_lease()

    def start(self) -> "Relay":
        self._thread = threading.Thread(target=self.run, name="outbox-relay", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0, drain_s: float = 0.0) -> None:
        """Stop relaying; with drain_s, first keep publishing for up to that long while the
        outbox holds records (a graceful shutdown then leaves nothing queued that it could send)."""
        if drain_s and self.outbox.try_lease():
            deadline = time.monotonic() + drain_s
            while time.monotonic() < deadline and self.outbox.backlog()[0]:
                try:
                    self.relay_once()
                except Exception:
                    break  # the log is away: what is queued stays for the next start
        self.stopping.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
