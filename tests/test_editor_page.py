"""The editors' page in a real headless browser (Debian's chromium driven by Playwright),
against the running query service with the seed story, checking what a reader sees."""
from __future__ import annotations

import pathlib
from datetime import datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from test_spine import _article

OUTPUT = pathlib.Path(__file__).parent / "output"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page():
    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make tools-check` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        yield page
        browser.close()


def test_editor_page_shows_the_seed_story(system, seed, browser_page, request):
    assert system.post(_article(seed)).status_code == 202
    api = system.timeline("labour-volunteers", want=5)
    entries = api["entries"]
    page = browser_page
    page.goto(f"{system.query_url}/")

    # the story list, and search over titles and participants
    story_link = page.locator("#stories a", has_text=seed["title"])
    expect(story_link).to_have_count(1)
    page.fill("#q", "rayner")
    page.click("#search button")
    expect(page.locator("#stories a")).to_have_count(1)
    expect(page.locator("#stories a").first).to_contain_text(seed["title"])
    page.fill("#q", "no story is called this")
    page.click("#search button")
    expect(page.locator("#stories-status")).to_have_text("No stories match.")
    page.fill("#q", "")
    page.click("#search button")

    # a story's timeline: every entry, in the API's order, kinds told apart, sources linked
    story_link.click()
    expect(page.locator("#story-title")).to_have_text(seed["title"])
    items = page.locator("#timeline li.entry")
    expect(items).to_have_count(len(entries))
    assert [items.nth(i).get_attribute("data-entry") for i in range(len(entries))] == [e["entry_id"] for e in entries]
    for i, e in enumerate(entries):
        item = items.nth(i)
        assert f"kind-{e['event_type']}" in item.get_attribute("class")
        expect(item.locator(".kind")).to_have_text(e["event_type"].replace("_", " "))
        expect(item.locator(".who strong")).to_have_text(e["actor"]["name"])
        link = item.locator(f'.sources a[href="{seed["url"]}"]')
        expect(link).to_have_text(seed["outlet"])
        expect(item.locator(".badge.undated")).to_have_count(0 if e["dated"] else 1)
    colours = {}
    for i, e in enumerate(entries):
        colours.setdefault(e["event_type"], items.nth(i).evaluate("n => getComputedStyle(n).borderLeftColor"))
    assert len(set(colours.values())) == len(colours) >= 3, colours
    expect(page.locator("#story-meta")).to_contain_text("Angela Rayner")
    expect(page.locator("#freshness")).to_contain_text("log read to g1")

    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / f"editor-page-{request.node.callspec.id.split('-')[0]}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    # as known a day ago: nothing had been ingested; "Now" brings the timeline back
    page.fill("#as-of", (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"))
    page.click("#apply-as-of")
    expect(page.locator("#timeline-status")).to_have_text("No events.")
    expect(page.locator("#as-of-note")).to_be_visible()
    expect(page.locator("#as-of-note")).to_contain_text("As known at")
    assert "as_of=" in page.url
    page.click("#now")
    expect(items).to_have_count(len(entries))
    expect(page.locator("#as-of-note")).to_be_hidden()
    # the page is served as static files from the package
    assert requests.get(f"{system.query_url}/static/app.js", timeout=10).status_code == 200
