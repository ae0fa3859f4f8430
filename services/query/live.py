"""Server-Sent Events: `GET /v1/stories/{id}/events` and `GET /v1/events` (format and
positions: services/query/changes.py).

One poller thread per process (LiveChanges) looks at the projector's tracking records every
STORYLINE_SSE_POLL_SECONDS; when they moved it reads the changed documents once, builds each
change's payload once from the timeline's entry dicts, and hands the batch to every open
stream. A stream that starts from an older position (Last-Event-ID) first reads the gap
itself, from its position up to where the poller stood when it subscribed, so the two meet
without a gap or an overlap.

Each open stream holds one thread of its worker (gunicorn's gthread; see
deploy/gunicorn/query.conf.py) and lasts at most STORYLINE_SSE_MAX_STREAM_SECONDS, then the
client reconnects with its last id; STORYLINE_SSE_MAX_CLIENTS streams per process, more get 503.

A client that goes away: the server only learns it when a write to the socket fails, which for
an idle stream is the next heartbeat (15 s), and until then the stream holds its thread and a
client slot. So an idle stream looks at its socket every HANGUP_CHECK_S: a peer that closed
makes the socket readable with nothing to read (a peek returns b""). The socket is what the
server hands the application (gunicorn.socket, werkzeug.socket); over TLS, or without one, a
peek cannot tell (the bytes are encrypted records, or there is no socket), and such a stream
falls back on the failed write at the next heartbeat.

The composition root stops the poller with the store (LiveChanges.stop, from
Components.stop): open streams end at once, and the poller never reads a closed store.
"""

from __future__ import annotations

import logging
import queue
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from flask import Blueprint, Response, current_app, request
from marshmallow import ValidationError, fields, validate

from services.query import changes
from services.query.change_reads import ChangeReads
from services.query.changes import BadPosition, Change, Position
from services.query.schemas import _Strict
from shared.config import LiveSettings
from shared.http import InvalidParameters, error, query_args
from shared.openapi import doc

log = logging.getLogger(__name__)
bp = Blueprint("live", __name__)
HANGUP_CHECK_S = 1.0  # how often an idle stream looks whether its client has gone
_CLOSED = None  # put in every inbox when the poller stops: the streams end
_STORY_ID = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$", error="letters, digits and . _ : - only")
_LAST_ID = (
    "resume after this event id (the same as the Last-Event-ID header, which wins): "
    "partition:offset pairs like 0:13,1:0"
)


class StoryEventsQuery(_Strict):
    last_event_id = fields.String(
        validate=validate.Regexp(changes.POSITION_PATTERN, error="partition:offset pairs like 0:13,1:0"),
        metadata={"description": _LAST_ID},
    )


class EventsQuery(StoryEventsQuery):
    story = fields.List(
        fields.String(validate=_STORY_ID),
        validate=validate.Length(max=100),
        metadata={"description": "only these stories (repeat or comma-separate); all when absent"},
    )


_STREAM_DOC = (
    "A text/event-stream. Starts with `retry` and a `ready` event carrying the start position; then "
    "`entry_added`, `entry_corrected`, `entry_retracted` events whose data is JSON {change, story_id, "
    "event_id, entry_id, previous_entry_id, log {partition, offset}, recorded_at, entry, previous_entry} "
    "(entry: the timeline entry as it stands, the same object as in /timeline); a `: heartbeat` comment "
    "every STORYLINE_SSE_HEARTBEAT_SECONDS. Every event's `id` is the log position after it "
    "(partition:next offset pairs); reconnect with Last-Event-ID to get exactly the changes after it. "
    "The stream ends after STORYLINE_SSE_MAX_STREAM_SECONDS; reconnect. 503 with Retry-After when this "
    "process already serves STORYLINE_SSE_MAX_CLIENTS streams."
)
_HEADER = [
    {"in": "header", "name": "Last-Event-ID", "required": False, "schema": {"type": "string"}, "description": _LAST_ID}
]


@dataclass
class Batch:
    since: Position
    before: Position
    messages: list[tuple[Change, str]]  # (change, data line) in order


@dataclass(eq=False)
class Subscriber:
    stories: frozenset[str] | None
    inbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)


class LiveChanges:
    """The process's poller and its subscribers."""

    def __init__(self, reads: ChangeReads, settings: LiveSettings):
        self.reads, self.settings = reads, settings
        self._lock = threading.Lock()
        self._subs: set[Subscriber] = set()
        self._horizon: Position | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- subscribers ---------------------------------------------------------------------
    def subscribe(self, stories: frozenset[str] | None) -> tuple[Subscriber, Position] | None:
        """None when the process holds its maximum of streams (or is stopping). Returns the
        position from which the subscriber will receive batches."""
        self._ensure_running()
        with self._lock:
            if len(self._subs) >= self.settings.max_clients or self._stop.is_set():
                return None
            sub = Subscriber(stories)
            self._subs.add(sub)
            return sub, dict(self._horizon or {})

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def clients(self) -> int:
        return len(self._subs)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- polling -------------------------------------------------------------------------
    def _ensure_running(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._horizon = self._read_horizon()  # streams start from here
                self._thread = threading.Thread(target=self._run, name="sse-poller", daemon=True)
                self._thread.start()

    def _read_horizon(self) -> Position:
        with self.reads.view() as c:
            return self.reads.horizon(c)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.poll_s):
            try:
                self.poll()
            except Exception:  # the store away: streams keep their heartbeats, the poller retries
                log.warning("live updates: poll failed; retrying", exc_info=True)
                self._stop.wait(1.0)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling and end every open stream (their clients reconnect with Last-Event-ID,
        to another replica or to this one when it is back). Before the store closes: the
        composition root calls it first (services/bootstrap.py Components.stop)."""
        with self._lock:
            self._stop.set()
            subs, thread = list(self._subs), self._thread
        for sub in subs:
            sub.inbox.put(_CLOSED)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def poll(self) -> None:
        with self.reads.view() as c:
            self._poll(c)

    def _poll(self, c) -> None:
        now = self.reads.horizon(c)
        since = dict(self._horizon or {})
        before = changes.merged(since, now)  # never backwards (a rebuilt generation may lag)
        moved = [p for p in before if before[p] > since.get(p, 0)]
        if not moved:
            return
        # Held throughout, so a stream that subscribes meanwhile starts at `before` and this
        # batch is rendered for exactly the streams that receive it.
        with self._lock:
            subs = list(self._subs)
            wanted = None if any(s.stories is None for s in subs) else frozenset().union(*(s.stories for s in subs))
            messages = self.render(c, since, before, moved, wanted) if subs else []
            self._horizon = before
        batch = Batch(since, before, messages)
        for sub in subs:
            sub.inbox.put(batch)

    def render(self, c, since: Position, before: Position, partitions, stories) -> list[tuple[Change, str]]:
        found = changes.changes_of(self.reads.changed_docs(c, since, partitions, stories), since, before)
        if stories is not None:
            found = [ch for ch in found if ch.story_id in stories]
        entries = {s: self.reads.entries_by_id(c, s) for s in {ch.story_id for ch in found}}
        return [(ch, changes.payload(ch, entries[ch.story_id])) for ch in found]

    def catch_up(self, since: Position, until: Position, stories) -> Batch:
        """What a subscriber starting at `since` missed before `until` (where it joined)."""
        gap = [p for p in until if until[p] > since.get(p, 0)]
        if not gap:
            return Batch(since, until, [])
        with self.reads.view() as c:
            return Batch(since, until, self.render(c, since, until, gap, stories))


# ---------------------------------------------------------------- the streams


def _live() -> LiveChanges:
    return current_app.extensions["storyline.live"]


def _start_position(args: dict) -> Position | None:
    text = request.headers.get("Last-Event-ID") or args.get("last_event_id")
    if not text:
        return None
    try:
        return changes.parse_position(text.strip())
    except BadPosition as exc:
        raise InvalidParameters({"last_event_id": [str(exc)]}) from None


def _hangup_check(environ: dict) -> Callable[[], bool] | None:
    """A check that the stream's client has closed its end, or None where one cannot tell
    (see the module's docstring). Non-blocking: select with no wait, then a peek."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket) or isinstance(sock, ssl.SSLSocket):
        return None

    def gone() -> bool:
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            # readable with nothing to read: the peer's FIN; bytes (a pipelined request) are not a hangup
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):  # reset by the peer, or the server closed the socket already
            return True

    return gone


def _stream(stories: frozenset[str] | None, start: Position | None) -> Response:
    live = _live()
    joined = live.subscribe(stories)
    if joined is None:
        busy = f"this replica already serves {live.settings.max_clients} live streams"
        resp, status = error(503, ("this replica is stopping" if live.stopping else busy) + "; retry shortly")
        resp.status_code = status
        resp.headers["Retry-After"] = "2"
        return resp
    sub, at = joined
    settings = live.settings
    client_gone = _hangup_check(request.environ)

    def events():
        cursor = dict(start) if start is not None else dict(at)
        try:
            yield "retry: 2000\n\n"
            start_text = changes.format_position(cursor)  # a reconnect from here misses nothing
            yield changes.sse("ready", f'{{"position":"{start_text}"}}', start_text)
            pending = [live.catch_up(cursor, at, stories)] if start is not None else []
            now = time.monotonic()
            ends, beat = now + settings.max_stream_s, now + settings.heartbeat_s
            while True:
                for batch in pending:
                    out = []
                    for ch, data in batch.messages:
                        if ch.offset < cursor.get(ch.partition, 0):
                            continue  # sent already (the client was ahead of this batch)
                        if stories is not None and ch.story_id not in stories:
                            continue
                        cursor[ch.partition] = ch.offset + 1
                        out.append(changes.sse(changes.KINDS[ch.kind], data, changes.format_position(cursor)))
                    cursor = changes.merged(cursor, batch.before)
                    if out:
                        yield "".join(out)
                        beat = time.monotonic() + settings.heartbeat_s
                now = time.monotonic()
                if now >= ends:
                    return
                wait = min(beat, ends) - now
                if client_gone is not None:
                    wait = min(wait, HANGUP_CHECK_S)
                try:
                    first = sub.inbox.get(timeout=max(wait, 0.0))
                except queue.Empty:
                    if client_gone is not None and client_gone():
                        return  # nobody to write to: free the thread and the slot now
                    if time.monotonic() >= beat:
                        yield ": heartbeat\n\n"
                        beat = time.monotonic() + settings.heartbeat_s
                    pending = []
                    continue
                if first is _CLOSED:
                    return
                pending = [first]
                while True:  # whatever else has piled up, in one write
                    try:
                        more = sub.inbox.get_nowait()
                    except queue.Empty:
                        break
                    if more is _CLOSED:
                        sub.inbox.put(_CLOSED)  # deliver what came before it, then end
                        break
                    pending.append(more)
        finally:
            live.unsubscribe(sub)

    return Response(
        events(), mimetype="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@bp.get("/v1/stories/<story_id>/events")
@doc(
    "Live changes of one story's timeline (Server-Sent Events): entries added, corrected, retracted",
    tags=["live"],
    query=StoryEventsQuery,
    content={"text/event-stream": {"type": "string"}},
    errors=(400, 503),
    description=_STREAM_DOC,
    headers={"Cache-Control": "no-cache"},
    extra_parameters=_HEADER,
)
def story_events(story_id: str):
    args = query_args(StoryEventsQuery())
    try:
        _STORY_ID(story_id)
    except ValidationError as exc:
        return error(400, "invalid story id", {"story_id": exc.messages})
    return _stream(frozenset([story_id]), _start_position(args))


@bp.get("/v1/events")
@doc(
    "Live changes of every story, or of the stories named (Server-Sent Events)",
    tags=["live"],
    query=EventsQuery,
    content={"text/event-stream": {"type": "string"}},
    errors=(400, 503),
    description=_STREAM_DOC,
    headers={"Cache-Control": "no-cache"},
    extra_parameters=_HEADER,
)
def all_events():
    args = query_args(EventsQuery())
    stories = frozenset(args["story"]) if args.get("story") else None
    return _stream(stories, _start_position(args))


def install(app, store, settings) -> LiveChanges:
    reads = ChangeReads(store, settings.group, settings.topic, app.extensions.get("storyline.grouped"))
    live = LiveChanges(reads, settings.live)
    app.extensions["storyline.live"] = live
    app.register_blueprint(bp)
    return live
