"""Story assignment: the pure matching rules, then the whole path over HTTP on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.domain import stories

PUB = datetime(2025, 6, 10, 8, 0, tzinfo=timezone.utc)

HARBOUR_1 = {
    "id": "harbour-1",
    "url": "https://news.example.test/harbour-1",
    "outlet": "Coast Courier",
    "published_at": "2025-06-10T08:00:00Z",
    "title": "Fishermen accuse harbour board over dredging contract",
    "body": (
        "Fishermen in Port Calder have accused the Calder Harbour Board of awarding a dredging contract "
        "without a tender. Skipper Nora Quenby said the dredging work had silted the eastern moorings. "
        "The harbour board's chair, Declan Moss, denied the claims on Monday."
    ),
}
HARBOUR_2 = {
    "id": "harbour-2",
    "url": "https://news.example.test/harbour-2",
    "outlet": "Shipping Daily",
    "published_at": "2025-06-13T10:30:00Z",
    "title": "Port Calder moorings row deepens as skippers go to regulator",
    "body": (
        "Skippers in Port Calder have lodged a complaint with the Marine Management Office over the "
        "dredging contract awarded by the Calder Harbour Board. Nora Quenby said silt from the dredging "
        "had closed half of the eastern moorings. Declan Moss, who chairs the harbour board, has "
        "rejected the accusations."
    ),
}
UNRELATED = {
    "id": "bakery-1",
    "url": "https://news.example.test/bakery-1",
    "outlet": "Town Herald",
    "published_at": "2025-06-12T09:00:00Z",
    "title": "Bakery chain denies underpaying apprentices",
    "body": (
        "Apprentices at Crumb & Crust have alleged that they were paid below the minimum wage. "
        "The bakery chain's owner, Lionel Parr, denied the allegation on Wednesday."
    ),
}


def profile(article, names, published=PUB):
    return stories.profile_of(article["title"], article["body"], names, published)


# --- the pure rules -------------------------------------------------------------------------


def test_salient_terms_skip_stop_words_and_row_vocabulary():
    terms = stories.salient_terms("Minister denies claims over dredging", "The dredging contract was denied.")
    assert "dredging" in terms and "contract" in terms
    assert not terms & {"the", "denies", "denied", "claims", "over", "minister's"}


def test_names_are_compared_in_normal_form():
    assert stories.normalise_name("The Calder Harbour Board’s") == "calder harbour board"
    assert stories.normalise_name("Nora  Quenby") == "nora quenby"


def test_related_articles_match_and_unrelated_does_not():
    a = profile(HARBOUR_1, ["Nora Quenby", "Declan Moss", "Calder Harbour Board"])
    b = profile(HARBOUR_2, ["Nora Quenby", "Declan Moss"], PUB + timedelta(days=3))
    c = profile(UNRELATED, ["Lionel Parr", "Crumb & Crust"], PUB + timedelta(days=2))
    cands = [stories.Candidate("harbour", a)]
    assert stories.best_story(b, cands) == "harbour"
    assert stories.best_story(c, cands) is None


def test_shared_name_alone_is_not_the_same_matter():
    a = profile(HARBOUR_1, ["Declan Moss"])
    b = stories.profile_of(
        "Declan Moss opens new library", "Declan Moss cut a ribbon at the library on Friday.", ["Declan Moss"], PUB
    )
    assert stories.score(b, a) is None


def test_time_window_excludes_old_stories():
    a = profile(HARBOUR_1, ["Nora Quenby", "Declan Moss"])
    later = profile(HARBOUR_2, ["Nora Quenby", "Declan Moss"], PUB + timedelta(days=stories.WINDOW_DAYS + 1))
    assert stories.score(later, a) is None
    assert stories.score(profile(HARBOUR_2, ["Nora Quenby"], PUB + timedelta(days=3)), a) is not None


def test_best_story_is_deterministic_and_prefers_more_overlap():
    a = profile(HARBOUR_1, ["Nora Quenby", "Declan Moss"])
    weaker = profile(HARBOUR_1, ["Nora Quenby"])
    b = profile(HARBOUR_2, ["Nora Quenby", "Declan Moss"], PUB + timedelta(days=1))
    assert stories.best_story(b, [stories.Candidate("z-weak", weaker), stories.Candidate("m-strong", a)]) == "m-strong"
    # equal scores: the smaller story id, whatever the order of the candidates
    assert stories.best_story(b, [stories.Candidate("y", a), stories.Candidate("x", a)]) == "x"
    assert stories.best_story(b, [stories.Candidate("x", a), stories.Candidate("y", a)]) == "x"


def test_story_profile_is_the_union_of_its_articles():
    a = profile(HARBOUR_1, ["Nora Quenby"])
    b = profile(HARBOUR_2, ["Declan Moss"], PUB + timedelta(days=3))
    merged = stories.merge([a, b])
    assert merged.names == {"nora quenby", "declan moss"}
    assert merged.published == PUB + timedelta(days=3)
    assert a.terms | b.terms == merged.terms


# --- through HTTP, on the embedded and the real backends -------------------------------------


def test_related_articles_share_a_story_and_unrelated_does_not(system):
    first = system.post(HARBOUR_1)
    second = system.post(HARBOUR_2)
    third = system.post(UNRELATED)
    assert (first.status_code, second.status_code, third.status_code) == (202, 202, 202)
    story = first.json()["story_id"]
    assert second.json()["story_id"] == story
    assert third.json()["story_id"] != story
    assert {e["story_id"] for e in second.json()["events"]} == {story}

    want = len(first.json()["events"]) + len(second.json()["events"])
    timeline = system.timeline(story, want)
    cited = [p for e in timeline["entries"] for p in e["provenance"]]
    assert {p["article_id"] for p in cited} == {"harbour-1", "harbour-2"}
    assert len(cited) == want


def test_reposting_an_article_keeps_its_story(system):
    first = system.post(HARBOUR_1).json()["story_id"]
    system.post(UNRELATED)
    again = system.post(HARBOUR_1)
    assert again.status_code == 202
    assert again.json()["story_id"] == first


def test_explicit_story_id_is_joined_by_a_related_article(system):
    named = system.post({**HARBOUR_1, "story_id": "calder-dredging"})
    assert named.json()["story_id"] == "calder-dredging"
    assert system.post(HARBOUR_2).json()["story_id"] == "calder-dredging"


def test_same_title_different_matter_gets_its_own_story(system):
    a = system.post(UNRELATED).json()["story_id"]
    other = {
        **HARBOUR_1,
        "id": "harbour-x",
        "url": "https://news.example.test/hx",
        "title": UNRELATED["title"],
        "body": "Volunteers planted four hundred oak saplings along the river path at Elmstead.",
    }
    b = system.post(other).json()["story_id"]
    assert a != b


def test_cli_and_http_return_the_same_events(system, tmp_path):
    import json
    import pathlib
    import subprocess

    cli = pathlib.Path(__file__).resolve().parents[1] / ".venv" / "bin" / "storyline"
    path = tmp_path / "a.json"
    path.write_text(json.dumps(HARBOUR_1))
    offline = json.loads(
        subprocess.run([str(cli), "extract", str(path)], capture_output=True, text=True, check=True).stdout
    )
    posted = system.post(HARBOUR_1).json()["events"]
    strip = lambda evs: [{k: v for k, v in e.items() if k != "recorded_at"} for e in evs]  # noqa: E731
    assert strip(posted) == strip(offline) and offline


def test_one_denial_reported_by_two_articles_is_one_timeline_entry(system):
    from test_extraction_grammar import DENIAL_A, DENIAL_B

    a, b = system.post(DENIAL_A), system.post(DENIAL_B)
    assert (a.status_code, b.status_code) == (202, 202)
    want = len(a.json()["events"]) + len(b.json()["events"])
    entries = system.timeline("rail-tender", want)["entries"]
    denials = [e for e in entries if e["event_type"] == "rebuttal_given"]
    assert len(denials) == 1
    assert denials[0]["actor"]["name"] == "Ayesha Nuur" and denials[0]["occurred_at"] == "2025-03-12"
    assert sorted(p["article_id"] for p in denials[0]["provenance"]) == ["den-a", "den-b"]
