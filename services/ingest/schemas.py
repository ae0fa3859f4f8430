"""What the ingest API accepts."""
from marshmallow import Schema, fields, validate

from shared.events import EventSchema


class ArticleSchema(Schema):
    id = fields.String(validate=validate.Length(min=1, max=200))
    story_id = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$",
                                                      error="letters, digits and . _ : - only"))
    url = fields.Url(required=True, require_tld=False, validate=validate.Length(max=2000))
    title = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    body = fields.String(required=True, validate=validate.Length(min=1, max=500_000))
    published_at = fields.AwareDateTime(required=True, default_timezone=None,
                                        error_messages={"invalid": "not an ISO 8601 datetime with a timezone"})
    outlet = fields.String(required=True, validate=validate.Length(min=1, max=200))


class AcceptedSchema(Schema):
    """What POST /v1/articles answers (202): the events published for the article."""
    article_id = fields.String(required=True)
    story_id = fields.String(required=True)
    events = fields.List(fields.Nested(EventSchema), required=True)
    request_id = fields.String(required=True)
