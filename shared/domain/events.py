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
