"""The embedded store: the read model in one SQLite file, natively.

One connection per thread (WAL: readers never wait for the writer, and the writer waits
only for another writer, on SQLite's own lock). A projection batch is one transaction, so
its events, summaries and tracking records land together: exactly-once is exact here.

Tables per generation g: timeline_events_g{g} (the document as JSON plus the columns the
timeline filters on), stories_g{g} (the summary as JSON plus columns for the stories list),
tracking_g{g}. `projection_meta` holds the readers' pointer and the generation counter;
`story_index` is ingest's article index (see services/ingest/story_index.py).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import orjson

from shared.domain import read_model, readings
from shared.domain.corrections import apply_change
from shared.domain.summaries import summarise
from shared.ports import EventQuery, Freshness, StoreUnavailable, StoryQuery

FILE_NAME = "read_model.sqlite"
CONNECTION_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",  # WAL: durable at each checkpoint, never corrupt
)
_SEP = "\x1f"
_IN_CHUNK = 500  # host parameters per IN (...) list, well under SQLite's limit
_EVENT_MARKS = "(" + ",".join("?" * 10) + ")"
_ROWS_PER_INSERT = 1000  # 10 columns: 10,000 host parameters, under the 32,766 SQLite allows
_GENERATION_TABLE = re.compile(r"^timeline_events_g(\d+)$")


def _dumps(doc: dict[str, Any]) -> str:
    return orjson.dumps(doc).decode()


_loads = orjson.loads


def _marks(n: int) -> str:
    return ",".join("?" * n)


class _Tables:
    def __init__(self, generation: int):
        self.generation = generation
        self.events = read_model.events_name(generation)
        self.stories = read_model.stories_name(generation)
        self.tracking = read_model.tracking_name(generation)


def _event_row(doc: dict[str, Any]) -> tuple[Any, ...]:
    return (
        doc["event_id"],
        doc["story_id"],
        doc["sort"],
        doc["event_type"],
        doc["actor"]["name"].lower(),
        doc["status"],
        doc["recorded_at"],
        doc.get("change_offset", -1),
        doc["log"]["partition"],
        _dumps(doc),
    )


def _story_row(doc: dict[str, Any]) -> tuple[Any, ...]:
    names = [p["name"].lower() for p in doc["participants"]]
    actors = [p["name"].lower() for p in doc["participants"] if "actor" in p["roles"]]
    search = _SEP.join([(doc.get("title") or "").lower(), *names, doc["story_id"].lower()])
    types = [t for t, n in doc["counts"].items() if n > 0]
    return (
        doc["story_id"],
        doc.get("last_recorded_at") or "",
        search,
        _SEP + _SEP.join(actors) + _SEP,
        _SEP + _SEP.join(types) + _SEP,
        _dumps(doc),
    )


class SqliteStore:
    """Both ports of the read model (ProjectionStore, ReadStore) and ingest's ArticleIndex."""

    def __init__(self, directory: str):
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, FILE_NAME)
        self._local = threading.local()
        self._ready: set[int] = set()
        self._ready_lock = threading.Lock()  # guards the set above, never a read or a write
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS projection_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS story_index (article_id TEXT PRIMARY KEY, story_id TEXT NOT NULL,"
                " names TEXT NOT NULL, terms TEXT NOT NULL, published TEXT NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS story_index_published ON story_index (published)")
            db.execute("CREATE INDEX IF NOT EXISTS story_index_story ON story_index (story_id)")
        self.ensure_generation(self.current_generation())

    # ------------------------------------------------------------ connections

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            try:
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                for pragma in CONNECTION_PRAGMAS:
                    db.execute(pragma)
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open {self.path}: {exc}") from exc
            self._local.db = db
        return db

    @contextlib.contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def has_projected(self) -> bool:
        """Whether any generation holds a tracking record (something was ever applied)."""
        db = self._connection()
        return any(
            db.execute(f"SELECT 1 FROM {read_model.tracking_name(g)} LIMIT 1").fetchone()
            for g in self._generations_in(db)
        )

    def ping(self) -> None:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # ------------------------------------------------------------ generations

    @staticmethod
    def _generation(db: sqlite3.Connection) -> int:
        row = db.execute("SELECT value FROM projection_meta WHERE key = 'current'").fetchone()
        return int(row[0]) if row else read_model.FIRST_GENERATION

    def current_generation(self) -> int:
        return self._generation(self._connection())

    def ensure_generation(self, generation: int) -> None:
        if generation in self._ready:
            return
        t = _Tables(generation)
        with self._transaction() as db:
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {t.events} (event_id TEXT PRIMARY KEY, story_id TEXT NOT NULL,"
                " sort TEXT NOT NULL, event_type TEXT NOT NULL, actor TEXT NOT NULL, status TEXT NOT NULL,"
                " recorded_at TEXT NOT NULL, change_offset INTEGER NOT NULL, log_partition INTEGER NOT NULL,"
                " doc TEXT NOT NULL)"
            )
            db.execute(f"CREATE INDEX IF NOT EXISTS {t.events}_story_sort ON {t.events} (story_id, sort)")
            db.execute(f"CREATE INDEX IF NOT EXISTS {t.events}_changes ON {t.events} (log_partition, change_offset)")
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {t.stories} (story_id TEXT PRIMARY KEY, last_recorded_at TEXT"
                " NOT NULL, search TEXT NOT NULL, actors TEXT NOT NULL, types TEXT NOT NULL, doc TEXT NOT NULL)"
            )
            db.execute(f"CREATE INDEX IF NOT EXISTS {t.stories}_recent ON {t.stories} (last_recorded_at, story_id)")
            db.execute(f"CREATE TABLE IF NOT EXISTS {t.tracking} (key TEXT PRIMARY KEY, next_offset INTEGER NOT NULL)")
        with self._ready_lock:
            self._ready.add(generation)

    def _generations_in(self, db: sqlite3.Connection) -> list[int]:
        names = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return [int(m.group(1)) for (name,) in names if (m := _GENERATION_TABLE.match(name))]

    def open_generation(self) -> int:
        with self._transaction() as db:
            row = db.execute("SELECT value FROM projection_meta WHERE key = 'latest'").fetchone()
            new = max([self._generation(db), row[0] if row else 0, *self._generations_in(db)]) + 1
            db.execute("INSERT OR REPLACE INTO projection_meta VALUES ('latest', ?)", (new,))
        self.ensure_generation(new)
        return new

    def switch_generation(self, generation: int) -> None:
        self.ensure_generation(generation)
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO projection_meta VALUES ('current', ?)", (generation,))

    def drop_generation(self, generation: int) -> None:
        t = _Tables(generation)
        with self._transaction() as db:
            for name in (t.events, t.stories, t.tracking):
                db.execute(f"DROP TABLE IF EXISTS {name}")
        with self._ready_lock:
            self._ready.discard(generation)

    # ------------------------------------------------------------ projection side

    def tracked(self, generation: int, key: str) -> int:
        self.ensure_generation(generation)
        row = (
            self._connection()
            .execute(f"SELECT next_offset FROM {_Tables(generation).tracking} WHERE key = ?", (key,))
            .fetchone()
        )
        return int(row[0]) if row else -1

    def has_event(self, generation: int, event_id: str) -> bool:
        self.ensure_generation(generation)
        return (
            self._connection()
            .execute(f"SELECT 1 FROM {_Tables(generation).events} WHERE event_id = ?", (event_id,))
            .fetchone()
            is not None
        )

    @contextlib.contextmanager
    def batch(self, generation: int) -> Iterator[_Batch]:
        self.ensure_generation(generation)
        with self._transaction() as db:
            yield _Batch(db, _Tables(generation))

    # ------------------------------------------------------------ read side

    @contextlib.contextmanager
    def view(self) -> Iterator[_View]:
        """One read transaction: every read of a request sees one snapshot."""
        generation = self.current_generation()
        self.ensure_generation(generation)
        with self._transaction(write=False) as db:
            yield _View(db, _Tables(self._generation(db)))

    # ------------------------------------------------------------ ingest's article index

    def story_of(self, article_id: str) -> str | None:
        row = (
            self._connection()
            .execute("SELECT story_id FROM story_index WHERE article_id = ?", (article_id,))
            .fetchone()
        )
        return row[0] if row else None

    def has_story(self, story_id: str) -> bool:
        return (
            self._connection().execute("SELECT 1 FROM story_index WHERE story_id = ? LIMIT 1", (story_id,)).fetchone()
            is not None
        )

    def profiles_between(self, start: str, end: str, limit: int) -> list[tuple[str, list[str], list[str], str]]:
        rows = (
            self._connection()
            .execute(
                "SELECT story_id, names, terms, published FROM story_index WHERE published BETWEEN ? AND ?"
                " ORDER BY published DESC LIMIT ?",
                (start, end, limit),
            )
            .fetchall()
        )
        return [(s, json.loads(n), json.loads(t), p) for s, n, t, p in rows]

    def record(self, article_id: str, story_id: str, names: list[str], terms: list[str], published: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO story_index VALUES (?, ?, ?, ?, ?)",
                (article_id, story_id, json.dumps(names), json.dumps(terms), published),
            )


class _Batch:
    def __init__(self, db: sqlite3.Connection, t: _Tables):
        self.db, self.t = db, t

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        """Many rows per statement: SQLite then inserts a whole chunk inside one call that
        releases the interpreter lock, where executemany takes it back after every row (and
        waits for it while the projector's other thread decodes the next batch)."""
        for i in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[i : i + _ROWS_PER_INSERT]
            self.db.execute(
                f"INSERT INTO {self.t.events} VALUES {','.join([_EVENT_MARKS] * len(chunk))} ON CONFLICT DO NOTHING",
                list(itertools.chain.from_iterable(chunk)),
            )

    def insert_new(self, docs: list[dict[str, Any]]) -> set[str]:
        rows = [_event_row(d) for d in docs]
        # The common case is a batch of new events: insert them all and count. Only when some
        # were there already (a redelivery) undo that and ask which, then insert the rest.
        self.db.execute("SAVEPOINT insert_new")
        before = self.db.total_changes
        self._insert(rows)
        if self.db.total_changes - before == len(rows):
            self.db.execute("RELEASE insert_new")
            return {d["event_id"] for d in docs}
        self.db.execute("ROLLBACK TO insert_new")
        self.db.execute("RELEASE insert_new")
        ids = [d["event_id"] for d in docs]
        stored: set[str] = set()
        for i in range(0, len(ids), _IN_CHUNK):
            chunk = ids[i : i + _IN_CHUNK]
            stored.update(
                r[0]
                for r in self.db.execute(
                    f"SELECT event_id FROM {self.t.events} WHERE event_id IN ({_marks(len(chunk))})", chunk
                )
            )
        self._insert([r for r in rows if r[0] not in stored])
        return {i for i in ids if i not in stored}

    def apply_change(self, change: dict[str, Any], offset: int) -> str | None:
        row = self.db.execute(
            f"SELECT doc FROM {self.t.events} WHERE event_id = ?", (change["details"]["event_id"],)
        ).fetchone()
        if row is None:
            return None
        target = _loads(row[0])
        changed = apply_change(target, change, offset)
        if changed is not None:
            self.db.execute(f"DELETE FROM {self.t.events} WHERE event_id = ?", (target["event_id"],))
            self.db.execute(f"INSERT INTO {self.t.events} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _event_row(changed))
        return str(target["story_id"])

    def replace_reading(self, reading: dict[str, Any]) -> str:
        # read and write in the batch's transaction: the switch lands whole or not at all
        rows = self.db.execute(
            f"SELECT doc FROM {self.t.events} WHERE story_id = ? AND json_extract(doc, '$.source.article_id') = ?",
            (reading["story_id"], reading["details"]["article_id"]),
        ).fetchall()
        stored = {d["event_id"]: d for d in (_loads(r[0]) for r in rows)}
        plan = readings.switch(list(stored.values()), reading)
        self.insert_new(plan.insert)
        replaced = []
        for event_id, new, record in plan.update:
            doc = stored.get(event_id)
            changed = readings.updated(doc, new, record) if doc is not None else None
            if changed is not None:
                stored[event_id] = changed
                replaced.append(_event_row(changed))
        self.db.executemany(f"INSERT OR REPLACE INTO {self.t.events} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", replaced)
        return str(reading["story_id"])

    def fold_summaries(self, inserted: list[dict[str, Any]], recompute: set[str]) -> None:
        by_story: dict[str, list[dict[str, Any]]] = {}
        for ev in inserted:
            if ev["story_id"] not in recompute:
                by_story.setdefault(ev["story_id"], []).append(ev)
        existing: dict[str, dict[str, Any]] = {}
        ids = list(by_story)
        for i in range(0, len(ids), _IN_CHUNK):
            chunk = ids[i : i + _IN_CHUNK]
            for story_id, doc in self.db.execute(
                f"SELECT story_id, doc FROM {self.t.stories} WHERE story_id IN ({_marks(len(chunk))})", chunk
            ):
                existing[story_id] = _loads(doc)
        rows = [_story_row(summarise(s, evs, existing.get(s))) for s, evs in by_story.items()]
        for story_id in recompute:
            evs = [
                _loads(d)
                for (d,) in self.db.execute(f"SELECT doc FROM {self.t.events} WHERE story_id = ?", (story_id,))
            ]
            rows.append(_story_row(summarise(story_id, evs, None)))
        self.db.executemany(f"INSERT OR REPLACE INTO {self.t.stories} VALUES (?, ?, ?, ?, ?, ?)", rows)

    def advance_tracking(self, positions: dict[str, int]) -> None:
        self.db.executemany(
            f"INSERT INTO {self.t.tracking} VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
            " SET next_offset = max(next_offset, excluded.next_offset)",
            list(positions.items()),
        )


class _View:
    def __init__(self, db: sqlite3.Connection, t: _Tables):
        self.db, self.t = db, t
        self.generation = t.generation

    def freshness(self) -> Freshness:
        rows = self.db.execute(f"SELECT key, next_offset FROM {self.t.tracking}").fetchall()
        return Freshness(self.generation, {k: int(v) for k, v in rows})

    def story(self, story_id: str) -> dict[str, Any] | None:
        row = self.db.execute(f"SELECT doc FROM {self.t.stories} WHERE story_id = ?", (story_id,)).fetchone()
        return _loads(row[0]) if row else None

    def stories(self, query: StoryQuery) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        where, args = [], []
        if query.text:
            where.append("instr(search, ?) > 0")
            args.append(query.text.lower())
        if query.actor:
            where.append("instr(actors, ?) > 0")
            args.append(_SEP + query.actor.lower() + _SEP)
        if query.event_type:
            where.append("instr(types, ?) > 0")
            args.append(_SEP + query.event_type + _SEP)
        if query.after:
            where.append("(last_recorded_at < ? OR (last_recorded_at = ? AND story_id < ?))")
            args += [query.after[0], query.after[0], query.after[1]]
        sql = f"SELECT doc FROM {self.t.stories}" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.db.execute(
            sql + " ORDER BY last_recorded_at DESC, story_id DESC LIMIT ?", (*args, query.limit + 1)
        ).fetchall()
        docs = [_loads(d) for (d,) in rows[: query.limit]]
        more = len(rows) > query.limit and docs
        return docs, ((docs[-1].get("last_recorded_at") or "", docs[-1]["story_id"]) if more else None)

    def events(self, story_id: str, query: EventQuery) -> list[dict[str, Any]]:
        where, args = ["story_id = ?"], [story_id]
        for clause, value in (
            ("event_type IN ({})", query.types),
            ("actor = ?", query.actor),
            ("sort >= ?", query.sort_from),
            ("sort < ?", query.sort_below),
            ("sort > ?", query.after),
            ("sort <= ?", query.through),
            ("recorded_at <= ?", query.recorded_by),
        ):
            if not value:
                continue
            if isinstance(value, tuple):
                where.append(clause.format(_marks(len(value))))
                args += list(value)
            else:
                where.append(clause)
                args.append(value.lower() if clause == "actor = ?" else value)
        if query.statuses is not None:
            where.append(f"status IN ({_marks(len(query.statuses))})")
            args += list(query.statuses)
        sql = f"SELECT doc FROM {self.t.events} WHERE {' AND '.join(where)} ORDER BY sort, event_id"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)}"
        return [_loads(d) for (d,) in self.db.execute(sql, args)]

    def changed_since(self, since: dict[int, int]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for partition, offset in sorted(since.items()):
            rows = self.db.execute(
                f"SELECT doc FROM {self.t.events} WHERE log_partition = ? AND change_offset >= ?"
                " ORDER BY change_offset, event_id",
                (partition, offset),
            ).fetchall()
            out += [_loads(d) for (d,) in rows]
        return out

    def changes_since(self, story_id: str, offset: int) -> list[dict[str, Any]]:
        rows = self.db.execute(
            f"SELECT doc FROM {self.t.events} WHERE story_id = ? AND change_offset > ? ORDER BY change_offset, event_id",
            (story_id, offset),
        ).fetchall()
        return [_loads(d) for (d,) in rows]
