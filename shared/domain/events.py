"""The event contract: one envelope for every event on the wire, defined once.

Events are immutable facts. The envelope is versioned (`schema_version`); older
versions are upcast on read so the log is never rewritten.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

import orjson
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

SCHEMA_VERSION = 2

CORE_TYPES = ("allegation_made", "rebuttal_given", "complaint_filed", "post_deleted")
EVENT_TYPES = CORE_TYPES + ("investigation_opened", "statement_made", "apology_issued")
# Editors' changes to an event already in the log: new facts about facts, never rewrites.
CHANGE_TYPES = ("event_corrected", "event_retracted")
# A newer reading of one article: its whole set of events in one message (shared.domain.readings).
READING_TYPES = ("reading_replaced",)
PRECISIONS = ("datetime", "day", "week", "month", "year")
# "group": people acting together without being an organisation ("parents at the school").
ENTITY_KINDS = ("person", "organisation", "group", "unknown")


class EntitySchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    kind = fields.String(load_default="unknown", validate=validate.OneOf(ENTITY_KINDS))


class SourceSchema(Schema):
    article_id = fields.String(required=True)
    url = fields.String(allow_none=True, load_default=None)
    outlet = fields.String(allow_none=True, load_default=None)
    title = fields.String(allow_none=True, load_default=None)
    sentence = fields.String(required=True)
    char_start = fields.Integer(required=True, validate=validate.Range(min=0))
    char_end = fields.Integer(required=True, validate=validate.Range(min=0))


class ExtractorSchema(Schema):
    version = fields.String(required=True)
    confidence = fields.Float(required=True, validate=validate.Range(min=0, max=1))


class ChangesSchema(Schema):
    """The fields an editor may correct. Unknown keys are refused, so a typo is not lost."""

    class Meta:
        unknown = RAISE

    event_type = fields.String(validate=validate.OneOf(EVENT_TYPES))
    occurred_at = fields.String(
        allow_none=True, validate=validate.Regexp(r"^\d{4}-\d{2}-\d{2}$", error="use YYYY-MM-DD")
    )
    occurred_precision = fields.String(allow_none=True, validate=validate.OneOf(PRECISIONS))
    actor = fields.Nested(EntitySchema)
    target = fields.Nested(EntitySchema, allow_none=True)
    quote = fields.String(allow_none=True, validate=validate.Length(max=5000))
    summary = fields.String(validate=validate.Length(min=1, max=2000))


class ChangeDetailsSchema(Schema):
    event_id = fields.String(required=True, validate=validate.Length(min=8, max=128))
    changes = fields.Nested(ChangesSchema, load_default=dict)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReadingDetailsSchema(Schema):
    """details of a `reading_replaced`: the article, the reading's identity and every event of
    it (each a full envelope of this article; none is a valid reading: the extractor found nothing)."""

    class Meta:
        unknown = EXCLUDE

    article_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    reading_id = fields.String(required=True, validate=validate.Length(min=8, max=128))
    extractor_version = fields.String(required=True)
    events = fields.List(fields.Dict(), required=True, validate=validate.Length(max=5000))


class EventSchema(Schema):
    """The wire envelope. Unknown keys from newer producers are ignored, not fatal."""

    class Meta:
        unknown = EXCLUDE

    event_id = fields.String(required=True, validate=validate.Length(min=8, max=128))
    event_type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES + CHANGE_TYPES + READING_TYPES))
    schema_version = fields.Integer(required=True, validate=validate.Equal(SCHEMA_VERSION))
    story_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    occurred_at = fields.String(allow_none=True, load_default=None)
    occurred_precision = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(PRECISIONS))
    published_at = fields.String(required=True)
    recorded_at = fields.String(required=True)
    actor = fields.Nested(EntitySchema, required=True)
    target = fields.Nested(EntitySchema, allow_none=True, load_default=None)
    quote = fields.String(allow_none=True, load_default=None)
    summary = fields.String(required=True)
    details = fields.Dict(load_default=dict)
    source = fields.Nested(SourceSchema, allow_none=True, load_default=None)
    extractor = fields.Nested(ExtractorSchema, allow_none=True, load_default=None)
    # The events this one answers or cites, by event_id: a rebuttal names the allegation it
    # denies, a complaint the allegation or post it is about. Causal order reads these links.
    responds_to = fields.List(
        fields.String(validate=validate.Length(min=8, max=128)), load_default=list, validate=validate.Length(max=50)
    )

    @validates_schema
    def _per_kind(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("event_type") in CHANGE_TYPES:
            data["details"] = ChangeDetailsSchema().load(data.get("details") or {})
            if data["event_type"] == "event_corrected" and not data["details"]["changes"]:
                raise ValidationError({"details": {"changes": ["a correction needs at least one change"]}})
            return
        if data.get("event_type") in READING_TYPES:
            details = ReadingDetailsSchema().load(data.get("details") or {})
            evs = []
            for i, raw in enumerate(details["events"]):
                try:
                    ev = EVENT_SCHEMA.load(upcast(raw))
                except ValidationError as exc:
                    raise ValidationError({"details": {"events": {i: exc.messages}}}) from None
                if (
                    ev["event_type"] not in EVENT_TYPES
                    or ev["source"]["article_id"] != details["article_id"]
                    or ev["story_id"] != data.get("story_id")
                ):
                    raise ValidationError({"details": {"events": {i: ["not an event of this article and story"]}}})
                evs.append(ev)
            data["details"] = {**details, "events": evs}
            return
        missing = {k: ["Missing data for required field."] for k in ("source", "extractor") if not data.get(k)}
        if missing:
            raise ValidationError(missing)


EVENT_SCHEMA = EventSchema()


def _upcast_v0(doc: dict[str, Any]) -> dict[str, Any]:
    # v0 (pre-release) events carried `type` and no precision.
    doc = dict(doc)
    if "type" in doc and "event_type" not in doc:
        doc["event_type"] = doc.pop("type")
    doc.setdefault("occurred_precision", "day" if doc.get("occurred_at") else None)
    doc["schema_version"] = 1
    return doc


def _upcast_v1(doc: dict[str, Any]) -> dict[str, Any]:
    # v1 events carried no links to the events they answer.
    doc = dict(doc)
    doc.setdefault("responds_to", [])
    doc["schema_version"] = 2
    return doc


UPCASTERS = {0: _upcast_v0, 1: _upcast_v1}


def upcast(doc: dict[str, Any]) -> dict[str, Any]:
    version = doc.get("schema_version", 0)
    while isinstance(version, int) and version < SCHEMA_VERSION and version in UPCASTERS:
        doc = UPCASTERS[version](doc)
        version = doc["schema_version"]
    return doc


def reading_event(
    article: dict[str, Any],
    story_id: str,
    reading_id: str,
    extractor_version: str,
    evs: list[dict[str, Any]],
    recorded_at: str,
) -> dict[str, Any]:
    """The `reading_replaced` envelope for a new reading of an article (`article`: the
    article_received fields). Its id names this publication, so a redelivery is recognised
    and a later publication of the same reading is a new fact."""
    return {
        "event_id": hashlib.sha256("\x1f".join([reading_id, recorded_at]).encode()).hexdigest()[:32],
        "event_type": READING_TYPES[0],
        "schema_version": SCHEMA_VERSION,
        "story_id": story_id,
        "occurred_at": None,
        "occurred_precision": None,
        "published_at": article["published_at"],
        "recorded_at": recorded_at,
        "actor": {"name": "storyline extractor", "kind": "unknown"},
        "target": None,
        "quote": None,
        "summary": f"reading {reading_id[:12]} of article {article['article_id']} ({len(evs)} events)",
        "details": {
            "article_id": article["article_id"],
            "reading_id": reading_id,
            "extractor_version": extractor_version,
            "events": evs,
        },
        "source": None,
        "extractor": None,
        "responds_to": [],
    }


# ------------------------------------------------------------------ the article topic

ARTICLE_SCHEMA_VERSION = 1
ARTICLE_TYPE = "article_received"


class ArticleReceivedSchema(Schema):
    """The article itself, as ingest validated it: the fact every reading is derived from.
    On its own topic (`<topic>.articles`), keyed by story like the events."""

    class Meta:
        unknown = EXCLUDE

    type = fields.String(required=True, validate=validate.Equal(ARTICLE_TYPE))
    schema_version = fields.Integer(required=True, validate=validate.Equal(ARTICLE_SCHEMA_VERSION))
    article_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    story_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title = fields.String(required=True)
    body = fields.String(required=True)
    url = fields.String(required=True)
    outlet = fields.String(required=True)
    published_at = fields.String(required=True)
    request_id = fields.String(allow_none=True, load_default=None)
    recorded_at = fields.String(required=True)


ARTICLE_RECEIVED_SCHEMA = ArticleReceivedSchema()


def encode_article(doc: dict[str, Any]) -> bytes:
    problems = ARTICLE_RECEIVED_SCHEMA.validate(doc)
    if problems:
        raise ValueError(f"article_received {doc.get('article_id')!r} breaks the contract: {problems}")
    return json.dumps(ARTICLE_RECEIVED_SCHEMA.dump(doc), sort_keys=True, ensure_ascii=False).encode()


def decode_article(raw: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError("article_received is not a JSON object")
    try:
        loaded: dict[str, Any] = ARTICLE_RECEIVED_SCHEMA.load(doc)
    except ValidationError as exc:
        raise ValueError(f"schema: {exc.messages}") from exc
    return loaded


def event_id_for(article_id: str, event_type: str, actor: str, char_start: int) -> str:
    """Deterministic: the same article ingested twice yields the same ids."""
    raw = "\x1f".join([article_id, event_type, actor.lower(), str(char_start)])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def utcnow_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def validate_event(doc: dict[str, Any]) -> dict[str, Any]:
    """Upcast and validate a decoded event; raises marshmallow.ValidationError."""
    loaded: dict[str, Any] = EVENT_SCHEMA.load(upcast(doc))
    return loaded


def encode(event: dict[str, Any]) -> bytes:
    """Validated on the way out too: a producer bug must fail loudly at the producer, not
    turn up later as a dead letter."""
    doc = EVENT_SCHEMA.dump(event)
    problems = EVENT_SCHEMA.validate(doc)
    if problems:
        raise ValueError(f"event {event.get('event_id')!r} breaks the contract: {problems}")
    return json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()


def decode(raw: bytes) -> dict[str, Any]:
    """Bytes from the log to a validated event; raises ValueError on any defect."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError("event is not a JSON object")
    try:
        return validate_event(doc)
    except ValidationError as exc:
        raise ValueError(f"schema: {exc.messages}") from exc


# ---------------------------------------------------------------- the projection's hot path

_KNOWN_TYPES = frozenset(EVENT_TYPES)
_PRECISION_SET = frozenset(PRECISIONS) | {None}
_KIND_SET = frozenset(ENTITY_KINDS)
# The keys a producer's encode() writes, all of them: a document with exactly these keys
# needs no defaults filled and has nothing to drop.
_N_FINDING = len(EventSchema().fields)
_N_SOURCE = len(SourceSchema().fields)
assert len(ExtractorSchema().fields) == 2 and len(EntitySchema().fields) == 2, "fast_finding checks two keys each"


def fast_finding(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The checks of EventSchema for a current-version finding as encode() writes it, by
    hand: it runs on every event the projection applies, where the marshmallow load cost as
    much as the write. Returns the document itself when it passes, None when it is anything
    but a plain, complete, valid finding; the caller then asks the schema, which has the
    final word and the error message (tests/test_hot_path.py holds the two equal).
    Key sets are checked by size plus lookup: as many keys as the schema's, none missing."""
    try:
        return _fast_finding(doc)
    except (KeyError, TypeError):
        return None


def _fast_finding(doc: dict[str, Any]) -> dict[str, Any] | None:
    if len(doc) != _N_FINDING or doc["schema_version"] != SCHEMA_VERSION or type(doc["schema_version"]) is not int:
        return None
    kind, precision = doc["event_type"], doc["occurred_precision"]
    if (
        type(kind) is not str
        or kind not in _KNOWN_TYPES
        or (precision is not None and (type(precision) is not str or precision not in _PRECISION_SET))
    ):
        return None
    str_ = str
    eid, sid = doc["event_id"], doc["story_id"]
    if (
        type(eid) is not str_
        or not 8 <= len(eid) <= 128
        or type(sid) is not str_
        or not 1 <= len(sid) <= 200
        or type(doc["published_at"]) is not str_
        or type(doc["recorded_at"]) is not str_
        or type(doc["summary"]) is not str_
        or type(doc["details"]) is not dict
    ):
        return None
    occurred, quote = doc["occurred_at"], doc["quote"]
    if (occurred is not None and type(occurred) is not str_) or (quote is not None and type(quote) is not str_):
        return None
    target = doc["target"]
    for entity in (doc["actor"], target) if target is not None else (doc["actor"],):
        if (
            type(entity) is not dict
            or len(entity) != 2
            or type(entity["name"]) is not str_
            or not 1 <= len(entity["name"]) <= 300
            or type(entity["kind"]) is not str_
            or entity["kind"] not in _KIND_SET
        ):
            return None
    src, ext, links = doc["source"], doc["extractor"], doc["responds_to"]
    if type(src) is not dict or len(src) != _N_SOURCE or type(ext) is not dict or len(ext) != 2:
        return None
    start, end, conf = src["char_start"], src["char_end"], ext["confidence"]
    if (
        type(src["article_id"]) is not str_
        or type(src["sentence"]) is not str_
        or type(start) is not int
        or type(end) is not int
        or start < 0
        or end < 0
        or type(ext["version"]) is not str_
        or type(conf) not in (int, float)
        or not 0 <= conf <= 1
    ):
        return None
    url, outlet, title = src["url"], src["outlet"], src["title"]
    if (
        (url is not None and type(url) is not str_)
        or (outlet is not None and type(outlet) is not str_)
        or (title is not None and type(title) is not str_)
    ):
        return None
    if type(links) is not list or len(links) > 50:
        return None
    for link in links:
        if type(link) is not str_ or not 8 <= len(link) <= 128:
            return None
    if type(conf) is int:
        ext["confidence"] = float(conf)
    return doc


def decode_fast(raw: bytes) -> dict[str, Any]:
    """decode(), with the hand-written check first for the common case (see fast_finding)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return decode(raw)  # the schema's path words the error
    if type(doc) is dict and (loaded := fast_finding(doc)) is not None:
        return loaded
    return decode(raw)
