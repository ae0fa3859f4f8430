"""The query service's TimelineJS export, rendered by TimelineJS itself (npm `@knight-lab/timelinejs`,
installed into tests/js by `make js-deps`) in Debian's headless chromium.

The library's dist files and a small harness page are served from disk under a made-up origin;
every other request is refused and recorded, so the test also shows the export needs nothing remote.
"""

from __future__ import annotations

import mimetypes
import pathlib

import pytest
import requests
from playwright.sync_api import sync_playwright
from test_editor_page import ARGS, CHROMIUM, OUTPUT
from test_spine import _article

JS = pathlib.Path(__file__).parent / "js"
DIST = JS / "node_modules" / "@knight-lab" / "timelinejs" / "dist"
ORIGIN = "http://timelinejs.test"


@pytest.fixture(scope="module")
def browser():
    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make tools-check` installs it (apt-get install chromium)")
    if not (DIST / "js" / "timeline.js").exists():
        pytest.fail("TimelineJS is not installed: `make js-deps` runs `npm ci` in tests/js")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _serve_from_disk(page, refused: list[str]):
    def handle(route):
        url = route.request.url
        if not url.startswith(ORIGIN + "/"):
            refused.append(url)
            return route.abort()
        rel = url[len(ORIGIN) + 1 :].split("?")[0].split("#")[0]
        if rel in ("", "index.html"):
            path = JS / "timelinejs.html"
        else:
            path = (DIST / rel.removeprefix("dist/")).resolve()
            if not rel.startswith("dist/") or not path.is_relative_to(DIST.resolve()) or not path.is_file():
                return route.fulfill(status=404, body="not here")
        return route.fulfill(
            status=200,
            body=path.read_bytes(),
            content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        )

    page.route("**/*", handle)


@pytest.mark.parametrize("system", ["embedded"], indirect=True)  # the export is the same code on every backend
def test_timelinejs_builds_one_slide_per_entry_plus_the_title(system, seed, browser):
    assert system.post(_article(seed)).status_code == 202
    entries = system.timeline(seed["story"], want=5)["entries"]
    r = requests.get(f"{system.query_url}/v1/stories/{seed['story']}/timelinejs", timeout=10)
    assert r.status_code == 200, r.text
    export = r.json()
    assert len(export["events"]) == len(entries)

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors, console_errors, refused = [], [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    _serve_from_disk(page, refused)
    page.goto(f"{ORIGIN}/")
    built = page.evaluate("(data) => window.renderStory(data)", export)

    # the title slide plus one slide per entry, in the API's order
    assert built["slides"] == len(entries) + 1
    slides = page.locator(".tl-storyslider .tl-slide")
    assert slides.count() == len(entries) + 1
    assert page.locator(".tl-slide-titleslide").count() == 1
    ids = page.evaluate("timeline._storyslider._slides.map(s => s.data.unique_id)")
    assert ids[1:] == [f"entry-{e['entry_id']}" for e in entries]
    # each slide shows the export's display date (an undated entry's says its date was inferred)
    shown = page.locator(".tl-storyslider .tl-slide").evaluate_all(
        "ns => ns.slice(1).map(n => (n.querySelector('.tl-headline-date') || {}).textContent || '')"
    )
    assert [d.strip() for d in shown] == [ev["display_date"] for ev in export["events"]]
    # each event also has its marker on TimelineJS's own time navigator
    assert page.locator(".tl-timemarker").count() == len(entries)
    page.evaluate("timeline.goTo(1)")
    page.wait_for_timeout(800)  # TimelineJS animates the slide change
    first = page.locator(".tl-slide").nth(1)
    assert first.locator(".tl-headline").first.inner_text().strip()
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "timelinejs-seed.png"))

    assert refused == [], f"TimelineJS asked for something remote: {refused}"
    assert errors == [] and console_errors == [], (errors, console_errors)
    context.close()
