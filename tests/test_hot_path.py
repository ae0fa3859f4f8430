"""The projection's compiled event check (events.decode_fast) against the schema it
stands in for (events.decode): for any document, both accept it with the same result, or
both refuse it. Mutations of a valid finding cover each field's type, range and presence."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import events

VALID = events.validate_event(
    {
        "event_id": "e" * 32,
        "event_type": "rebuttal_given",
        "schema_version": 2,
        "story_id": "hot-path",
        "occurred_at": "2025-03-01",
        "occurred_precision": "day",
        "published_at": "2025-03-02T08:00:00Z",
        "recorded_at": "2025-03-02T09:00:00.000Z",
        "actor": {"name": "Ana Ruiz", "kind": "person"},
        "target": {"name": "Harbour Board", "kind": "organisation"},
        "quote": "not true",
        "summary": "denied it",
        "details": {"platform": None},
        "responds_to": ["f" * 32],
        "source": {
            "article_id": "a1",
            "url": "https://x.test/a1",
            "outlet": "Example",
            "title": "T",
            "sentence": "She denied it.",
            "char_start": 0,
            "char_end": 14,
        },
        "extractor": {"version": "test", "confidence": 0.75},
    }
)
PATHS = [(k,) for k in VALID] + [
    ("actor", "name"),
    ("actor", "kind"),
    ("target", "name"),
    ("target", "kind"),
    ("source", "char_start"),
    ("source", "char_end"),
    ("source", "url"),
    ("source", "article_id"),
    ("source", "sentence"),
    ("extractor", "confidence"),
    ("extractor", "version"),
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 400),
    st.floats(-1, 2, allow_nan=False),
    st.text(max_size=3),
    st.text(min_size=120, max_size=320),
    st.sampled_from(events.EVENT_TYPES),
    st.sampled_from(events.PRECISIONS + events.ENTITY_KINDS),
    st.lists(st.text(max_size=40), max_size=3),
    st.dictionaries(st.sampled_from(["name", "kind", "x"]), st.text(max_size=5), max_size=3),
)


def outcome(decode, raw: bytes):
    try:
        return "ok", decode(raw)
    except ValueError:
        return "refused", None


def mutate(path: tuple[str, ...], action: str, value) -> dict:
    doc = copy.deepcopy(VALID)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
        if not isinstance(parent, dict):
            return doc
    if action == "delete":
        parent.pop(path[-1], None)
    elif action == "add":
        parent["unexpected"] = value
    else:
        parent[path[-1]] = value
    return doc


def test_a_valid_finding_takes_the_fast_path_and_loads_alike():
    raw = events.encode(VALID)
    assert events.plain_finding(raw) is not None
    assert events.decode_fast(raw) == events.decode(raw)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PATHS), st.sampled_from(["set", "delete", "add"]), VALUES)
def test_fast_check_and_schema_agree(path, action, value):
    raw = json.dumps(mutate(path, action, value)).encode()
    assert outcome(events.decode_fast, raw) == outcome(events.decode, raw)


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"event_type": "event_corrected"}', b"\xff\xfe"])
def test_what_is_not_a_finding_gets_the_schema_s_answer(raw):
    assert outcome(events.decode_fast, raw) == outcome(events.decode, raw)
