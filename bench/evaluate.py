"""Score extraction with the shared scorer, in one process and one spaCy load.

The scorer (../shared/corpus/evaluate.py) runs a command per article; here its `run_extract`
is pointed at the extractor itself, so every article goes through the same code as
`storyline extract` (schema load, then `events_for`) without a new interpreter each time.

Usage: python -m bench.evaluate [--set FILE ...] [-v] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCORER = os.path.join(HERE, "..", "..", "shared", "corpus", "evaluate.py")
DEFAULT_SETS = [
    os.path.join(HERE, "..", "..", "shared", "corpus", "articles.json"),
    os.path.join(HERE, "..", "..", "shared", "corpus", "articles2.json"),
    os.path.join(HERE, "..", "tests", "corpus", "articles.json"),
    os.path.join(HERE, "..", "tests", "corpus", "quotes_dates.json"),
]


def load_scorer(path: str = SCORER):
    spec = importlib.util.spec_from_file_location("corpus_evaluate", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"evaluate: no scorer at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def extract_article(article: dict) -> list[dict]:
    from services.ingest.schemas import ArticleSchema
    from services.ingest.service import events_for

    schema = ArticleSchema()
    raw = {k: v for k, v in article.items() if k in schema.fields}
    return events_for(schema.load(raw), "1970-01-01T00:00:00.000Z")


def evaluate(path: str, verbose: bool = False) -> dict:
    scorer = load_scorer()
    scorer.run_extract = lambda _template, article: extract_article(article)
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return scorer.score(data["articles"], data["gold"], None, verbose)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", dest="sets", help="an articles.json with gold (repeatable)")
    ap.add_argument("-v", action="store_true", help="print every miss")
    ap.add_argument("--json", action="store_true", help="print the full result per set as JSON")
    args = ap.parse_args(argv)
    sets = args.sets or [p for p in DEFAULT_SETS if os.path.exists(p)]
    if not os.path.exists(SCORER):
        print(f"evaluate: the shared scorer is missing ({SCORER})", file=sys.stderr)
        return 2
    rows = []
    for path in sets:
        if verbose := args.v:
            print(f"== {os.path.relpath(path)}")
        res = evaluate(path, verbose)
        rows.append((os.path.relpath(path), res))
        if args.json:
            print(json.dumps(res, indent=1))
    print(f"{'set':44} {'F1':>5} {'P':>5} {'R':>5} {'dates':>5} {'target':>6} {'quote':>5} {'tp/fp/fn':>10} {'s':>5}")
    for name, r in rows:
        fmt = lambda v: "  -  " if v is None else f"{v:5.3f}"  # noqa: E731
        print(
            f"{name:44} {fmt(r['f1'])} {fmt(r['precision'])} {fmt(r['recall'])} {fmt(r['date_accuracy'])} "
            f"{fmt(r['target_accuracy']):>6} {fmt(r['quote_accuracy'])} "
            f"{r['tp']:>3}/{r['fp']}/{r['fn']:<3} {r['seconds']:5.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
