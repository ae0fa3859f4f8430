"""What the ingest API accepts."""
from marshmallow import Schema, fields, validate


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
