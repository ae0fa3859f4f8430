"""The plainest HTTP answer of one timeline page, for bench/query_latency.py: the raw store
query (bench.query_latency.raw_page) as a bare WSGI function, no framework, served by the same
gunicorn settings as the query service. It gives the service's latency a baseline that pays
the same transport (gunicorn, HTTP, the client) as the service does.

GET /page?story=<id>[&after=<sort>] -> the page's documents as a JSON list; any other path: 200.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import orjson

from bench.query_latency import raw_page

_page_of = raw_page(os.environ["STORYLINE_STORE"], int(os.environ["BENCH_GENERATION"]))


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = b"{}"
    if environ.get("PATH_INFO") == "/page":
        qs = parse_qs(environ.get("QUERY_STRING", ""))
        body = orjson.dumps(_page_of(qs["story"][0], qs.get("after", [None])[0]))
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
