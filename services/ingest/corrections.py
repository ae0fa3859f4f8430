"""Editors' corrections and retractions: new events about an event, never a rewrite.

POST /v1/corrections {story_id, event_id, action: correct|retract, changes, reason, editor}
publishes `event_corrected` or `event_retracted`, keyed by the story so it follows the
event it changes in the same partition. The projection applies it and keeps the history.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, current_app, jsonify
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.ingest.delivery import await_publication, queue
from shared.domain import events
from shared.http import error, load_json_object
from shared.openapi import doc
from shared.ports import OutboxUnavailable, Record

bp = Blueprint("corrections", __name__)


class CorrectionSchema(Schema):
    story_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    event_id = fields.String(required=True, validate=validate.Length(min=8, max=128))
    action = fields.String(required=True, validate=validate.OneOf(("correct", "retract")))
    changes = fields.Nested(events.ChangesSchema, load_default=dict)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    editor = fields.String(required=True, validate=validate.Length(min=1, max=200))

    @validates_schema
    def _changes_match_action(self, data, **kwargs):
        if data["action"] == "correct" and not data["changes"]:
            raise ValidationError({"changes": ["a correction needs at least one changed field"]})
        if data["action"] == "retract" and data["changes"]:
            raise ValidationError({"changes": ["a retraction changes no fields; use action=correct"]})


_SCHEMA = CorrectionSchema()


def change_event(c: dict, recorded_at: str | None = None) -> dict:
    """The envelope for one correction. The id is derived from its content, so an editor
    who posts the same correction twice changes the event once."""
    raw = json.dumps([c["event_id"], c["action"], c["changes"], c["reason"]], sort_keys=True)
    recorded_at = recorded_at or events.utcnow_iso()
    kind = "event_corrected" if c["action"] == "correct" else "event_retracted"
    verb = "corrected " + ", ".join(sorted(c["changes"])) if c["changes"] else "retracted"
    return {
        "event_id": hashlib.sha256(raw.encode()).hexdigest()[:32],
        "event_type": kind,
        "schema_version": events.SCHEMA_VERSION,
        "story_id": c["story_id"],
        "published_at": recorded_at,
        "recorded_at": recorded_at,
        "actor": {"name": c["editor"], "kind": "person"},
        "target": None,
        "quote": None,
        "summary": f"{c['editor']} {verb}: {c['reason']}",
        "details": {"event_id": c["event_id"], "changes": c["changes"], "reason": c["reason"]},
        "source": None,
        "extractor": None,
    }


@bp.post("/v1/corrections")
@doc(
    "Correct or retract an event: published to the log as a change event (X-API-Key required)",
    tags=["corrections"],
    body=CorrectionSchema,
    status=202,
    errors=(400, 401, 415, 422, 503),
)
def post_correction():
    correction, refused = load_json_object(_SCHEMA, "correction")
    if refused:
        return refused
    ev = change_event(correction)
    try:  # through the outbox, so it cannot overtake the story's queued events
        seqs = queue([Record(key=ev["story_id"], value=events.encode(ev), headers={"event_type": ev["event_type"]})])
    except OutboxUnavailable:
        current_app.logger.exception("outbox write failed")
        return error(503, "the outbox is unavailable; the correction was not accepted, retry later")
    return jsonify(event=ev, delivery=await_publication(seqs)), 202
