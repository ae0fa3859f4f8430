"""The grouped stories a query process keeps (services/query/grouped.py) answer exactly what
grouping the story afresh answers, whatever moved in between: another story, a new report of
this one, a correction, a retraction; a story is grouped again only when it changed, and a
new report later in the log is matched alone into the kept grouping.
Every answer of the app that keeps stories is compared with the answer of a new app on the
same store (nothing kept), through HTTP (Flask's test client), on each store adapter."""

from __future__ import annotations

import pytest

from services.query.app import create_app
from services.query.grouped import GroupedStories, Shown
from shared.config import Settings
from shared.domain import matching, timeline
from shared.domain.timeline import Entry
from tests.test_store_contract import KINDS, change, finding, store_of_kind, write

TRACK = "grp:storyline.events:0"


@pytest.fixture(params=KINDS)
def store(request, tmp_path):
    with store_of_kind(request.param, tmp_path, "storyline_kept") as s:
        yield s


@pytest.fixture
def settings(tmp_path):
    return Settings.from_env({"STORYLINE_DATA_DIR": str(tmp_path / "data")})


def report(n: int, story: str = "a", **over):
    # three speakers, ten reports per article: reports of one speaker from other articles
    # on one day are one entry, so entries have several members
    day = f"2025-04-{1 + n % 4:02d}"
    return finding(n, story, day=day, **over)


PATHS = [
    ("/v1/stories/a/timeline", {"limit": 4}),
    ("/v1/stories/a/timeline", {"limit": 3, "include_retracted": "true"}),
    ("/v1/stories/a/timeline", {"limit": 5, "actor": "Speaker 1"}),
    ("/v1/stories/a/timeline", {"limit": 50, "as_of": "2025-03-04T00:00:00Z"}),
    ("/v1/stories/a", {}),
    ("/v1/stories/a/narrative", {}),
]


def walk(client, path, params) -> list:
    """Every page of a path, through its cursors (one answer for the other paths)."""
    out, cursor = [], None
    while True:
        r = client.get(path, query_string={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.get_data(as_text=True)
        if not r.is_json:
            return [r.get_data(as_text=True)]
        body = r.get_json()
        out.append(body)
        cursor = body.get("next_cursor")
        if not cursor or "entries" not in body:
            return out


def same_as_afresh(kept_client, store, settings):
    afresh = create_app(settings, store).test_client()  # nothing kept: groups the story now
    for path, params in PATHS:
        assert walk(kept_client, path, params) == walk(afresh, path, params), (path, params)


def test_a_kept_story_answers_as_a_fresh_grouping_whatever_moved(store, settings, monkeypatch):
    docs = [report(n) for n in range(30)]
    write(store, docs, tracking={TRACK: 30})
    write(store, [finding(30, "b")], tracking={TRACK: 31})
    client = create_app(settings, store).test_client()

    matched: list[str] = []  # the reports matched into entries (matching.Grouper.add)
    add = matching.Grouper.add
    monkeypatch.setattr(matching.Grouper, "add", lambda self, ev: matched.append(ev["event_id"]) or add(self, ev))

    def matched_after(action) -> int:
        action()
        matched.clear()
        for path, params in PATHS:
            walk(client, path, params)
        return len(matched)

    # one grouping per (include_retracted, as_of): the other filters slice it
    assert matched_after(lambda: None) == 3 * 30
    same_as_afresh(client, store, settings)
    assert matched_after(lambda: None) == 0  # nothing moved: all kept

    # another story moves the same partition: this story is unchanged, so it is not regrouped
    assert matched_after(lambda: write(store, [finding(31, "b")], tracking={TRACK: 32})) == 0
    same_as_afresh(client, store, settings)

    # a new report of this story: it alone is matched into the kept grouping (the as-of
    # answer groups the story again), and it shows
    late = report(32, source={**report(32)["source"], "article_id": "late"})
    assert matched_after(lambda: write(store, [late], tracking={TRACK: 33})) == 1 + 1 + 31
    pages = walk(client, *PATHS[0])
    assert any(p["event_id"] == late["event_id"] for page in pages for e in page["entries"] for p in e["provenance"])
    same_as_afresh(client, store, settings)

    # a correction (recorded after the as_of of PATHS, so the as-of answer undoes it), then a retraction
    corrected = change(1, docs[4], changes={"occurred_at": "2025-04-20", "occurred_precision": "day"})
    assert matched_after(lambda: write(store, changes=[(corrected, 34)], tracking={TRACK: 35})) == 3 * 31
    same_as_afresh(client, store, settings)
    retracted = change(2, docs[5], kind="event_retracted")
    write(store, changes=[(retracted, 35)], tracking={TRACK: 36})
    same_as_afresh(client, store, settings)
    pages = walk(client, "/v1/stories/a/timeline", {"limit": 50, "include_retracted": "true"})
    assert any(p["status"] == "retracted" for e in pages[0]["entries"] for p in e["provenance"])

    # the same correction delivered again changes nothing: kept
    assert matched_after(lambda: write(store, changes=[(retracted, 35)], tracking={TRACK: 37})) == 0
    same_as_afresh(client, store, settings)


def test_grouped_stories_age_out(store, settings):
    kept = GroupedStories(kept=2)
    write(store, [report(n) for n in range(3)] + [finding(3, "b"), finding(4, "c")], tracking={TRACK: 5})
    from services.query import reads

    with store.view() as view:
        fresh = view.freshness()
        a = reads.grouped(view, "a", timeline.Filters(), kept, fresh)
        assert reads.grouped(view, "a", timeline.Filters(), kept, fresh) is a
        reads.grouped(view, "b", timeline.Filters(), kept, fresh)
        reads.grouped(view, "c", timeline.Filters(), kept, fresh)
        again = reads.grouped(view, "a", timeline.Filters(), kept, fresh)
    assert again is not a and [e.entry_id for e in again.entries] == [e.entry_id for e in a.entries]


def _entry(position: str) -> Entry:
    return Entry(position=position, entry_id=position.rsplit("|", 1)[-1])


@pytest.mark.parametrize(
    "positions",
    [
        [f"2025-04-{d:02d}|{n:06d}|e{n}" for n, d in enumerate([1, 1, 2, 5, 5, 9, 12])],
        # a day known to the month only sorts after that month's days: positions out of line
        ["2025-04-30|000000|e0", "2025-05|000001|e1", "2025-05-02|000002|e2", "2025-05-03|000003|e3"],
    ],
)
def test_kept_pages_are_the_domain_pages(positions):
    entries = [_entry(p) for p in positions]
    shown = Shown(entries, list(range(len(entries))))
    afters = [None, *positions, "2025-04-01|000000|gone", "2025-04-03|000009|gone", "2025-05|9|gone", "2026|x|gone"]
    for after in afters:
        for limit in (1, 2, 3, len(entries), len(entries) + 1):
            want, want_next = timeline.page(entries, after, limit)
            got, got_next = shown.page(after, limit)
            assert [entries[n] for n in got] == want and got_next == want_next, (after, limit)
