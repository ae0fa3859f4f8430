"""`storyline import`: load an archive of articles through the ingest API.

The articles go in through `POST /v1/articles` like any other, so the service's validation,
outbox and story assignment stay the only way in; this module only reads the sources,
keeps a bounded number of requests in flight, backs off when the service asks it to, and
remembers what was accepted.

Sources: a JSON Lines file (one article per line), a file holding a JSON array (or one
object), a folder of such files (`*.json`, `*.jsonl`, sorted by name), or `-` for standard
input. A line that is not JSON is still sent as it is: the service's 400 and its reason go
to the rejects file, like any other refusal.

Resume: the state file gets one JSON line per accepted article, keyed by a hash of the
article's own JSON (canonical form), written and flushed as each answer arrives. A rerun
skips those keys. An answer lost in a crash only means one article is posted again, which
the service absorbs: article and event ids are derived from the content.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Iterable, Iterator
from urllib.parse import urlsplit

RETRY_STATUSES = (429, 503)


class SourceError(Exception):
    """A source cannot be read, or the options do not make sense (exit 2)."""


class Unreachable(Exception):
    """The ingest service did not answer after every retry (the import stops; exit 3)."""


@dataclass(frozen=True)
class Item:
    """One article as read: where it came from and its text, untouched."""

    source: str  # "path:line" or "path#index"
    text: str

    @property
    def key(self) -> str:
        """Stable over reruns and formatting: the hash of the canonical JSON when it parses."""
        try:
            canon = json.dumps(json.loads(self.text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        except ValueError:
            canon = self.text.strip()
        return hashlib.sha256(canon.encode("utf-8", "surrogatepass")).hexdigest()[:32]


# ---------------------------------------------------------------- reading sources


def _items_of_text(name: str, text: str) -> Iterator[Item]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            values = json.loads(text)
        except ValueError as exc:
            raise SourceError(f"{name}: not a JSON array ({exc})") from None
        for i, value in enumerate(values):
            yield Item(f"{name}#{i}", json.dumps(value, ensure_ascii=False))
        return
    if stripped.startswith("{") and "\n" in stripped.rstrip():
        try:  # one pretty-printed object rather than JSON Lines
            value = json.loads(text)
        except ValueError:
            pass
        else:
            yield Item(f"{name}#0", json.dumps(value, ensure_ascii=False))
            return
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield Item(f"{name}:{n}", line)


def read_sources(sources: list[str], stdin=None) -> list[Item]:
    items: list[Item] = []
    for src in sources:
        if src == "-":
            items.extend(_items_of_text("<stdin>", (stdin or sys.stdin).read()))
            continue
        if os.path.isdir(src):
            names = sorted(n for n in os.listdir(src) if n.endswith((".json", ".jsonl")))
            paths = [os.path.join(src, n) for n in names]
        else:
            paths = [src]
        for path in paths:
            try:
                with open(path, encoding="utf-8", errors="surrogateescape") as fh:
                    items.extend(_items_of_text(path, fh.read()))
            except OSError as exc:
                raise SourceError(f"{path}: {exc.strerror}") from None
    return items


# ---------------------------------------------------------------- state and rejects


def load_state(path: str) -> set[str]:
    """Keys accepted by earlier runs; a torn last line (a crash mid-write) is ignored."""
    done: set[str] = set()
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    done.add(json.loads(line)["key"])
                except (ValueError, KeyError, TypeError):
                    continue
    except FileNotFoundError:
        pass
    return done


# ---------------------------------------------------------------- posting


@dataclass
class Outcome:
    item: Item
    status: int  # HTTP status of the final answer
    body: dict | None  # the parsed answer
    attempts: int


class IngestClient:
    """POSTs one article; one keep-alive connection per thread. Retries 429/503 (honouring
    Retry-After) and dropped connections with capped, jittered exponential backoff."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float = 60.0,
        max_attempts: int = 8,
        backoff_s: float = 0.5,
        max_backoff_s: float = 10.0,
    ):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError(f"--ingest {base_url!r}: give an http(s) URL like http://127.0.0.1:8001")
        self.parts, self.api_key, self.timeout = parts, api_key, timeout
        self.max_attempts, self.backoff_s, self.max_backoff_s = max_attempts, backoff_s, max_backoff_s
        self.path = (parts.path.rstrip("/") or "") + "/v1/articles"
        self._local = threading.local()
        self.retries = 0  # answers that asked us to wait (429/503) or dropped connections
        self._count = threading.Lock()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.parts.scheme == "https" else http.client.HTTPConnection
            conn = self._local.conn = cls(self.parts.hostname, self.parts.port, timeout=self.timeout)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        with self._count:
            self.retries += 1
        delay = min(self.max_backoff_s, self.backoff_s * 2**attempt) * (0.5 + random.random() / 2)
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after), 60.0))
        time.sleep(delay)

    def post(self, item: Item) -> Outcome:
        payload = item.text.encode("utf-8", "surrogateescape")
        headers = {
            "Content-Type": "application/json",
            "X-API-Key": self.api_key,
            "X-Request-Id": "import-" + item.key[:24],
        }
        last_error = ""
        for attempt in range(self.max_attempts):
            try:
                conn = self._conn()
                conn.request("POST", self.path, body=payload, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                if resp.getheader("Connection", "").lower() == "close" or resp.version == 10:
                    self._drop()
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                last_error = f"{type(exc).__name__}: {exc}"
                self._wait(attempt, None)
                continue
            if resp.status in RETRY_STATUSES and attempt + 1 < self.max_attempts:
                self._wait(attempt, resp.getheader("Retry-After"))
                continue
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"error": {"status": resp.status, "reason": raw[:500].decode("utf-8", "replace")}}
            return Outcome(item, resp.status, body, attempt + 1)
        raise Unreachable(f"{self.parts.geturl()} did not answer after {self.max_attempts} attempts ({last_error})")


# ---------------------------------------------------------------- the run


@dataclass
class Summary:
    read: int = 0
    skipped: int = 0  # accepted by an earlier run (state file)
    accepted: int = 0
    rejected: int = 0
    events: int = 0
    queued: int = 0  # accepted with delivery "queued" (the log was slow or away)
    retries: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    reasons: dict[str, int] = field(default_factory=dict)

    def as_json(self, state: str, rejects: str) -> dict:
        rate = self.accepted / self.seconds if self.seconds else None
        return {
            "read": self.read,
            "skipped_already_accepted": self.skipped,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "events": self.events,
            "queued": self.queued,
            "retries": self.retries,
            "seconds": round(self.seconds, 2),
            "articles_per_s": round((self.accepted + self.rejected) / self.seconds, 1) if self.seconds else None,
            "accepted_per_s": round(rate, 1) if rate is not None else None,
            "interrupted": self.interrupted,
            "rejected_by_reason": dict(sorted(self.reasons.items())),
            "state_file": state,
            "rejects_file": rejects,
        }


def _reason(outcome: Outcome) -> tuple[str, dict]:
    err = (outcome.body or {}).get("error") if isinstance(outcome.body, dict) else None
    if isinstance(err, dict):
        return str(err.get("reason") or outcome.status), err.get("fields") or {}
    return f"HTTP {outcome.status}", {}


def run_import(
    items: Iterable[Item],
    client: IngestClient,
    state_path: str,
    rejects_path: str,
    concurrency: int = 4,
    progress=None,
    stop: threading.Event | None = None,
) -> Summary:
    """Post every item not yet accepted, at most `concurrency` at a time. `stop` (set by
    SIGINT) stops new posts; those in flight finish and are recorded."""
    items = list(items)
    stop = stop or threading.Event()
    done = load_state(state_path)
    summary = Summary(read=len(items))
    todo = []
    for item in items:
        if item.key in done:
            summary.skipped += 1
        else:
            done.add(item.key)  # a key twice in the sources is posted once
            todo.append(item)
    if progress is not None:
        progress.reset(total=len(todo))
    started = time.monotonic()
    with (
        open(state_path, "a", encoding="utf-8") as state,
        open(rejects_path, "w", encoding="utf-8", errors="surrogateescape") as rejects,
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="import") as pool,
    ):
        pending: set[Future] = set()
        queue = iter(todo)

        def record(outcome: Outcome) -> None:
            if outcome.status == 202:
                body = outcome.body or {}
                state.write(
                    json.dumps(
                        {
                            "key": outcome.item.key,
                            "article_id": body.get("article_id"),
                            "story_id": body.get("story_id"),
                            "source": outcome.item.source,
                        }
                    )
                    + "\n"
                )
                state.flush()
                summary.accepted += 1
                summary.events += len(body.get("events") or ())
                summary.queued += body.get("delivery") == "queued"
            else:
                reason, fields = _reason(outcome)
                rejects.write(
                    json.dumps(
                        {
                            "source": outcome.item.source,
                            "status": outcome.status,
                            "reason": reason,
                            "fields": fields,
                            "line": outcome.item.text,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
                rejects.flush()
                summary.rejected += 1
                # grouped by kind: the reason's head (parser positions dropped) and the fields named
                short = reason.split(": ")[0] if not fields else f"{reason}: {', '.join(sorted(fields))}"
                summary.reasons[short[:120]] = summary.reasons.get(short[:120], 0) + 1
            if progress is not None:
                progress.set_postfix(accepted=summary.accepted, rejected=summary.rejected, refresh=False)
                progress.update(1)

        try:
            while True:
                while not stop.is_set() and len(pending) < concurrency * 2:
                    item = next(queue, None)
                    if item is None:
                        break
                    pending.add(pool.submit(client.post, item))
                if not pending:
                    break
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in finished:
                    record(fut.result())
        except Unreachable:
            stop.set()
            for fut in pending:  # what is already in flight still counts
                try:
                    record(fut.result())
                except Unreachable:
                    pass
            raise
        finally:
            os.fsync(state.fileno())
            summary.seconds = time.monotonic() - started
            summary.retries = client.retries
            summary.interrupted = stop.is_set() and summary.accepted + summary.rejected < len(todo)
    return summary


def api_key_from_environment(settings) -> str | None:
    """The first key the services accept (STORYLINE_API_KEYS / _FILE), else the key
    `storyline serve` generated in the data dir."""
    if settings.api_keys:
        return settings.api_keys[0]
    path = os.path.join(settings.data_dir, "api-key")
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def main(args) -> int:
    """The CLI's entry (services.cli wires the arguments)."""
    from tqdm import tqdm

    from shared.config import Settings

    settings = Settings.from_env()
    key = api_key_from_environment(settings)
    if not key:
        print("storyline import: no API key: set STORYLINE_API_KEYS (or STORYLINE_API_KEYS_FILE)", file=sys.stderr)
        return 2
    if args.concurrency < 1 or args.concurrency > 64:
        print("storyline import: --concurrency must lie in 1..64", file=sys.stderr)
        return 2
    try:
        client = IngestClient(args.ingest or f"http://127.0.0.1:{settings.ingest_port}", key)
        items = read_sources(args.sources)
    except SourceError as exc:
        print(f"storyline import: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_sigint(*_):
        if stop.is_set():  # a second Ctrl-C: leave now; the state file holds what was accepted
            os._exit(130)
        stop.set()
        print(
            "\nstoryline import: stopping after the requests in flight (Ctrl-C again to leave now)",
            file=sys.stderr,
            flush=True,
        )

    previous = signal.signal(signal.SIGINT, on_sigint)
    status = 0
    try:
        with tqdm(
            unit="art", desc="import", file=sys.stderr, disable=args.quiet, dynamic_ncols=True, mininterval=0.25
        ) as bar:
            summary = run_import(items, client, args.state, args.rejects, args.concurrency, bar, stop)
    except Unreachable as exc:
        print(f"storyline import: {exc}; rerun to resume (accepted articles are in {args.state})", file=sys.stderr)
        return 3
    finally:
        signal.signal(signal.SIGINT, previous)
    print(json.dumps(summary.as_json(args.state, args.rejects), ensure_ascii=False))
    if summary.interrupted:
        status = 130
    elif summary.rejected and not args.allow_rejects:
        print(
            f"storyline import: {summary.rejected} article(s) rejected; reasons in {args.rejects} "
            "(--allow-rejects to exit 0)",
            file=sys.stderr,
        )
        status = 1
    return status
