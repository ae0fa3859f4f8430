"""The last step of extraction: quotes, dates and summaries of the findings detection produced.

Interface (what detection hands over, what this sets):
  complete(findings, doc, body, published) -> findings, the same objects, updated in place.
  * reads, per Finding: `event_type`, `actor` {name, kind}, `target`, `details`, `sentence`,
    `char_start`/`char_end` (the first mention), `mentions` (each {sentence, char_start,
    char_end}), `cue_tokens` (token index of the cue predicate in `doc`, one per mention,
    None where a pattern found it without the parse);
  * `doc` is the spaCy parse of `body`; `published` the article's publication time (aware);
  * sets `quote` (quotes.py), `occurred_at` + `occurred_precision` (dates.py) and `summary`
    (summaries.py). Speakers and pronouns resolve through detection's own `Resolver` (its
    roster's parties, kinds and short forms, viewed by position in speakers.py); called
    without one (tests), the pass reads the article's parties the same way first.
Detection's own values of these four fields are overwritten: this pass owns them.
"""

from __future__ import annotations

from datetime import datetime

from spacy.tokens import Doc

from services.ingest.extraction import dates, quotes, summaries
from services.ingest.extraction.entities import Resolver
from services.ingest.extraction.speakers import Entities


def complete(findings: list, doc: Doc, body: str, published: datetime, resolver: Resolver | None = None) -> list:
    if not findings:
        return findings
    if len(doc) and doc[-1].idx + len(doc[-1].text_with_ws) != len(body):
        raise ValueError("postpass: the parse is not of this body")
    doc.user_data["storyline.text"] = body
    if resolver is None:  # called on its own (tests): read the article's parties as detection does
        resolver = Resolver.read(doc, body)
    entities = Entities(doc, findings, resolver)
    quotes.attach(findings, doc, entities)
    dates.date_findings(findings, doc, published, entities)
    summaries.write(findings, doc)
    return findings
