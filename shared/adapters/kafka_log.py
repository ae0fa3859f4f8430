"""Real event log: Apache Kafka through kafka-python.

On a replicated cluster the topic is created with the configured replication factor and
`min.insync.replicas`; the producer is idempotent with acks=all, so a send retried after a lost
acknowledgement (a leader dying mid-request) is written once, and a record counts as delivered
only when `min.insync.replicas` copies hold it. Leader moves are the clients' business:
kafka-python refreshes its metadata on NotLeaderForPartition and retries within the timeouts below.

The relay delivers in transactions (`use_transactions`, a transactional.id per ingest instance and
topic): a batch is committed whole or not at all, and every reader here reads `read_committed`.
So a batch the relay sends again after a failure replaces the abandoned one instead of doubling
it: the broker aborts the abandoned transaction when the next producer with the same id starts
(fencing it), and readers skip aborted records. Commit and abort markers take an offset each, so
offsets have gaps and a partition's log end lies past its last record: `end_offsets` and `lag`
measure up to the offset after the last committed record, which is where a reader that has read
everything stands in the projection's tracking (last offset + 1).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    InvalidReplicationFactorError,
    KafkaTimeoutError,
    NotCoordinatorError,
    TopicAlreadyExistsError,
)

# A young broker is still electing the coordinator of its offsets topic: worth a retry.
_COORDINATOR_SETTLING = (CoordinatorNotAvailableError, NotCoordinatorError, CoordinatorLoadInProgressError)
from kafka.structs import OffsetAndMetadata, TopicPartition

from shared.config import ConfigError
from shared.ports import Message, PartitionLag, Record

# One unacknowledged request per broker connection: kafka-python's idempotent producer accepts
# no more (it cannot reorder retried batches as the Java client does), and with it a retried
# batch can neither be doubled nor overtaken.
MAX_IN_FLIGHT = 1

# Readers see committed transactions only: a batch the relay abandoned (and sent again) is skipped.
ISOLATION = "read_committed"

log = logging.getLogger("storyline.kafka")

# In a transaction a batch need not outlast a leader election: one that fails is abandoned and
# sent again in a new transaction, without a copy. And kafka-python's transactional sender does
# not carry a batch across the death of a node that led its partition and coordinated the
# transaction (measured: it waited the whole 40 s delivery timeout), so a short timeout bounds
# that stall.
TXN_DELIVERY_TIMEOUT_MS = 15000

# kafka-python's commit_transaction waits for the coordinator's answer without a limit, and when
# the coordinator dies during the commit its sender can lose track of the new one (seen in the
# cluster fault suite: a relay still waiting two minutes after the kill, though the cluster had
# failed over). So a commit waits this long; one still unanswered is in doubt, and its outcome
# is read from the log (see _commit).
TXN_COMMIT_WAIT_MS = 30000


class ClusterTooSmall(ConfigError):
    """The cluster has fewer brokers than the replication factor asks for."""


# Largest record a producer sends and a topic this code creates accepts: a `reading_replaced`
# carries a whole article's events, an `article_received` its body (STORYLINE_MAX_BODY_BYTES,
# 1 MiB by default, grows when JSON escapes it). Consumers here fetch up to 8 MiB per call.
MAX_RECORD_BYTES = 8 << 20


class KafkaLog:
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        partitions: int,
        replication_factor: int = 1,
        min_insync_replicas: int = 1,
        topic_configs: dict[str, str] | None = None,
        compression: str | None = None,
    ):
        self.transactional_id: str | None = None  # set by the relay (use_transactions)
        self.topic = topic
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.min_insync_replicas = min_insync_replicas
        # set when this code creates the topic; an existing topic keeps its own settings
        self.topic_configs = {"max.message.bytes": str(MAX_RECORD_BYTES), **(topic_configs or {})}
        self._compression = compression
        self._bootstrap = bootstrap
        self._producer: KafkaProducer | None = None
        self._txn_producer: KafkaProducer | None = None
        # lag() is called every few seconds by the projector: its clients are kept, not rebuilt
        self._lag_lock = threading.Lock()
        self._lag_clients: tuple[KafkaAdminClient, KafkaConsumer] | None = None

    def ensure_topic(self) -> None:
        """Create the topic if it is missing. The size check happens only then: an existing topic
        keeps working while brokers are away (the producer's acks say what is safe)."""
        admin = KafkaAdminClient(bootstrap_servers=self._bootstrap, client_id="storyline-admin")
        try:
            if self.topic in admin.list_topics():
                return
            brokers = len(admin.describe_cluster().get("brokers", []))
            if brokers < self.replication_factor:
                raise self._too_small(brokers)
            configs = {"min.insync.replicas": str(self.min_insync_replicas), **self.topic_configs}
            admin.create_topics([NewTopic(self.topic, self.partitions, self.replication_factor, topic_configs=configs)])
        except TopicAlreadyExistsError:
            pass
        except InvalidReplicationFactorError:
            raise self._too_small(None) from None
        finally:
            admin.close()

    def _too_small(self, brokers: int | None) -> ClusterTooSmall:
        have = "fewer brokers" if brokers is None else f"{brokers} broker{'s' if brokers != 1 else ''}"
        return ClusterTooSmall(
            f"STORYLINE_REPLICATION_FACTOR={self.replication_factor}: the Kafka cluster at {self._bootstrap} "
            f"has {have} available, so topic {self.topic!r} cannot hold {self.replication_factor} copies; "
            f"start more brokers or lower STORYLINE_REPLICATION_FACTOR (and STORYLINE_MIN_INSYNC_REPLICAS)"
        )

    def _producer_settings(self) -> dict:
        # Idempotent producer: a retried send is never written twice, and order per key holds.
        # The delivery timeout outlasts a leader election (a SIGKILLed broker is fenced after
        # broker.session.timeout.ms), so the producer's own retries, deduplicated by the broker,
        # carry a batch across it; only a longer outage hands the records back to the outbox.
        return dict(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_in_flight_requests_per_connection=MAX_IN_FLIGHT,
            max_block_ms=5000,
            request_timeout_ms=10000,
            delivery_timeout_ms=40000,
            retry_backoff_ms=200,
            reconnect_backoff_max_ms=1000,
            metadata_max_age_ms=30000,
            max_request_size=MAX_RECORD_BYTES,
            compression_type=self._compression,
            client_id="storyline-ingest",
        )

    def _get_producer(self) -> KafkaProducer:
        if self._producer is None:
            self.ensure_topic()
            self._producer = KafkaProducer(**self._producer_settings())
        return self._producer

    def use_transactions(self, transactional_id: str) -> None:
        """Deliver in transactions under this id from now on (the relay's; publish is unchanged).
        The producer starts on the first delivery, so only the process that relays claims the id."""
        if transactional_id != self.transactional_id:
            self._drop_txn_producer()
            self.transactional_id = transactional_id

    def _get_txn_producer(self) -> KafkaProducer:
        if self._txn_producer is None:
            self.ensure_topic()
            producer = KafkaProducer(
                **{**self._producer_settings(), "delivery_timeout_ms": TXN_DELIVERY_TIMEOUT_MS},
                transactional_id=self.transactional_id,
                # the broker aborts a transaction left open this long (its producer died and no
                # successor with the id started): until then read_committed readers wait at it
                transaction_timeout_ms=60000,
            )
            try:
                # Fences every earlier producer of this id (a zombie's sends and commit fail) and
                # aborts the transaction one left open: its records are never read.
                producer.init_transactions()
            except Exception:
                producer.close(timeout=0)
                raise
            self._txn_producer = producer
        return self._txn_producer

    def _drop_txn_producer(self) -> None:
        _close_quietly(self._txn_producer)
        self._txn_producer = None

    def _drop_producer(self) -> None:
        # after a failure start afresh: a new producer learns the cluster again when it returns
        _close_quietly(self._producer)
        self._producer = None

    def publish(self, records: list[Record]) -> None:
        producer = self._get_producer()
        futures = [
            producer.send(
                self.topic, key=r.key.encode(), value=r.value, headers=[(k, v.encode()) for k, v in r.headers.items()]
            )
            for r in records
        ]
        producer.flush()
        for f in futures:
            f.get(timeout=30)  # raises if the broker did not take it

    def _send(self, producer: KafkaProducer, r: Record):
        return producer.send(
            self.topic, key=r.key.encode(), value=r.value, headers=[(k, v.encode()) for k, v in r.headers.items()]
        )

    def _deliver_in_transaction(self, records: list[Record]) -> list[bool]:
        """One transaction: every record sent is committed, or none is. A record the producer
        refuses before sending (too large) stays out of it and is reported refused; any other
        failure abandons the whole transaction and reports every record refused, so the relay
        sends them all again."""
        try:
            producer = self._get_txn_producer()
        except Exception:
            self._drop_txn_producer()
            raise
        try:
            producer.begin_transaction()
            futures: list = []
            for r in records:
                try:
                    futures.append(self._send(producer, r))
                except KafkaTimeoutError:
                    break  # no metadata within max_block_ms: the broker is away, try none of the rest
                except Exception:
                    futures.append(None)  # refused before sending (too large): not in the transaction
            futures += [None] * (len(records) - len(futures))
            producer.flush(timeout=45)  # past the delivery timeout: every send is settled
            sent = [f for f in futures if f is not None]
            for f in sent:
                f.get(timeout=1)  # raises if the broker did not take it
            if not sent:
                raise KafkaTimeoutError("no record could be sent")
            if not self._commit(producer, sent[0].get(timeout=0)):
                return [False] * len(records)
        except Exception as exc:
            # Abandoned, not aborted here: below min ISR the coordinator cannot write an abort
            # either. The next delivery starts a producer with the same id, which aborts this
            # transaction before it sends anything; readers skip what it appended.
            log.warning(
                "transaction abandoned, its %d records stay queued: %s: %s", len(records), type(exc).__name__, exc
            )
            self._drop_txn_producer()
            return [False] * len(records)
        return [f is not None for f in futures]

    def _commit(self, producer: KafkaProducer, first: Any) -> bool:
        """Commit the open transaction, whose first record landed at `first` (RecordMetadata):
        True once it is committed, False when it was not (its records are to be sent again); a
        refused commit raises. An answer that does not come within TXN_COMMIT_WAIT_MS leaves the
        outcome in doubt, and sending again blindly could put a second copy in the topic, so
        a new producer with the same id is started (which makes the broker finish or abort the
        transaction first) and a read_committed reader looks for the first record where it
        landed: a transaction is all or nothing, so that one record tells."""
        manager, sender = getattr(producer, "_transaction_manager", None), getattr(producer, "_sender", None)
        if manager is None or sender is None:  # a kafka-python without these: its own unbounded wait
            producer.commit_transaction()
            return True
        result = manager.begin_commit()
        sender.wakeup()
        if result.wait(timeout_ms=TXN_COMMIT_WAIT_MS):  # raises the commit's error, if it had one
            return True
        log.warning("no answer to a commit within %d ms: reading its outcome from the log", TXN_COMMIT_WAIT_MS)
        self._drop_txn_producer()
        self._get_txn_producer()  # fences the old producer once its transaction is settled
        committed = self._is_committed(first)
        log.warning("the commit in doubt was %s", "committed" if committed else "aborted: its records go again")
        return committed

    def _is_committed(self, first: Any) -> bool:
        """Whether a read_committed reader sees the record at `first` (topic, partition, offset).
        Not seen within a few seconds counts as not committed: a copy in the topic costs the
        projection nothing (it skips event ids it holds), a record never delivered would be lost."""
        tp = TopicPartition(first.topic, first.partition)
        c = self._reader("storyline-commit-check")
        try:
            c.assign([tp])
            c.seek(tp, first.offset)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                for r in c.poll(timeout_ms=1000, max_records=1).get(tp, []):
                    return bool(r.offset == first.offset)  # skipped to a later one: it was aborted
                if c.position(tp) > first.offset:
                    return False
            return False
        finally:
            c.close()

    def deliver(self, records: list[Record]) -> list[bool]:
        if self.transactional_id:
            return self._deliver_in_transaction(records)
        try:
            producer = self._get_producer()
        except Exception:
            self._drop_producer()
            raise
        futures = []
        for r in records:
            try:
                futures.append(
                    producer.send(
                        self.topic,
                        key=r.key.encode(),
                        value=r.value,
                        headers=[(k, v.encode()) for k, v in r.headers.items()],
                    )
                )
            except Exception:
                break  # the broker is unreachable: do not wait max_block_ms for each of the rest
        try:
            producer.flush(timeout=45)  # past the delivery timeout: every future is settled
        except Exception:
            pass  # each future below says what happened to its record
        acked = []
        for f in futures:
            try:
                f.get(timeout=1)  # done after the flush, unless the flush itself timed out
                acked.append(True)
            except Exception:
                acked.append(False)
        acked += [False] * (len(records) - len(futures))
        if not all(acked):
            self._drop_producer()
        return acked

    def consumer(self, group: str) -> "KafkaLogConsumer":
        self.ensure_topic()
        return KafkaLogConsumer(self._bootstrap, self.topic, group)

    def _reader(self, client_id: str | None = None, **settings: Any) -> KafkaConsumer:
        """A consumer in no group (it must not disturb the projectors' positions), reading
        committed records only."""
        named = {"client_id": client_id} if client_id else {}
        return KafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level=ISOLATION,
            **named,
            **settings,
        )

    def _partitions(self) -> list[TopicPartition]:
        return [TopicPartition(self.topic, p) for p in range(self.partitions)]

    def end_offsets(self) -> dict[int, int]:
        self.ensure_topic()
        c = self._reader()
        try:
            return committed_ends(c, self._partitions())
        finally:
            c.close()

    def read(self, start="beginning", page: int = 2000):
        self.ensure_topic()
        tps = self._partitions()
        c = self._reader("storyline-reader", fetch_max_bytes=8 << 20, receive_message_max_bytes=16 << 20)
        try:
            ends = {tp.partition: o for tp, o in c.end_offsets(tps).items()}
            for tp in tps:
                if isinstance(start, dict):
                    pos = start.get(tp.partition, 0)
                elif isinstance(start, int):
                    found = c.offsets_for_times({tp: start})[tp]
                    pos = found.offset if found is not None else ends[tp.partition]
                else:
                    pos = 0
                if pos >= ends[tp.partition]:
                    continue
                c.assign([tp])
                c.seek(tp, pos)
                while c.position(tp) < ends[tp.partition]:
                    for r in c.poll(timeout_ms=1000, max_records=page).get(tp, []):
                        if r.offset >= ends[tp.partition]:
                            break
                        yield Message(
                            tp.topic,
                            tp.partition,
                            r.offset,
                            r.key.decode() if r.key is not None else None,
                            r.value,
                            r.timestamp,
                            {k: v.decode(errors="replace") for k, v in (r.headers or [])},
                        )
        finally:
            c.close()

    def ping(self) -> None:
        admin = KafkaAdminClient(bootstrap_servers=self._bootstrap, request_timeout_ms=5000)
        try:
            admin.list_topics()
        finally:
            admin.close()

    def lag(self, group: str) -> dict[tuple[str, int], PartitionLag]:
        with self._lag_lock:
            if self._lag_clients is None:
                self._lag_clients = (
                    KafkaAdminClient(
                        bootstrap_servers=self._bootstrap, client_id="storyline-lag", request_timeout_ms=10000
                    ),
                    self._reader("storyline-lag", request_timeout_ms=10000),
                )
            admin, offsets = self._lag_clients
            for attempt in range(10):
                try:
                    return self._lag(admin, offsets, group)
                except _COORDINATOR_SETTLING:
                    if attempt == 9:
                        self._close_lag_clients()
                        raise
                    time.sleep(0.5)
                except Exception:
                    self._close_lag_clients()  # a broken connection is not reused
                    raise

    def _lag(self, admin, offsets, group) -> dict[tuple[str, int], PartitionLag]:
        partitions = offsets.partitions_for_topic(self.topic) or set()
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        if not tps:
            return {}
        by_partition = committed_ends(offsets, tps)
        ends = {tp: by_partition[tp.partition] for tp in tps}
        # with no commit the group starts at the earliest retained offset (auto_offset_reset)
        starts = offsets.beginning_offsets(tps)
        committed = {
            tp: om.offset
            for tp, om in admin.list_consumer_group_offsets(group, partitions=tps).items()
            if om.offset >= 0
        }
        return {
            (tp.topic, tp.partition): PartitionLag(
                ends[tp], committed.get(tp), max(ends[tp] - committed.get(tp, starts[tp]), 0)
            )
            for tp in tps
        }

    def _close_lag_clients(self) -> None:
        if self._lag_clients is not None:
            for client in self._lag_clients:
                client.close()
            self._lag_clients = None

    def close(self) -> None:
        self._drop_txn_producer()
        if self._producer is not None:
            self._producer.close(timeout=10)
            self._producer = None
        with self._lag_lock:
            self._close_lag_clients()


def committed_ends(c: KafkaConsumer, tps: list[TopicPartition]) -> dict[int, int]:
    """Per partition, the offset after its last committed record: what a read_committed reader
    that has read everything has consumed up to. Markers and aborted records past it are skipped,
    so the log end offset is not that. `c` is a read_committed consumer without a group; its
    end offsets are the last stable offsets (an open transaction is not read yet either)."""
    stable = c.end_offsets(tps)
    starts = c.beginning_offsets(tps)
    out = {}
    for tp in tps:
        end, first = stable[tp], starts[tp]
        out[tp.partition] = end
        window = 8  # a marker, or a few: one fetch reads past them
        while end > first:
            at = max(end - window, first)
            last = _last_committed(c, tp, at, end)
            if last is not None:
                out[tp.partition] = last + 1
                break
            if at == first:
                out[tp.partition] = first  # nothing committed left in the partition
                break
            window *= 8  # an aborted batch: look further back
    c.assign([])
    return out


def _last_committed(c: KafkaConsumer, tp: TopicPartition, start: int, end: int) -> int | None:
    c.assign([tp])
    c.seek(tp, start)
    last = None
    deadline = time.monotonic() + 10
    while c.position(tp) < end and time.monotonic() < deadline:
        for r in c.poll(timeout_ms=500).get(tp, []):
            if r.offset < end:
                last = r.offset
    return last


class KafkaLogConsumer:
    def __init__(self, bootstrap: str, topic: str, group: str):
        self._consumer = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level=ISOLATION,
            client_id="storyline-timeline",
            # back within seconds when a broker returns, not 30 s
            reconnect_backoff_max_ms=2000,
            # a backlog across partitions must fit in one response frame
            fetch_max_bytes=8 << 20,
            receive_message_max_bytes=16 << 20,
        )

    def assignment(self) -> set[tuple[str, int]]:
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def poll(self, max_records: int = 500, timeout_ms: int = 1000) -> list[Message]:
        batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        out = []
        for tp, records in batches.items():
            for r in records:
                out.append(
                    Message(
                        tp.topic,
                        tp.partition,
                        r.offset,
                        r.key.decode() if r.key is not None else None,
                        r.value,
                        r.timestamp,
                        {k: v.decode(errors="replace") for k, v in (r.headers or [])},
                    )
                )
        return out

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._consumer.seek(TopicPartition(topic, partition), offset)

    def commit(self, positions: dict[tuple[str, int], int]) -> None:
        self._consumer.commit({TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in positions.items()})

    def close(self) -> None:
        self._consumer.close(autocommit=False)


def _close_quietly(producer: KafkaProducer | None) -> None:
    """Close a producer being dropped after a failure; its own errors no longer matter."""
    if producer is not None:
        try:
            producer.close(timeout=0)
        except Exception:
            pass
