"""One contract for every read-model store: SQLite (the embedded default), in memory, and
MongoDB (the SecantusDB server `make test` starts; STORYLINE_TEST_MONGO). Each test runs on
each adapter through the ports of shared/ports.py only, the way the eventsourcing library
tests its recorders: as-of, cursors, corrections, generations, redelivery and ordering.
"""

from __future__ import annotations

import contextlib
import os
import typing
import uuid

import pytest

from shared.adapters.memory_store import MemoryStore
from shared.adapters.sqlite_store import SqliteStore
from shared.domain import corrections, events, read_model, readings
from shared.ports import ArticleIndex, EventQuery, ProjectionStore, ReadStore, StoryQuery

KINDS = ["sqlite", "memory", "mongodb"]


@contextlib.contextmanager
def store_of_kind(kind: str, tmp_path, database: str):
    """One adapter, opened fresh for a test and closed (a MongoDB database dropped) after it."""
    if kind == "sqlite":
        s = SqliteStore(str(tmp_path / "store"))
    elif kind == "memory":
        s = MemoryStore()
    else:
        mongo = os.environ.get("STORYLINE_TEST_MONGO")
        if not mongo:
            if os.environ.get("STORYLINE_FAST"):
                pytest.skip("fast tier: MongoDB runs under make test")
            pytest.fail("STORYLINE_TEST_MONGO is not set: run with `make test`, which starts the servers")
        from shared.adapters.mongo_store import MongoStore, open_database

        db = open_database(f"mongodb://{mongo}/{database}_{uuid.uuid4().hex[:8]}")
        s = MongoStore(db)
        try:
            yield s
        finally:
            db.client.drop_database(db.name)
            s.close()
        return
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(params=KINDS)
def store(request, tmp_path):
    with store_of_kind(request.param, tmp_path, "storyline_contract") as s:
        yield s


def finding(n: int, story: str = "s1", day: str | None = "2025-03-01", **over) -> dict:
    ev = {
        "event_id": f"ev-{story}-{n:05d}",
        "event_type": "allegation_made",
        "schema_version": 2,
        "story_id": story,
        "occurred_at": day,
        "occurred_precision": "day" if day else None,
        "published_at": "2025-03-02T08:00:00Z",
        "recorded_at": f"2025-03-02T09:00:{n % 60:02d}.000Z",
        "actor": {"name": f"Speaker {n % 3}", "kind": "person"},
        "target": None,
        "quote": None,
        "summary": f"claim {n}",
        "details": {},
        "source": {
            "article_id": f"art-{n // 10}",
            "url": None,
            "outlet": "Example",
            "title": f"Title {story}",
            "sentence": "s",
            "char_start": 0,
            "char_end": 1,
        },
        "extractor": {"version": "t", "confidence": 0.5},
        "responds_to": [],
    }
    ev.update(over)
    return read_model.event_document(ev, 0, n, 1_700_000_000_000 + n)


def change(
    n: int,
    target: dict,
    kind: str = "event_corrected",
    changes: dict | None = None,
    recorded_at: str = "2025-03-05T00:00:00.000Z",
) -> dict:
    return {
        "event_id": f"chg-{n}",
        "event_type": kind,
        "story_id": target["story_id"],
        "recorded_at": recorded_at,
        "actor": {"name": "Desk", "kind": "person"},
        "details": {"event_id": target["event_id"], "changes": changes or {}, "reason": "checked"},
        "log": {"partition": 0, "offset": 1000 + n, "timestamp_ms": 0},
    }


def write(store, docs=(), changes=(), tracking=None, generation=None):
    g = generation or store.current_generation()
    with store.batch(g) as tx:
        new = tx.insert_new(list(docs))
        inserted = [d for d in docs if d["event_id"] in new]
        redelivered = {d["story_id"] for d in docs if d["event_id"] not in new}
        touched = {tx.apply_change(c, off) for c, off in changes} - {None}
        tx.fold_summaries(inserted, redelivered | touched)
        tx.advance_tracking(tracking or {})
    return new


def events_of(store, story="s1", **q):
    with store.view() as v:
        return v.events(story, EventQuery(**q))


def test_adapters_satisfy_the_protocols(store):
    """Every adapter has each operation of each port, with the port's parameter names."""
    for port in (ProjectionStore, ReadStore, ArticleIndex):
        for name, member in vars(port).items():
            if name.startswith("_") or not callable(member):
                continue
            assert callable(getattr(store, name, None)), f"{type(store).__name__} lacks {port.__name__}.{name}"
            want = list(typing.get_type_hints(member).keys())
            got = list(typing.get_type_hints(getattr(type(store), name)).keys())
            assert [w for w in want if w != "return"] == [g for g in got if g != "return"], (port.__name__, name)


def test_insert_says_which_were_new_and_never_overwrites(store):
    docs = [finding(i) for i in range(5)]
    assert write(store, docs) == {d["event_id"] for d in docs}
    again = [dict(d, summary="overwritten?") for d in docs[:3]] + [finding(7)]
    assert write(store, again) == {finding(7)["event_id"]}
    stored = {e["event_id"]: e for e in events_of(store)}
    assert len(stored) == 6 and all(stored[d["event_id"]]["summary"] == d["summary"] for d in docs)
    assert stored[docs[0]["event_id"]] == docs[0]  # the document comes back as it went in


def test_events_come_in_sort_order_with_filters_and_cursor(store):
    docs = [
        finding(i, day=f"2025-03-{1 + (i * 7) % 20:02d}", event_type=("rebuttal_given" if i % 2 else "allegation_made"))
        for i in range(40)
    ]
    write(store, docs)
    got = events_of(store)
    assert [e["sort"] for e in got] == sorted(d["sort"] for d in docs)
    assert {e["event_type"] for e in events_of(store, types=("rebuttal_given",))} == {"rebuttal_given"}
    assert {e["actor"]["name"] for e in events_of(store, actor="SPEAKER 1")} == {"Speaker 1"}
    window = events_of(store, sort_from="2025-03-05", sort_below="2025-03-10")
    assert window and all("2025-03-05" <= e["sort"] < "2025-03-10" for e in window)
    first = events_of(store, limit=15)
    rest = events_of(store, after=first[-1]["sort"])
    assert [e["event_id"] for e in first + rest] == [e["event_id"] for e in got]
    upto = events_of(store, through=first[-1]["sort"])
    assert upto == first
    assert events_of(store, "other-story") == []


def test_insert_new_names_only_the_ids_it_stored_and_never_overwrites(store):
    write(store, [finding(1), finding(2)])
    first_copy = finding(3, summary="first copy")
    with store.batch(store.current_generation()) as tx:
        # stored ones, a new one given twice, and another new one, in one call
        new = tx.insert_new([finding(1, summary="changed"), first_copy, finding(3, summary="second copy"), finding(4)])
    assert new == {first_copy["event_id"], finding(4)["event_id"]}
    by_id = {e["event_id"]: e for e in events_of(store)}
    assert by_id[finding(1)["event_id"]]["summary"] == "claim 1"  # the stored one stands
    assert by_id[first_copy["event_id"]]["summary"] == "first copy"  # the first of two copies counts
    assert len(by_id) == 4


def test_summaries_fold_incrementally_and_match_a_full_recompute(store):
    write(store, [finding(i) for i in range(6)])
    write(store, [finding(i, target={"name": "Office", "kind": "organisation"}) for i in range(6, 10)])
    with store.view() as v:
        folded = v.story("s1")
    write(store, [finding(0)])  # a redelivery: the summary is recomputed from the events
    with store.view() as v:
        assert v.story("s1") == folded
    assert folded["event_count"] == 10 and folded["counts"] == {"allegation_made": 10}
    assert {p["name"]: p["roles"] for p in folded["participants"]}["Office"] == ["target"]
    assert folded["sources"] == ["art-0"] and folded["title"] == "Title s1"


def test_a_correction_applies_once_and_as_known_at_undoes_it(store):
    target = finding(1)
    write(store, [target, finding(2)])
    fix = change(1, target, changes={"occurred_at": "2025-02-20", "summary": "fixed"})
    write(store, changes=[(fix, 50)])
    write(store, changes=[(fix, 50)])  # redelivered: no second history record
    [now] = [e for e in events_of(store) if e["event_id"] == target["event_id"]]
    assert now["status"] == "corrected" and now["summary"] == "fixed" and len(now["history"]) == 1
    assert now["sort"].startswith("2025-02-20") and now["change_offset"] == 50
    assert now["history"][0]["log"] == {"partition": 0, "offset": 1001}
    before = corrections.as_known_at(now, "2025-03-04T00:00:00.000Z")
    assert {k: before[k] for k in ("summary", "occurred_at", "sort", "status", "entry_id")} == {
        k: target[k] for k in ("summary", "occurred_at", "sort", "status", "entry_id")
    }
    retract = change(2, target, kind="event_retracted")
    write(store, changes=[(retract, 51)])
    assert [e["event_id"] for e in events_of(store)] == [finding(2)["event_id"]]
    assert len(events_of(store, include_retracted=True)) == 2
    with store.view() as v:
        assert v.story("s1")["event_count"] == 1
    unknown = change(3, finding(99))
    with store.batch(store.current_generation()) as tx:
        assert tx.apply_change(unknown, 52) is None


def _wire(doc: dict, **over) -> dict:
    """A stored document back as the event on the wire (what a reading carries)."""
    out = {k: v for k, v in doc.items() if k not in ("log", "status", "history", "change_offset", "sort", "entry_id")}
    return {**out, **over}


def reading_replaced(
    evs: list[dict], article: str = "art-0", recorded_at: str = "2025-03-04T00:00:00.000Z", offset: int = 500
) -> dict:
    rid = readings.reading_id(article, "B", evs)
    art = {"article_id": article, "published_at": "2025-03-02T08:00:00Z"}
    ev = events.decode(events.encode(events.reading_event(art, "s1", rid, "B", evs, recorded_at)))
    ev["log"] = {"partition": 0, "offset": offset, "timestamp_ms": 0}  # as the projection stamps it
    return ev


def switch(store, reading: dict) -> str:
    with store.batch(store.current_generation()) as tx:
        story = tx.replace_reading(reading)
        tx.fold_summaries([], {story})
    return story


def test_a_new_reading_replaces_the_old_one_in_one_write(store):
    old = [finding(1), finding(2), finding(3)]  # article art-0, reading A
    other = finding(15)  # another article of the same story: untouched by art-0's readings
    write(store, [*old, other])
    switched_at = "2025-03-04T00:00:00.000Z"
    b = [
        _wire(old[0]),
        _wire(old[1], summary="claim 2, read again"),
        _wire(finding(4), recorded_at=switched_at, extractor={"version": "B", "confidence": 0.5}),
    ]
    reading = reading_replaced(b, recorded_at=switched_at)
    rid = reading["details"]["reading_id"]

    if not (type(store).__name__ == "MongoStore" and not store._offers_transactions()):
        with pytest.raises(RuntimeError):  # a batch that fails leaves the old reading whole
            with store.batch(store.current_generation()) as tx:
                tx.replace_reading(reading)
                raise RuntimeError("crash mid-batch")
        assert [e["event_id"] for e in events_of(store)] == [d["event_id"] for d in (*old, other)]

    assert switch(store, reading) == "s1"
    shown = {e["event_id"]: e for e in events_of(store)}
    assert set(shown) == {old[0]["event_id"], old[1]["event_id"], finding(4)["event_id"], other["event_id"]}
    assert shown[old[1]["event_id"]]["summary"] == "claim 2, read again"
    assert shown[old[0]["event_id"]]["history"] == []  # the same in both readings: left alone
    assert shown[finding(4)["event_id"]]["change_offset"] == 500
    [reread] = shown[old[1]["event_id"]]["history"]
    assert reread["kind"] == "reread" and reread["change_id"] == reading["event_id"] and reread["reading"] == rid
    assert reread["previous"]["summary"] == "claim 2" and reread["log"] == {"partition": 0, "offset": 500}

    everything = {e["event_id"]: e for e in events_of(store, include_retracted=True, include_superseded=True)}
    gone = everything[old[2]["event_id"]]
    assert gone["status"] == "superseded" and gone["superseded_by"] == rid and gone["change_offset"] == 500
    assert [h["kind"] for h in gone["history"]] == ["superseded"]
    assert old[2]["event_id"] not in {e["event_id"] for e in events_of(store, include_retracted=True)}
    with store.view() as v:
        summary = v.story("s1")
    assert summary["event_count"] == 4 and summary["counts"] == {"allegation_made": 4}

    switch(store, reading)  # redelivered: nothing changes, nothing is counted twice
    again = {e["event_id"]: e for e in events_of(store, include_retracted=True, include_superseded=True)}
    assert [len(again[i]["history"]) for i in sorted(again)] == [len(everything[i]["history"]) for i in sorted(again)]
    with store.view() as v:
        assert v.story("s1")["event_count"] == 4

    # as known before the switch: reading A, as it was
    before = "2025-03-03T00:00:00.000Z"
    docs = events_of(store, include_retracted=True, include_superseded=True, recorded_by=before)
    then = {e["event_id"]: e for e in (corrections.as_known_at(d, before) for d in docs) if e is not None}
    assert set(then) == {d["event_id"] for d in (*old, other)}
    assert {e["status"] for e in then.values()} == {"active"}
    assert then[old[1]["event_id"]]["summary"] == "claim 2"


def test_as_of_reads_only_what_was_recorded_by_then(store):
    write(store, [finding(i) for i in range(10)])
    got = events_of(store, recorded_by="2025-03-02T09:00:04.000Z", include_retracted=True)
    assert sorted(e["event_id"] for e in got) == [finding(i)["event_id"] for i in range(5)]


def test_tracking_only_moves_forward_and_freshness_reports_it(store):
    g = store.current_generation()
    assert store.tracked(g, "grp:t:0") == -1
    write(store, tracking={"grp:t:0": 10, "grp:t:1": 4})
    write(store, tracking={"grp:t:0": 7})
    assert store.tracked(g, "grp:t:0") == 10
    with store.view() as v:
        fresh = v.freshness()
    assert fresh.generation == g and fresh.positions == {"grp:t:0": 10, "grp:t:1": 4}
    assert fresh.position == f"g{g};grp:t:0=10;grp:t:1=4"


def test_a_failed_batch_leaves_nothing_where_the_store_has_transactions(store):
    if type(store).__name__ == "MongoStore" and not store._offers_transactions():
        pytest.skip("standalone MongoDB-wire server: no transactions; redelivery covers it (next test)")
    with pytest.raises(RuntimeError):
        with store.batch(store.current_generation()) as tx:
            tx.insert_new([finding(1)])
            tx.advance_tracking({"grp:t:0": 5})
            raise RuntimeError("crash mid-batch")
    assert events_of(store) == [] and store.tracked(store.current_generation(), "grp:t:0") == -1


def test_redelivery_after_a_partial_batch_converges(store):
    """What a crash between the event write and the summary write leaves is mended by the
    replay: the events are there once, the summary is recomputed."""
    docs = [finding(i) for i in range(4)]
    with store.batch(store.current_generation()) as tx:
        tx.insert_new(docs)  # no summaries, no tracking: as if the process died here
    write(store, docs + [finding(4)])
    with store.view() as v:
        assert v.story("s1")["event_count"] == 5
    assert len(events_of(store)) == 5


def test_generations_open_switch_and_drop(store):
    live = store.current_generation()
    write(store, [finding(1)], tracking={"grp:t:0": 2})
    new = store.open_generation()
    assert new > live and store.current_generation() == live
    write(store, [finding(1), finding(2, story="s2")], tracking={"grp:t:0": 3}, generation=new)
    assert len(events_of(store, "s2")) == 0  # readers still on the live generation
    store.switch_generation(new)
    with store.view() as v:
        assert v.generation == new and v.story("s2") is not None
    store.drop_generation(live)
    assert store.open_generation() > new  # numbers are never reused
    assert store.tracked(new, "grp:t:0") == 3


def test_stories_list_newest_first_with_search_and_cursor(store):
    for i in range(7):
        write(
            store,
            [
                finding(
                    i,
                    story=f"story-{i}",
                    recorded_at=f"2025-03-0{1 + i % 3}T00:00:00.000Z",
                    actor={"name": "Ana Ruiz" if i % 2 else "Bo Li", "kind": "person"},
                    event_type="rebuttal_given" if i == 3 else "allegation_made",
                )
            ],
        )
    with store.view() as v:
        page, nxt = v.stories(StoryQuery(limit=3))
        seen = [s["story_id"] for s in page]
        while nxt:
            page, nxt = v.stories(StoryQuery(limit=3, after=nxt))
            seen += [s["story_id"] for s in page]
        order = sorted(((f"2025-03-0{1 + i % 3}", f"story-{i}") for i in range(7)), reverse=True)
        assert seen == [sid for _, sid in order]
        assert {s["story_id"] for s in v.stories(StoryQuery(actor="ana ruiz"))[0]} == {"story-1", "story-3", "story-5"}
        assert [s["story_id"] for s in v.stories(StoryQuery(event_type="rebuttal_given"))[0]] == ["story-3"]
        assert {s["story_id"] for s in v.stories(StoryQuery(text="TITLE STORY-2"))[0]} == {"story-2"}
        assert v.stories(StoryQuery(text="bo l"))[0] and not v.stories(StoryQuery(text="(.*)"))[0]


def test_changes_since_a_log_position(store):
    a, b = finding(1), finding(2)
    write(store, [a, b])
    assert [e["event_id"] for e in in_changes(store, -1)] == [a["event_id"], b["event_id"]]
    assert [e["event_id"] for e in in_changes(store, 1)] == [b["event_id"]]
    write(store, changes=[(change(1, a, changes={"summary": "new"}), 9)])
    assert [(e["event_id"], e["summary"]) for e in in_changes(store, 2)] == [(a["event_id"], "new")]


def test_changed_since_positions_per_partition(store):
    a, b = finding(1), finding(2, story="s2")
    b["log"]["partition"] = 1
    write(store, [a, b, finding(3)])
    with store.view() as v:
        assert [e["event_id"] for e in v.changed_since({0: 3})] == [finding(3)["event_id"]]
        assert [e["event_id"] for e in v.changed_since({0: 99, 1: 0})] == [b["event_id"]]
        assert len(v.changed_since({0: 0, 1: 0})) == 3 and v.changed_since({}) == []
    write(store, changes=[(change(4, a, changes={"summary": "again"}), 40)])
    with store.view() as v:
        assert [e["event_id"] for e in v.changed_since({0: 40})] == [a["event_id"]]


def in_changes(store, offset):
    with store.view() as v:
        return v.changes_since("s1", offset)


def test_article_index(store):
    store.record("a1", "s1", ["ana ruiz"], ["budget"], "2025-03-01T00:00:00Z")
    store.record("a2", "s2", [], ["road"], "2025-03-09T00:00:00Z")
    store.record("a1", "s1", ["ana ruiz"], ["budget", "audit"], "2025-03-01T00:00:00Z")  # idempotent
    assert store.story_of("a1") == "s1" and store.story_of("zz") is None
    assert store.has_story("s2") and not store.has_story("s3")
    rows = store.profiles_between("2025-02-01T00:00:00Z", "2025-03-31T00:00:00Z", 10)
    assert [r[0] for r in rows] == ["s2", "s1"] and rows[1][2] == ["budget", "audit"]
    assert store.profiles_between("2025-03-02T00:00:00Z", "2025-03-31T00:00:00Z", 10)[0][0] == "s2"
