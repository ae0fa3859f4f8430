"""The event contract: one envelope for every event on the wire, defined once.

Events are immutable facts. The envelope is versioned (`schema_version`); older
versions are upcast on read so the log is never rewritten.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Annotated, Any

import msgspec
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

_Id = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]


class _Entity(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    kind: str


class _Source(msgspec.Struct, forbid_unknown_fields=True):
    article_id: str
    url: str | None
    outlet: str | None
    title: str | None
    sentence: str
    char_start: Annotated[int, msgspec.Meta(ge=0)]
    char_end: Annotated[int, msgspec.Meta(ge=0)]


class _Extractor(msgspec.Struct, forbid_unknown_fields=True):
    version: str
    confidence: Annotated[float, msgspec.Meta(ge=0, le=1)]


class _Finding(msgspec.Struct, forbid_unknown_fields=True):
    """EventSchema for a current-version finding exactly as encode() writes it: every key
    present, none unknown. The enumerations are checked after decoding (plain_finding)."""

    event_id: _Id
    event_type: str
    schema_version: int
    story_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    occurred_at: str | None
    occurred_precision: str | None
    published_at: str
    recorded_at: str
    actor: _Entity
    target: _Entity | None
    quote: str | None
    summary: str
    details: dict[str, Any]
    source: _Source
    extractor: _Extractor
    responds_to: Annotated[list[_Id], msgspec.Meta(max_length=50)]


_FINDING_DECODER = msgspec.json.Decoder(_Finding)
_KNOWN_TYPES = frozenset(EVENT_TYPES)
_PRECISION_SET = frozenset(PRECISIONS)
_KIND_SET = frozenset(ENTITY_KINDS)
assert set(_Finding.__struct_fields__) == set(EventSchema().fields), "the fast check covers every field"
assert set(_Source.__struct_fields__) == set(SourceSchema().fields)


def plain_finding(raw: bytes) -> dict[str, Any] | None:
    """A finding as EventSchema would load it, or None when it is anything but a plain,
    complete, valid current-version finding. msgspec checks types, presence and ranges in C
    while it parses: this runs on every event the projection applies, where the marshmallow
    load cost as much as the write."""
    try:
        f = _FINDING_DECODER.decode(raw)
    except msgspec.DecodeError:  # ValidationError is a DecodeError
        return None
    if (
        f.schema_version != SCHEMA_VERSION
        or f.event_type not in _KNOWN_TYPES
        or (f.occurred_precision is not None and f.occurred_precision not in _PRECISION_SET)
        or f.actor.kind not in _KIND_SET
        or (f.target is not None and f.target.kind not in _KIND_SET)
    ):
        return None
    doc: dict[str, Any] = msgspec.to_builtins(f)
    return doc


def decode_fast(raw: bytes) -> dict[str, Any]:
    """decode(), with a compiled check first for the common case. Anything that check does
    not pass goes to the schema, which has the final word and words the error
    (tests/test_hot_path.py holds the two equal)."""
    doc = plain_finding(raw)
    return doc if doc is not None else decode(raw)
