"""The event contract: one envelope for every event on the wire, defined once.

Events are immutable facts. The envelope is versioned (`schema_version`); older
versions are upcast on read so the log is never rewritten.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

SCHEMA_VERSION = 2

CORE_TYPES = ("allegation_made", "rebuttal_given", "complaint_filed", "post_deleted")
EVENT_TYPES = CORE_TYPES + ("investigation_opened", "statement_made", "apology_issued")
# Editors' changes to an event already in the log: new facts about facts, never rewrites.
CHANGE_TYPES = ("event_corrected", "event_retracted")
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
    occurred_at = fields.String(allow_none=True, validate=validate.Regexp(r"^\d{4}-\d{2}-\d{2}$",
                                                                        error="use YYYY-MM-DD"))
    occurred_precision = fields.String(allow_none=True, validate=validate.OneOf(PRECISIONS))
    actor = fields.Nested(EntitySchema)
    target = fields.Nested(EntitySchema, allow_none=True)
    quote = fields.String(allow_none=True, validate=validate.Length(max=5000))
    summary = fields.String(validate=validate.Length(min=1, max=2000))


class ChangeDetailsSchema(Schema):
    event_id = fields.String(required=True, validate=validate.Length(min=8, max=128))
    changes = fields.Nested(ChangesSchema, load_default=dict)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class EventSchema(Schema):
    """The wire envelope. Unknown keys from newer producers are ignored, not fatal."""

    class Meta:
        unknown = EXCLUDE

    event_id = fields.String(required=True, validate=validate.Length(min=8, max=128))
    event_type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES + CHANGE_TYPES))
    schema_version = fields.Integer(required=True, validate=validate.Equal(SCHEMA_VERSION))
    story_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    occurred_at = fields.String(allow_none=True, load_default=None)
    occurred_precision = fields.String(allow_none=True, load_default=None,
                                       validate=validate.OneOf(PRECISIONS))
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
    responds_to = fields.List(fields.String(validate=validate.Length(min=8, max=128)),
                              load_default=list, validate=validate.Length(max=50))

    @validates_schema
    def _per_kind(self, data, **kwargs):
        if data.get("event_type") in CHANGE_TYPES:
            data["details"] = ChangeDetailsSchema().load(data.get("details") or {})
            if data["event_type"] == "event_corrected" and not data["details"]["changes"]:
                raise ValidationError({"details": {"changes": ["a correction needs at least one change"]}})
            return
        missing = {k: ["Missing data for required field."] for k in ("source", "extractor") if not data.get(k)}
        if missing:
            raise ValidationError(missing)


EVENT_SCHEMA = EventSchema()


def _upcast_v0(doc: dict) -> dict:
    # v0 (pre-release) events carried `type` and no precision.
    doc = dict(doc)
    if "type" in doc and "event_type" not in doc:
        doc["event_type"] = doc.pop("type")
    doc.setdefault("occurred_precision", "day" if doc.get("occurred_at") else None)
    doc["schema_version"] = 1
    return doc


def _upcast_v1(doc: dict) -> dict:
    # v1 events carried no links to the events they answer.
    doc = dict(doc)
    doc.setdefault("responds_to", [])
    doc["schema_version"] = 2
    return doc


UPCASTERS = {0: _upcast_v0, 1: _upcast_v1}


def upcast(doc: dict) -> dict:
    version = doc.get("schema_version", 0)
    while isinstance(version, int) and version < SCHEMA_VERSION and version in UPCASTERS:
        doc = UPCASTERS[version](doc)
        version = doc["schema_version"]
    return doc


def event_id_for(article_id: str, event_type: str, actor: str, char_start: int) -> str:
    """Deterministic: the same article ingested twice yields the same ids."""
    raw = "\x1f".join([article_id, event_type, actor.lower(), str(char_start)])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def utcnow_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def validate_event(doc: dict) -> dict:
    """Upcast and validate a decoded event; raises marshmallow.ValidationError."""
    return EVENT_SCHEMA.load(upcast(doc))


def encode(event: dict) -> bytes:
    """Validated on the way out too: a producer bug must fail loudly at the producer, not
    turn up later as a dead letter."""
    doc = EVENT_SCHEMA.dump(event)
    problems = EVENT_SCHEMA.validate(doc)
    if problems:
        raise ValueError(f"event {event.get('event_id')!r} breaks the contract: {problems}")
    return json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()


def decode(raw: bytes) -> dict:
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

_ENTITY_KEYS = frozenset(("name", "kind"))
_SOURCE_KEYS = frozenset(("article_id", "url", "outlet", "title", "sentence", "char_start", "char_end"))
_KNOWN_TYPES = frozenset(EVENT_TYPES)
_PRECISION_SET = frozenset(PRECISIONS)
_KIND_SET = frozenset(ENTITY_KINDS)


def _str(value: object, lo: int = 0, hi: int | None = None) -> bool:
    return type(value) is str and len(value) >= lo and (hi is None or len(value) <= hi)


def _opt_str(value: object) -> bool:
    return value is None or type(value) is str


def _entity(value: object) -> bool:
    return (type(value) is dict and value.keys() <= _ENTITY_KEYS and _str(value.get("name"), 1, 300)
            and value.get("kind", "unknown") in _KIND_SET)


def _int_at_least_0(value: object) -> bool:
    return type(value) is int and value >= 0


def fast_finding(doc: dict) -> dict | None:
    """The checks of EventSchema for a current-version finding, by hand: it runs on every
    event the projection applies, where the marshmallow load cost as much as the write.
    Returns the loaded event (defaults filled, unknown keys dropped) or None when the document
    is anything but a plain, valid finding; the caller then asks the schema, which has the
    final word and the error message (a property test holds the two equal)."""
    if doc.get("schema_version") != SCHEMA_VERSION or doc.get("event_type") not in _KNOWN_TYPES:
        return None
    actor, target, source, extractor = doc.get("actor"), doc.get("target"), doc.get("source"), doc.get("extractor")
    details, responds = doc.get("details", {}), doc.get("responds_to", [])
    if not (_str(doc.get("event_id"), 8, 128) and _str(doc.get("story_id"), 1, 200)
            and _str(doc.get("published_at")) and _str(doc.get("recorded_at")) and _str(doc.get("summary"))
            and _opt_str(doc.get("occurred_at")) and _opt_str(doc.get("quote"))
            and (doc.get("occurred_precision") is None or doc.get("occurred_precision") in _PRECISION_SET)
            and _entity(actor) and (target is None or _entity(target)) and type(details) is dict
            and type(source) is dict and source and source.keys() <= _SOURCE_KEYS
            and _str(source.get("article_id")) and _str(source.get("sentence"))
            and _int_at_least_0(source.get("char_start")) and _int_at_least_0(source.get("char_end"))
            and _opt_str(source.get("url")) and _opt_str(source.get("outlet")) and _opt_str(source.get("title"))
            and type(extractor) is dict and extractor and extractor.keys() == {"version", "confidence"}
            and _str(extractor["version"]) and type(extractor["confidence"]) in (int, float)
            and 0 <= extractor["confidence"] <= 1
            and type(responds) is list and len(responds) <= 50 and all(_str(r, 8, 128) for r in responds)):
        return None
    assert isinstance(actor, dict) and isinstance(source, dict) and isinstance(extractor, dict)
    return {"event_id": doc["event_id"], "event_type": doc["event_type"], "schema_version": SCHEMA_VERSION,
            "story_id": doc["story_id"], "occurred_at": doc.get("occurred_at"),
            "occurred_precision": doc.get("occurred_precision"), "published_at": doc["published_at"],
            "recorded_at": doc["recorded_at"], "actor": {"name": actor["name"], "kind": actor.get("kind", "unknown")},
            "target": None if target is None else {"name": target["name"], "kind": target.get("kind", "unknown")},
            "quote": doc.get("quote"), "summary": doc["summary"], "details": details,
            "source": {"article_id": source["article_id"], "url": source.get("url"), "outlet": source.get("outlet"),
                       "title": source.get("title"), "sentence": source["sentence"],
                       "char_start": source["char_start"], "char_end": source["char_end"]},
            "extractor": {"version": extractor["version"], "confidence": float(extractor["confidence"])},
            "responds_to": list(responds)}


def decode_fast(raw: bytes) -> dict:
    """decode(), with the hand-written check first for the common case (see fast_finding)."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if type(doc) is dict and (loaded := fast_finding(doc)) is not None:
        return loaded
    return decode(raw)
