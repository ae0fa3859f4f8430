"""Readings, the pure domain (shared.domain.readings): fast, no servers."""

from __future__ import annotations

from shared.domain import events, read_model, readings, timeline

ART = "art-1"
T0, T1, T2 = "2026-01-01T10:00:00.000Z", "2026-01-02T10:00:00.000Z", "2026-01-03T10:00:00.000Z"


def ev(
    event_id: str,
    event_type="allegation_made",
    actor="Ana Lind",
    summary="Ana Lind alleged it",
    recorded_at=T0,
    version="A",
    article=ART,
    occurred_at="2025-05-01",
) -> dict:
    return {
        "event_id": f"event-{event_id}",
        "event_type": event_type,
        "schema_version": events.SCHEMA_VERSION,
        "story_id": "s1",
        "occurred_at": occurred_at,
        "occurred_precision": "day",
        "published_at": "2025-05-02T00:00:00Z",
        "recorded_at": recorded_at,
        "actor": {"name": actor, "kind": "person"},
        "target": None,
        "quote": None,
        "summary": summary,
        "details": {},
        "source": {
            "article_id": article,
            "url": "https://x.test/1",
            "outlet": "X",
            "title": "T",
            "sentence": "S.",
            "char_start": 0,
            "char_end": 2,
        },
        "extractor": {"version": version, "confidence": 0.9},
        "responds_to": [],
    }


def reading(evs, recorded_at=T1, version="B") -> dict:
    rid = readings.reading_id(ART, version, evs)
    art = {"article_id": ART, "published_at": "2025-05-02T00:00:00Z"}
    out = events.reading_event(art, "s1", rid, version, evs, recorded_at)
    return events.decode(events.encode(out))  # through the contract, as the projection sees it


def test_reading_id_depends_on_content_and_version_not_on_recording_time():
    a = [ev("e1"), ev("e2", actor="Bo Dahl")]
    same_later = [ev("e2", actor="Bo Dahl", recorded_at=T2), ev("e1", recorded_at=T2)]
    assert readings.reading_id(ART, "A", a) == readings.reading_id(ART, "A", same_later)
    assert readings.reading_id(ART, "A", a) != readings.reading_id(ART, "B", a)
    assert readings.reading_id(ART, "A", a) != readings.reading_id(ART, "A", [ev("e1"), ev("e2", summary="other")])


def test_diff_names_added_removed_changed():
    current = {"event-e1": ev("e1"), "event-e2": ev("e2"), "event-e3": ev("e3")}
    new = [ev("e1", recorded_at=T2, version="B"), ev("e2", summary="changed"), ev("e4")]
    d = readings.diff(current, new)
    assert (d.added, d.removed, d.changed) == (["event-e4"], ["event-e3"], ["event-e2"])
    assert readings.diff(current, list(current.values())).empty


def test_current_readings_folds_the_log_and_answers_as_of():
    first = [ev("e1"), ev("e2")]
    replaced = reading([ev("e1", recorded_at=T1, version="B"), ev("e3", recorded_at=T1, version="B")])
    other = ev("x1", article="art-2")
    log = first + [other, replaced, ev("e1", recorded_at=T2)]  # a late duplicate of e1 changes nothing
    now = readings.current_readings(log)
    assert set(now[ART]) == {"event-e1", "event-e3"} and set(now["art-2"]) == {"event-x1"}
    assert set(readings.current_readings(log, as_of=T0)[ART]) == {"event-e1", "event-e2"}
    empty = reading([], recorded_at=T2)
    assert readings.current_readings(log + [empty])[ART] == {}


def _doc(wire: dict, offset: int) -> dict:
    d = dict(wire, log={"partition": 0, "offset": offset, "timestamp_ms": 0})
    d.update(
        _id=d["event_id"], sort=read_model.sort_key(d), entry_id=read_model.entry_id_for(d), status="active", history=[]
    )
    return d


def _make_doc(r):
    def make(e):
        d = {k: v for k, v in e.items() if k != "_id"}
        d.setdefault("log", r["log"])
        d.update(sort=read_model.sort_key(d), entry_id=read_model.entry_id_for(d))
        d.setdefault("status", "active")
        d.setdefault("history", [])
        return d

    return make


def _applied(stored: list[dict], p: readings.Plan) -> dict[str, dict]:
    out = {d["event_id"]: dict(d) for d in stored}
    for eid, new, record in p.update:
        out[eid] = {**out[eid], **new, "history": out[eid]["history"] + [record]}
    for d in p.insert:
        out[d["event_id"]] = d
    return out


def test_plan_inserts_rewrites_supersedes_and_as_of_undoes_it():
    stored = [
        _doc(ev("e1"), 0),
        _doc(ev("e2", event_type="rebuttal_given", actor="Bo Dahl"), 1),
        _doc(ev("e3", summary="old words"), 2),
    ]
    r = reading(
        [
            ev("e1", recorded_at=T1, version="B"),
            ev("e3", summary="new words", recorded_at=T1, version="B"),
            ev("e4", actor="Cy Holm", recorded_at=T1, version="B"),
        ]
    )
    r["log"] = {"partition": 0, "offset": 9, "timestamp_ms": 0}
    p = readings.plan(stored, r, _make_doc(r))
    assert [d["event_id"] for d in p.insert] == ["event-e4"]
    after = _applied(stored, p)
    assert (
        after["event-e2"]["status"] == "superseded" and after["event-e2"]["superseded_by"] == r["details"]["reading_id"]
    )
    assert after["event-e3"]["summary"] == "new words" and after["event-e3"]["status"] == "active"
    assert after["event-e1"]["history"] == []  # unchanged: untouched
    visible = {e: d for e, d in after.items() if timeline.shows(d, timeline.Filters())}
    assert set(visible) == {"event-e1", "event-e3", "event-e4"}
    # as known before the new reading: the old one, whole
    then = {e: timeline.as_known_at(dict(d), T0) for e, d in after.items()}
    shown = {e: d for e, d in then.items() if d is not None and timeline.shows(d, timeline.Filters())}
    assert set(shown) == {"event-e1", "event-e2", "event-e3"} and shown["event-e3"]["summary"] == "old words"
    assert shown["event-e2"]["status"] == "active"
    # applying the same publication again plans nothing
    assert readings.plan(list(after.values()), r, _make_doc(r)).empty


def test_an_empty_reading_supersedes_everything_and_a_later_one_brings_an_event_back():
    stored = [_doc(ev("e1"), 0), _doc(ev("e2", actor="Bo Dahl"), 1)]
    empty = reading([], recorded_at=T1)
    empty["log"] = {"partition": 0, "offset": 5, "timestamp_ms": 0}
    after = _applied(stored, readings.plan(stored, empty, _make_doc(empty)))
    assert {d["status"] for d in after.values()} == {"superseded"}
    back = reading([ev("e1", recorded_at=T2, version="C")], recorded_at=T2, version="C")
    back["log"] = {"partition": 0, "offset": 6, "timestamp_ms": 0}
    again = _applied(list(after.values()), readings.plan(list(after.values()), back, _make_doc(back)))
    assert again["event-e1"]["status"] == "active" and again["event-e2"]["status"] == "superseded"
    at_t1 = timeline.as_known_at(dict(again["event-e1"]), T1)
    assert at_t1["status"] == "superseded"


def test_an_editors_retraction_survives_a_new_reading():
    retracted = _doc(ev("e1"), 0)
    retracted.update(
        status="retracted",
        history=[
            {"change_id": "c1", "kind": "retracted", "recorded_at": T0, "changes": {}, "previous": {"status": "active"}}
        ],
    )
    r = reading([ev("e1", summary="reworded", recorded_at=T1, version="B")])
    r["log"] = {"partition": 0, "offset": 3, "timestamp_ms": 0}
    assert readings.plan([retracted], r, _make_doc(r)).empty


def test_the_contract_refuses_a_reading_with_another_articles_event():
    bad = reading([ev("e1", recorded_at=T1)])
    raw = events.encode(bad)
    doc = __import__("json").loads(raw)
    doc["details"]["events"][0]["source"]["article_id"] = "someone-else"
    import pytest

    with pytest.raises(ValueError, match="not an event of this article"):
        events.decode(__import__("json").dumps(doc).encode())


def test_the_live_updates_name_every_change_a_new_reading_makes():
    """readings.switch stamps each rewritten or superseded document with the reading's log
    position; the live updates (services/query/changes.py) send each as one of their events."""
    from services.query import changes

    stored = [_doc(ev("e1"), 0), _doc(ev("e2", actor="Bo Dahl"), 1)]
    r = reading([ev("e1", summary="reworded", recorded_at=T1, version="B"), ev("e3", recorded_at=T1, version="B")])
    r["log"] = {"partition": 0, "offset": 7, "timestamp_ms": 0}
    p = readings.switch(stored, r)
    docs = {d["event_id"]: d for d in stored}
    for event_id, new, record in p.update:
        docs[event_id] = readings.updated(docs[event_id], new, record)
    docs.update({d["event_id"]: d for d in p.insert})
    found = changes.changes_of(list(docs.values()), {0: 7}, {0: 8})
    assert sorted((c.kind, c.event_id) for c in found) == [
        ("added", "event-e3"),
        ("reread", "event-e1"),
        ("superseded", "event-e2"),
    ]
    assert {changes.KINDS[c.kind] for c in found} == {"entry_added", "entry_corrected", "entry_retracted"}
    assert readings.updated(docs["event-e1"], *p.update[0][1:]) is None  # a redelivery changes nothing
