"""Fuzz both HTTP services from their own OpenAPI documents (schemathesis): no answer is a 5xx.

The whole system runs in this process on the real backend (Kafka + MongoDB-wire); schemathesis
reads /openapi.json from each service and sends generated requests, valid and invalid, over
HTTP. Examples per operation are bounded so the run stays well under a minute.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
import schemathesis
from conftest import API_KEY, System, real_env
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

EXAMPLES = 25
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, corpus):
    system = System(
        real_env()
        | {
            "STORYLINE_DATA_DIR": str(tmp_path_factory.mktemp("fuzz")),
            "STORYLINE_API_KEYS": API_KEY,
            # SSE streams end quickly here, so each generated request gets its whole answer
            "STORYLINE_SSE_MAX_STREAM_SECONDS": "0.2",
        }
    )
    seed = next(a for a in corpus["articles"] if a["id"] == "seed")
    posted = system.post(
        {k: seed[k] for k in ("id", "url", "title", "body", "published_at", "outlet")} | {"story_id": seed["story"]}
    )
    assert posted.status_code == 202, posted.text
    system.timeline(seed["story"], want=len(posted.json()["events"]))  # real documents to read back
    yield system
    system.close()


def _fuzz(base_url: str, headers: dict | None = None) -> Counter:
    """Every operation of the service's OpenAPI document, EXAMPLES generated requests each, in
    both of schemathesis' modes (positive: fits the schema; negative: breaks it).
    (The operations are walked here rather than with schemathesis' lazy pytest loader, which
    does not run under pytest 9.)"""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    seen: Counter = Counter()  # (operation, status) -> answers
    for operation, mode in itertools.product([r.ok() for r in schema.get_all_operations()], GenerationMode):

        @FUZZ
        @given(case=operation.as_strategy(generation_mode=mode))  # what fits the schema, and what does not
        def run(case):
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            seen[(f"{case.method} {operation.path}", response.status_code)] += 1
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} answered {response.status_code}: {response.text[:1000]}\n"
                f"reproduce: {case.as_curl_command()}"
            )

        try:
            run()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # an operation with no inputs has nothing to break
    return seen


def _summary(capsys, service: str, seen: Counter) -> None:
    by_status = Counter()
    for (_, status), n in seen.items():
        by_status[status] += n
    with capsys.disabled():
        print(
            f"\nfuzz {service}: {sum(seen.values())} requests over {len({op for op, _ in seen})} operations, "
            f"statuses {dict(sorted(by_status.items()))}",
            flush=True,
        )


def test_ingest_never_answers_5xx(fuzzed, capsys):
    # with a valid key, so generated bodies get past authentication and into validation
    seen = _fuzz(fuzzed.ingest_url, {"X-API-Key": API_KEY})
    _summary(capsys, "ingest", seen)
    operations = {op for op, _ in seen}
    assert {"POST /v1/articles", "POST /v1/corrections", "GET /readyz"} <= operations
    # the generator reached both sides: accepted articles and refused ones
    assert ("POST /v1/articles", 202) in seen and any(op == "POST /v1/articles" and 400 <= st < 500 for op, st in seen)


def test_query_never_answers_5xx(fuzzed, capsys):
    seen = _fuzz(fuzzed.query_url)
    _summary(capsys, "query", seen)
    operations = {op for op, _ in seen}
    assert len(operations) >= 4
    # the live streams and the feed are fuzzed too, and answered (200) for valid requests
    for op in ("GET /v1/events", "GET /v1/stories/{story_id}/events", "GET /v1/stories/{story_id}/feed.atom"):
        assert op in operations, op
    assert ("GET /v1/events", 200) in seen and ("GET /v1/stories/{story_id}/events", 200) in seen
