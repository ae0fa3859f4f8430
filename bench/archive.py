"""A generated archive for `storyline import`: N fictional articles as JSON Lines, with a
share of malformed lines (not JSON, missing fields, bad dates, bad URLs, not an object).

  python -m bench.archive 2000 [--bad-every 50] > archive.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys

FIRST = ("Mara", "Otto", "Inka", "Piet", "Lena", "Ruud", "Saskia", "Tomasz", "Alba", "Joost", "Wren", "Dario")
LAST = (
    "Quillfeather",
    "Venhaus",
    "Starling",
    "Morland",
    "Ashgrove",
    "Tellamy",
    "Brandvik",
    "Oakhurst",
    "Pellworth",
    "Dunmere",
    "Hallett",
    "Crestfield",
)
BODIES = ("Board", "Council", "Trust", "Authority", "Agency")
MALFORMED = (
    lambda i: '{"id": "bad-%d", "url": ' % i,  # not JSON
    lambda i: json.dumps(
        {
            "id": f"bad-{i}",
            "url": f"https://news.example.test/bad/{i}",
            "outlet": "W",
            "published_at": "2025-06-01T08:00:00Z",
            "body": "No title here.",
        }
    ),
    lambda i: json.dumps(
        {
            "id": f"bad-{i}",
            "url": f"https://news.example.test/bad/{i}",
            "outlet": "W",
            "title": "T",
            "published_at": "sometime last spring",
            "body": "A bad date.",
        }
    ),
    lambda i: json.dumps(
        {
            "id": f"bad-{i}",
            "url": "not an address",
            "outlet": "W",
            "title": "T",
            "published_at": "2025-06-01T08:00:00Z",
            "body": "A bad URL.",
        }
    ),
    lambda i: json.dumps(["an", "array", i]),  # not an object
)


def article(i: int) -> dict:
    actor = f"{FIRST[i % 12]} {LAST[(i // 12) % 12]}"
    chair = f"{FIRST[(i + 5) % 12]} {LAST[(i + 7) % 12]}"
    body = BODIES[i % 5]
    return {
        "id": f"arch-{i:05d}",
        "url": f"https://news.example.test/archive/{i}",
        "outlet": "Archive Test Wire",
        "title": f"{body} row over survey {i // 10}",
        "story_id": f"archive-{i % 40:02d}",
        "published_at": f"2025-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T08:00:00Z",
        "body": f"{actor} has claimed that the harbour {body.lower()} hid survey number {i}. "
        f"The {body.lower()} chair, {chair}, denied the claim on Tuesday.",
    }


def lines(n: int, bad_every: int) -> list[str]:
    out = []
    for i in range(n):
        if bad_every and i % bad_every == bad_every - 1:
            out.append(MALFORMED[(i // bad_every) % len(MALFORMED)](i))
        else:
            out.append(json.dumps(article(i)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=2000)
    parser.add_argument("--bad-every", type=int, default=50, help="every Nth line is malformed (0: none)")
    args = parser.parse_args()
    sys.stdout.write("\n".join(lines(args.n, args.bad_every)) + "\n")


if __name__ == "__main__":
    main()
