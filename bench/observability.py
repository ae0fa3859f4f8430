"""What request ids, metrics and the JSON access line cost per request.

Two Flask apps with the same trivial route, one plain and one passed through
shared.observability.instrument; each is called N times through Flask's test client (no
sockets), in alternating rounds, and the median time per request is printed for both,
with the access lines written as JSON to /dev/null at INFO. Asserts nothing.

Usage: python bench/observability.py [N] [ROUNDS]
"""

from __future__ import annotations

import logging
import statistics
import sys
import time

from flask import Flask, jsonify

from shared.logs import json_handler
from shared.observability import instrument


def make_app(instrumented: bool) -> Flask:
    app = Flask(f"bench-{instrumented}")
    app.add_url_rule("/v1/things/<thing>", "thing", lambda thing: jsonify(thing=thing))
    return instrument(app, "bench") if instrumented else app


def per_request_us(app: Flask, n: int) -> float:
    client = app.test_client()
    start = time.perf_counter()
    for i in range(n):
        client.get(f"/v1/things/t{i % 50}", headers={"X-Request-Id": f"bench-{i}"})
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with open("/dev/null", "w") as sink:
        root = logging.getLogger()
        root.handlers[:] = [json_handler("bench", sink)]
        root.setLevel(logging.INFO)
        plain, instrumented = make_app(False), make_app(True)
        per_request_us(plain, 200), per_request_us(instrumented, 200)  # warm up
        a, b = [], []
        for _ in range(rounds):
            a.append(per_request_us(plain, n))
            b.append(per_request_us(instrumented, n))
    pa, pb = statistics.median(a), statistics.median(b)
    print(
        f"observability overhead | requests {n} x {rounds} rounds | plain {pa:.0f} us/request | "
        f"instrumented {pb:.0f} us/request | added {pb - pa:.0f} us/request"
    )


if __name__ == "__main__":
    main()
