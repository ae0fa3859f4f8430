"""Property-based: the extractor never crashes on any text, and the ingest API never answers 5xx.

Texts are drawn from every Unicode category hypothesis offers, from scripts other than Latin,
from markup, from bytes decoded as Latin-1 (binary-looking) and from long repetitions.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest
import requests
from conftest import API_KEY, System
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.schemas import ArticleSchema
from services.ingest.service import events_for
from shared.domain import events

ROOT = pathlib.Path(__file__).resolve().parents[1]
STORYLINE = ROOT / ".venv" / "bin" / "storyline"
SCRIPTS = "Привет мир. 你好，世界。 مرحبا بالعالم. שלום עולם. नमस्ते दुनिया. こんにちは世界。 Γειά σου κόσμε."
SENTENCE = "Jane Doe accused the minister of lying on Tuesday, and he denied it. "

MARKUP = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<script>alert(1)</script>",
            "&amp;",
            "&#x27;",
            "<!-- c -->",
            "**bold**",
            "[link](http://x)",
            "{{ template }}",
            "\\n",
            "\t",
            "said",
            "denied",
            "Minister",
            '"quoted"',
            "«",
            "»",
            "—",
            "\u200b",
            "\ufeff",
        ]
    ),
    max_size=60,
).map("".join)
TEXT = st.one_of(
    st.text(max_size=400),  # any category, any script
    st.text(alphabet=st.sampled_from(SCRIPTS), max_size=400),  # other languages
    MARKUP,  # markup and odd punctuation
    st.binary(max_size=400).map(lambda b: b.decode("latin-1")),  # binary-looking
    st.integers(1, 1500).map(lambda n: SENTENCE * n),  # long (up to ~100 kB)
    st.builds(lambda a, b: a + SENTENCE + b, st.text(max_size=80), st.text(max_size=80)),
)
SETTINGS = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def _article(title: str, body: str) -> dict:
    return {
        "id": "prop",
        "url": "https://prop.example.test/a",
        "title": title[:1000] or "t",
        "body": body or "b",
        "published_at": "2025-03-14T09:00:00Z",
        "outlet": "Prop",
        "story_id": "prop-story",
    }


@settings(max_examples=150, **SETTINGS)
@given(title=TEXT, body=TEXT)
def test_events_for_never_crashes_and_keeps_the_contract(title, body):
    article = ArticleSchema().load(_article(title, body))
    for ev in events_for(article):
        events.encode(ev)  # raises if an envelope breaks the wire contract
        src = ev["source"]
        assert 0 <= src["char_start"] <= src["char_end"] <= len(article["body"])


@settings(max_examples=8, **SETTINGS)
@given(title=TEXT, body=TEXT)
def test_storyline_extract_never_crashes(tmp_path, title, body):
    path = tmp_path / "article.json"
    path.write_text(json.dumps(_article(title, body)), encoding="utf-8")
    run = subprocess.run(
        [str(STORYLINE), "extract", "--stable", str(path)],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    stderr = run.stderr.decode(errors="replace")
    assert "Traceback" not in stderr, stderr[-2000:]
    # 2 only for text that is not valid Unicode (a lone surrogate), with a message naming the file
    assert run.returncode == 0 or (run.returncode == 2 and "invalid article" in stderr), stderr[-2000:]
    assert isinstance(json.loads(run.stdout), list)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    system = System({"STORYLINE_DATA_DIR": str(tmp_path_factory.mktemp("props")), "STORYLINE_API_KEYS": API_KEY})
    yield system
    system.close()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ("id", "url", "title", "body", "published_at", "outlet", "story_id")


@settings(max_examples=60, **SETTINGS)
@given(title=TEXT, body=TEXT, overrides=st.dictionaries(st.sampled_from(FIELDS + ("extra",)), JSON, max_size=3))
def test_post_article_never_answers_5xx(embedded, title, body, overrides):
    payload = _article(title, body) | overrides
    r = requests.post(f"{embedded.ingest_url}/v1/articles", json=payload, headers={"X-API-Key": API_KEY}, timeout=60)
    assert r.status_code < 500, r.text[:2000]
    assert r.status_code in (202, 413, 422), r.text[:2000]
    if r.status_code != 202:
        assert r.json()["error"]["reason"]


@settings(max_examples=40, **SETTINGS)
@given(raw=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()))
def test_post_any_bytes_never_answers_5xx(embedded, raw):
    r = requests.post(
        f"{embedded.ingest_url}/v1/articles",
        data=raw,
        timeout=60,
        headers={"X-API-Key": API_KEY, "Content-Type": "application/json"},
    )
    assert 400 <= r.status_code < 500, r.text[:2000]
    assert r.json()["error"]["reason"]
