"""What the query API accepts (query parameters) and answers (for the OpenAPI document and tests)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from shared.domain.events import EVENT_TYPES

_TEXT = validate.Length(min=1, max=300)
_AS_OF = (
    "the timeline as it was known at this time: only what had been ingested by then, with later "
    "corrections undone (ISO 8601 with a timezone, e.g. 2025-03-14T09:00:00Z; write + as %2B)"
)


class _Strict(Schema):
    class Meta:
        unknown = RAISE  # a mistyped parameter is an error, not silently ignored


class NoQuery(_Strict):
    """An endpoint without parameters still refuses unknown ones."""


class StoriesQuery(_Strict):
    q = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "words in the title or a participant's name (actor or target), any case"},
    )
    actor = fields.String(
        validate=_TEXT, metadata={"description": "only stories where this actor acted (exact name, any case)"}
    )
    type = fields.String(
        validate=validate.OneOf(EVENT_TYPES), metadata={"description": "only stories with events of this type"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(
        validate=validate.Length(min=1, max=1000), metadata={"description": "next_cursor of the previous page"}
    )


class EntryFiltersQuery(_Strict):
    types = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=validate.Length(max=len(EVENT_TYPES)),
        metadata={"description": "event types to show (repeat or comma-separate)"},
    )
    actor = fields.String(validate=_TEXT, metadata={"description": "only this actor's events (exact name, any case)"})
    since = fields.Date(
        metadata={"description": "event day from (inclusive; an undated event counts by its publication day)"}
    )
    until = fields.Date(metadata={"description": "event day up to (inclusive)"})
    include_retracted = fields.Boolean(load_default=False, metadata={"description": "show retracted events, marked"})
    as_of = fields.AwareDateTime(
        metadata={"description": _AS_OF}, error_messages={"invalid": "not an ISO 8601 datetime with a timezone"}
    )

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError("until is before since", field_name="until")


class TimelineQuery(EntryFiltersQuery):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    cursor = fields.String(
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "next_cursor of the previous page (same filters)"},
    )


class TimelineJSQuery(EntryFiltersQuery):
    group = fields.String(
        load_default="kind",
        validate=validate.OneOf(("kind", "actor")),
        metadata={"description": "TimelineJS group: the event kind or the actor"},
    )


# ---------------------------------------------------------------- answers


class FreshnessSchema(Schema):
    generation = fields.Integer(required=True, metadata={"description": "the read-model generation answering"})
    positions = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "per 'group:topic:partition': the next log offset not yet projected"},
    )
    position = fields.String(
        required=True, metadata={"description": "the same as one string (also the X-Storyline-Position header)"}
    )


class ParticipantSchema(Schema):
    name = fields.String(required=True)
    kind = fields.String(required=True)
    roles = fields.List(fields.String(), required=True, metadata={"description": "actor and/or target"})


class ArticleRefSchema(Schema):
    article_id = fields.String(required=True)
    url = fields.String(allow_none=True)
    outlet = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    published_at = fields.String(allow_none=True)
    state = fields.String(
        required=True,
        validate=validate.OneOf(("current", "retracted", "superseded")),
        metadata={
            "description": "current: some of its events are on the timeline; retracted: an editor retracted "
            "each of them; superseded: its newest reading found no events (all it had were replaced)"
        },
    )
    events = fields.Integer(required=True, metadata={"description": "how many of its events the timeline shows"})


class StorySchema(Schema):
    story_id = fields.String(required=True)
    title = fields.String(allow_none=True)
    participants = fields.List(fields.Nested(ParticipantSchema), required=True)
    counts = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True, metadata={"description": "active events by type"}
    )
    event_count = fields.Integer(required=True)
    first_date = fields.String(allow_none=True)
    last_date = fields.String(allow_none=True)
    last_recorded_at = fields.String(allow_none=True, metadata={"description": "newest activity (ingest time)"})
    sources = fields.List(
        fields.Raw(), required=True, metadata={"description": "article ids (list) or article references (summary)"}
    )


class StoriesPageSchema(Schema):
    stories = fields.List(fields.Nested(StorySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
    freshness = fields.Nested(FreshnessSchema, required=True)


class ComplaintRefSchema(Schema):
    actor = fields.String(required=True)
    body = fields.String(allow_none=True, required=True, metadata={"description": "where it was filed"})
    target = fields.String(allow_none=True, required=True)


class DeletionRefSchema(Schema):
    actor = fields.String(required=True)
    platform = fields.String(allow_none=True, required=True)


class LeadSchema(Schema):
    """The narrative's lead paragraph as data (shared.domain.lead)."""

    text = fields.String(required=True, metadata={"description": "the lead paragraph, as the narrative opens"})
    accusers = fields.List(fields.String(), required=True, metadata={"description": "actors of allegations"})
    accused = fields.List(fields.String(), required=True, metadata={"description": "targets of allegations"})
    responders = fields.List(fields.String(), required=True, metadata={"description": "actors of rebuttals"})
    filed = fields.List(fields.Nested(ComplaintRefSchema), required=True)
    deleted = fields.List(fields.Nested(DeletionRefSchema), required=True)
    first_date = fields.String(allow_none=True, required=True, metadata={"description": "first day shown (YYYY-MM-DD)"})
    last_date = fields.String(allow_none=True, required=True)
    outlets = fields.List(fields.String(), required=True)
    event_count = fields.Integer(required=True, metadata={"description": "entries (real-world events), not reports"})


class StorySummarySchema(StorySchema):
    sources = fields.List(fields.Nested(ArticleRefSchema), required=True)
    lead = fields.Nested(LeadSchema, required=True)
    freshness = fields.Nested(FreshnessSchema, required=True)


class EntitySchema(Schema):
    name = fields.String(required=True)
    kind = fields.String(required=True)


class CorrectionSchema(Schema):
    change_id = fields.String(allow_none=True)
    kind = fields.String(allow_none=True, metadata={"description": "corrected | retracted"})
    recorded_at = fields.String(allow_none=True)
    changes = fields.Raw(allow_none=True, metadata={"description": "the values the change set"})
    previous = fields.Raw(allow_none=True, metadata={"description": "the values it replaced"})
    reason = fields.String(allow_none=True)
    editor = fields.String(allow_none=True)


class LogPositionSchema(Schema):
    partition = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class ReportedSchema(Schema):
    actor = fields.Nested(EntitySchema, required=True)
    target = fields.Nested(EntitySchema, allow_none=True, required=True)
    occurred_at = fields.String(allow_none=True, required=True)
    occurred_precision = fields.String(allow_none=True, required=True)
    quote = fields.String(allow_none=True, required=True)
    body = fields.String(allow_none=True, required=True)


class ProvenanceSchema(Schema):
    event_id = fields.String(required=True)
    article_id = fields.String(required=True)
    url = fields.String(allow_none=True)
    outlet = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    published_at = fields.String(required=True)
    sentence = fields.String(required=True)
    char_start = fields.Integer(required=True)
    char_end = fields.Integer(required=True)
    extractor_version = fields.String(required=True)
    confidence = fields.Float(required=True)
    recorded_at = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("active", "corrected", "retracted")))
    corrections = fields.List(fields.Nested(CorrectionSchema), required=True)
    log = fields.Nested(LogPositionSchema, allow_none=True)
    joined = fields.String(
        required=True,
        metadata={
            "description": "why this report belongs to the entry: 'first report', or how its type, actor, target and date match"
        },
    )
    reported = fields.Nested(
        ReportedSchema,
        required=True,
        metadata={"description": "the values this report gives (the entry shows the best-supported ones)"},
    )


class PlacementSchema(Schema):
    date = fields.String(required=True, metadata={"description": "YYYY-MM-DD: the day the entry is shown at"})
    inferred = fields.Boolean(
        required=True,
        metadata={"description": "true: the entry is undated and this position was inferred (see reason)"},
    )
    reason = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "why an inferred position is where it is, e.g. \"undated; placed before X's rebuttal of 11 March 2025 "
            'that answers it"; on a dated entry, null unless a link goes against the dates (then the dates decide)'
        },
    )


class AlternativeSchema(Schema):
    value = fields.Raw(required=True)
    event_ids = fields.List(fields.String(), required=True)


class EntrySchema(Schema):
    entry_id = fields.String(
        required=True, metadata={"description": "the event_id of the entry's first report (log order)"}
    )
    event_type = fields.String(required=True)
    occurred_at = fields.String(allow_none=True, required=True)
    occurred_precision = fields.String(allow_none=True, required=True)
    dated = fields.Boolean(
        required=True, metadata={"description": "false: no event time was found; placed by publication day"}
    )
    published_at = fields.String(required=True)
    actor = fields.Nested(EntitySchema, required=True)
    target = fields.Nested(EntitySchema, allow_none=True, required=True)
    summary = fields.String(required=True)
    quote = fields.String(allow_none=True, required=True)
    details = fields.Dict(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("active", "corrected", "retracted")))
    retracted = fields.Boolean(required=True)
    confidence = fields.Float(required=True, metadata={"description": "the highest of its sources"})
    responds_to = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "entry_ids of the entries this one answers or cites "
            "(extraction's links and the rebuttal rule's)"
        },
    )
    responds_to_inferred = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "those of responds_to the rule added: a rebuttal answers the latest earlier allegation against the same target"
        },
    )
    placement = fields.Nested(PlacementSchema, required=True)
    alternatives = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(AlternativeSchema)),
        required=True,
        metadata={
            "description": "per field (actor, target, when, quote, body) where reports "
            "disagree: the values not shown and the reports giving them"
        },
    )
    provenance = fields.List(
        fields.Nested(ProvenanceSchema),
        required=True,
        metadata={"description": "every event (article, sentence) this entry merges"},
    )


class TimelinePageSchema(Schema):
    story_id = fields.String(required=True)
    title = fields.String(allow_none=True)
    order = fields.String(required=True)
    as_of = fields.String(allow_none=True, required=True)
    entries = fields.List(fields.Nested(EntrySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
    freshness = fields.Nested(FreshnessSchema, required=True)


class TimelineJSDateSchema(Schema):
    year = fields.Integer(required=True)
    month = fields.Integer()
    day = fields.Integer()
    hour = fields.Integer()
    minute = fields.Integer()
    display_date = fields.String()


class TimelineJSTextSchema(Schema):
    headline = fields.String()
    text = fields.String()


class TimelineJSEventSchema(Schema):
    start_date = fields.Nested(TimelineJSDateSchema, required=True)
    text = fields.Nested(TimelineJSTextSchema, required=True)
    group = fields.String(required=True)
    unique_id = fields.String(required=True)
    display_date = fields.String()


class TimelineJSTitleSchema(Schema):
    text = fields.Nested(TimelineJSTextSchema, required=True)


class TimelineJSSchema(Schema):
    """TimelineJS's JSON format, embeddable as is."""

    title = fields.Nested(TimelineJSTitleSchema, required=True)
    events = fields.List(fields.Nested(TimelineJSEventSchema), required=True)
