"""The editors' page in a real headless browser (Debian's chromium driven by Playwright), against the
running services with the seed story, checking what a reader sees against what the API answers.

One browser per module; each test gets a fresh context (no state shared between tests).
"""

from __future__ import annotations

import pathlib
import re
from datetime import datetime, timedelta

import pytest
import requests
from conftest import API_KEY
from playwright.sync_api import expect, sync_playwright
from test_spine import _article

OUTPUT = pathlib.Path(__file__).parent / "output"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIVE_TIMEOUT_MS = 30_000

# An article of our own for the live update: a new allegation in the seed story, by a made-up person.
FOLLOW_UP = {
    "id": "page-follow-up",
    "url": "https://news.example.test/page-follow-up",
    "outlet": "Example Wire",
    "title": "Auditor questions grant spending",
    "published_at": "2024-10-26T10:00:00Z",
    "body": "Petra Sandqvist has alleged that the grants programme broke the spending rules. "
    "She said the accounts would be published next month.",
}

# Two outlets of our own reporting one row, worded differently: the allegation gives one entry citing both.
TWO_REPORTS = [
    {
        "id": "harbour-a",
        "url": "https://news.example.test/harbour-a",
        "outlet": "Harbour Post",
        "story_id": "harbour-row",
        "title": "Councillor accuses harbour trust",
        "published_at": "2025-05-08T08:00:00Z",
        "body": "Councillor Mara Quint accused the Harbour Trust of hiding the dredging costs on Tuesday. "
        "The Harbour Trust denied the claim on Wednesday.",
    },
    {
        "id": "harbour-b",
        "url": "https://news.example.test/harbour-b",
        "outlet": "Coast Daily",
        "story_id": "harbour-row",
        "title": "Trust rejects councillor's claim",
        "published_at": "2025-05-08T17:30:00Z",
        "body": "On Tuesday, councillor Mara Quint accused the Harbour Trust of concealing what the dredging had cost. "
        "A day later the Harbour Trust denied the accusation.",
    },
]


@pytest.fixture(scope="module")
def browser():
    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make tools-check` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    yield pg
    context.close()


def _api(system, path: str, **params) -> dict:
    r = requests.get(f"{system.query_url}{path}", params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def _dom_entries(page) -> list[str]:
    return page.locator("#timeline li.entry").evaluate_all("ns => ns.map(n => n.dataset.entry)")


def _open_seed_story(system, seed, page) -> list[dict]:
    assert system.post(_article(seed)).status_code == 202
    entries = system.timeline(seed["story"], want=5)["entries"]
    page.goto(f"{system.query_url}/")
    page.locator("#stories a", has_text=seed["title"]).click()
    expect(page.locator("#story-title")).to_have_text(seed["title"])
    expect(page.locator("#timeline li.entry")).to_have_count(len(entries))
    return entries


def _assert_axis_by_day(page):
    """Each mark sits on its entry's day, and every mark of a day lies left of every mark of a later day."""
    marks = page.locator("#axis .mark").evaluate_all(
        "ns => ns.map(n => [n.dataset.day, n.getBoundingClientRect().left + n.offsetWidth / 2])"
    )
    assert [d for d, _ in marks] == page.locator("#timeline li.entry").evaluate_all("ns => ns.map(n => n.dataset.day)")
    xs: dict[str, list[float]] = {}
    for day, x in marks:
        xs.setdefault(day, []).append(x)
    days = sorted(xs)
    for a, b in zip(days, days[1:]):
        assert max(xs[a]) < min(xs[b]), (a, b, xs)
    return days


def _visible_text(page) -> str:
    return page.evaluate("document.body.innerText")


def test_seed_story_in_the_api_order_with_axis_sources_and_filters(system, seed, page, request):
    entries = _open_seed_story(system, seed, page)
    backend = request.node.callspec.id.split("-")[0]

    # the DOM order is the API's order, entry by entry
    assert _dom_entries(page) == [e["entry_id"] for e in entries]
    items = page.locator("#timeline li.entry")
    for i, e in enumerate(entries):
        item = items.nth(i)
        assert f"kind-{e['event_type']}" in item.get_attribute("class")
        expect(item.locator(".kind")).to_have_text(e["event_type"].replace("_", " "))
        expect(item.locator(".who strong")).to_have_text(e["actor"]["name"])
        expect(item.locator(".confidence")).to_have_text(f"Confidence {round(e['confidence'] * 100)}%")
        if e["quote"]:
            expect(item.locator("blockquote")).to_contain_text(e["quote"])
        else:
            expect(item.locator("blockquote")).to_have_count(0)
        # every report, with its outlet and publication time
        sources = item.locator(".sources li")
        expect(sources).to_have_count(len(e["provenance"]))
        for j, p in enumerate(e["provenance"]):
            expect(sources.nth(j).locator(f'a[href="{p["url"]}"]')).to_have_text(p["outlet"])
            expect(sources.nth(j)).to_contain_text(p["published_at"][11:16] + " UTC")
        inferred = (e.get("placement") or {}).get("inferred", not e["dated"])
        expect(item.locator(".badge.inferred")).to_have_count(1 if inferred else 0)
        expect(item.locator(".placement-note")).to_have_count(1 if inferred else 0)
        if inferred and (e.get("placement") or {}).get("reason"):
            expect(item.locator(".placement-note")).to_contain_text(e["placement"]["reason"])
    colours = {}
    for i, e in enumerate(entries):
        colours.setdefault(e["event_type"], items.nth(i).evaluate("n => getComputedStyle(n).borderLeftColor"))
    assert len(set(colours.values())) == len(colours) >= 3, colours

    # the axis: one mark per entry, in order, left to right by day; inferred marks are hollow
    marks = page.locator("#axis .mark")
    expect(marks).to_have_count(len(entries))
    assert marks.evaluate_all("ns => ns.map(n => n.dataset.goto)") == [e["entry_id"] for e in entries]
    _assert_axis_by_day(page)
    assert page.locator("#axis .mark.inferred").count() == page.locator("#timeline li.entry.inferred").count()
    for i in range(len(entries)):  # an inferred mark tells why, as its entry does in text
        note = items.nth(i).locator(".placement-note")
        if note.count():
            reason = note.inner_text().removeprefix("Position inferred: ")
            assert reason in marks.nth(i).get_attribute("aria-label")
            assert "inferred" in marks.nth(i).get_attribute("class")
    marks.last.click()
    expect(items.last).to_be_focused()

    # no internal token on screen; the position is kept for machines
    position = page.locator("#freshness").get_attribute("data-position")
    assert (
        position
        and position == requests.get(f"{system.query_url}/v1/stories", timeout=10).headers["X-Storyline-Position"]
    )
    text = _visible_text(page)
    for token in (position, *position.split(";"), "storyline-timeline", "log read to"):
        assert token not in text
    assert not re.search(r"\bg\d+;", text)
    assert not any(e["entry_id"] in text for e in entries)

    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"editor-page-1280-{backend}.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone
    for sel in ("#timeline li.entry", "#axis .mark", "#type-options input", "#actor"):
        boxes = page.locator(sel).evaluate_all("ns => ns.map(n => n.getBoundingClientRect().right)")
        assert boxes and max(boxes) <= 375, (sel, boxes)
    page.screenshot(path=str(OUTPUT / f"editor-page-375-{backend}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1000})

    # filter by type: the DOM shows what the API answers for that type, in its order
    kind = min({e["event_type"] for e in entries}, key=lambda t: (sum(e["event_type"] == t for e in entries), t))
    page.locator(f'#type-options input[value="{kind}"]').check()
    want = _api(system, f"/v1/stories/{seed['story']}/timeline", types=kind)["entries"]
    assert 0 < len(want) < len(entries)
    expect(items).to_have_count(len(want))
    assert _dom_entries(page) == [e["entry_id"] for e in want]
    assert "types=" in page.url
    # and by actor, on top of it cleared
    page.click("#clear-filters")
    expect(items).to_have_count(len(entries))
    actor = entries[0]["actor"]["name"]
    page.select_option("#actor", actor)
    want = _api(system, f"/v1/stories/{seed['story']}/timeline", actor=actor)["entries"]
    expect(items).to_have_count(len(want))
    assert _dom_entries(page) == [e["entry_id"] for e in want]
    for i in range(len(want)):
        expect(items.nth(i).locator(".who strong")).to_have_text(actor)
    # a shared link restores the filter
    page.reload()
    expect(page.locator("#actor")).to_have_value(actor)
    expect(items).to_have_count(len(want))
    page.click("#clear-filters")
    expect(items).to_have_count(len(entries))

    # as known a day ago nothing had been ingested, and such a view does not follow changes; "Now" is back
    page.click("#as-of-box summary")
    page.fill("#as-of", (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"))
    page.click("#apply-as-of")
    expect(page.locator("#timeline-status")).to_have_text("No events.")
    expect(page.locator("#as-of-note")).to_contain_text("As known at")
    expect(page.locator("body")).to_have_attribute("data-live", "off")
    assert "as_of=" in page.url
    page.click("#now")
    expect(items).to_have_count(len(entries))
    expect(page.locator("#as-of-note")).to_be_hidden()
    expect(page.locator("body")).not_to_have_attribute("data-live", "off")
    assert page.errors == []


@pytest.mark.parametrize("system", ["embedded"], indirect=True)  # the page's own behaviour: one backend is enough
def test_keyboard_reaches_story_filters_and_entries(system, seed, page):
    assert system.post(_article(seed)).status_code == 202
    entries = system.timeline(seed["story"], want=5)["entries"]
    page.goto(f"{system.query_url}/")
    expect(page.locator("#stories a", has_text=seed["title"])).to_have_count(1)

    def tab_to(selector: str, limit: int = 40):
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#stories a")
    # the focused control shows it: a visible outline
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    items = page.locator("#timeline li.entry")
    expect(items).to_have_count(len(entries))
    tab_to("#type-options input")
    first_type = page.evaluate("document.activeElement.value")
    page.keyboard.press("Space")
    want = [e["entry_id"] for e in entries if e["event_type"] == first_type]
    expect(items).to_have_count(len(want))
    page.keyboard.press("Space")
    expect(items).to_have_count(len(entries))
    tab_to("#actor")
    tab_to("#axis .mark")
    page.keyboard.press("Enter")
    expect(items.first).to_be_focused()
    tab_to("#timeline .sources a")
    assert page.evaluate("document.activeElement.closest('li.entry').dataset.entry") in {e["entry_id"] for e in entries}
    assert page.errors == []


def test_live_update_arrives_without_reload(system, seed, page, request):
    before = _open_seed_story(system, seed, page)
    # Server-Sent Events when the service has the stream, else polling with the ETag
    with requests.get(f"{system.query_url}/v1/stories/{seed['story']}/events", stream=True, timeout=10) as r:
        streams = r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
    expect(page.locator("body")).to_have_attribute("data-live", "stream" if streams else "poll")
    page.evaluate("window.__sameDocument = 'kept'")
    navigations = []
    page.on("framenavigated", lambda f: navigations.append(f.url))

    cited = sum(len(e["provenance"]) for e in before)
    page.locator("#type-options input").first.focus()  # an update must not take the reader's focus away
    focused_type = page.locator("#type-options input").first.get_attribute("value")
    r = system.post(FOLLOW_UP | {"story_id": seed["story"]})
    assert r.status_code == 202, r.text
    assert r.json()["events"], "the follow-up article gave no event"
    after = system.timeline(seed["story"], want=cited + len(r.json()["events"]))["entries"]
    assert len(after) > len(before)
    items = page.locator("#timeline li.entry")
    expect(items).to_have_count(len(after), timeout=LIVE_TIMEOUT_MS)
    assert _dom_entries(page) == [e["entry_id"] for e in after]
    new = {e["entry_id"] for e in after} - {e["entry_id"] for e in before}
    expect(page.locator("#timeline li.entry.new")).to_have_count(len(new))
    assert {n for n in page.locator("#timeline li.entry.new").evaluate_all("ns => ns.map(n => n.dataset.entry)")} == new
    expect(page.locator("#timeline-status")).to_contain_text("new")
    assert len(_assert_axis_by_day(page)) >= 1
    expect(page.locator(f'#type-options input[value="{focused_type}"]')).to_be_focused()

    # a correction shows up in the entry's history, again without a reload
    target = before[0]
    r = requests.post(
        f"{system.ingest_url}/v1/corrections",
        timeout=30,
        headers={"X-API-Key": API_KEY},
        json={
            "story_id": seed["story"],
            "event_id": target["provenance"][0]["event_id"],
            "action": "correct",
            "changes": {"summary": "A corrected summary from the desk."},
            "reason": "the first summary overstated it",
            "editor": "Page test desk",
        },
    )
    assert r.status_code == 202, r.text
    entry = page.locator(f'#timeline li.entry[data-entry="{target["entry_id"]}"]')
    entry.locator(".sources a").first.focus()
    expect(entry.locator(".history")).to_contain_text("the first summary overstated it", timeout=LIVE_TIMEOUT_MS)
    expect(entry.locator(".history")).to_contain_text("Page test desk")
    expect(entry.locator(".badge.corrected")).to_have_count(1)
    expect(entry.locator(".summary")).to_have_text("A corrected summary from the desk.")
    expect(entry.locator(".sources a").first).to_be_focused()

    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"editor-page-live-{request.node.callspec.id.split('-')[0]}.png"), full_page=True)
    assert page.evaluate("window.__sameDocument") == "kept"
    assert navigations == []
    assert page.errors == []


@pytest.mark.parametrize("system", ["embedded"], indirect=True)
def test_an_entry_lists_every_report_with_outlet_and_time(system, page):
    for article in TWO_REPORTS:
        assert system.post(article).status_code == 202
    body = system.timeline("harbour-row", want=4)
    entries = body["entries"]
    assert sum(len(e["provenance"]) for e in entries) == 4
    assert max(len(e["provenance"]) for e in entries) == 2, "the two reports of the allegation were not merged"
    page.goto(f"{system.query_url}/#story=harbour-row")  # a shared link opens the story
    items = page.locator("#timeline li.entry")
    expect(items).to_have_count(len(entries))
    assert _dom_entries(page) == [e["entry_id"] for e in entries]
    for i, e in enumerate(entries):
        sources = items.nth(i).locator(".sources li")
        expect(sources).to_have_count(len(e["provenance"]))
        for j, p in enumerate(e["provenance"]):
            expect(sources.nth(j)).to_contain_text(p["outlet"])
            expect(sources.nth(j)).to_contain_text(
                f"published {int(p['published_at'][8:10])} May 2025, {p['published_at'][11:16]} UTC"
            )
            if len(e["provenance"]) > 1 and p.get("joined"):
                expect(sources.nth(j).locator(".joined")).to_contain_text(p["joined"])
        alternatives = sum(len(v) for v in (e.get("alternatives") or {}).values())
        expect(items.nth(i).locator(".alternatives li")).to_have_count(alternatives)
    assert len(_assert_axis_by_day(page)) >= 2
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "editor-page-two-reports.png"), full_page=True)
    assert page.errors == []
