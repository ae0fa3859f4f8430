"""What the ingest API accepts."""

from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate

from shared.domain.events import EventSchema


class Text(fields.String):
    """A string that is valid Unicode text: JSON can carry lone surrogates ("\\ud800"), which
    no UTF-8 encoder (Kafka, MongoDB) accepts. Only strings pass, never objects or lists, so
    no body field can reach the store as a query operator."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("not valid Unicode text (it holds a lone surrogate)") from None
        return text


class WebAddress(fields.Url):
    """An absolute http(s) URL: an article is a web page, and the address is shown to editors as
    a link. marshmallow's Url takes ftp and ftps by default and says only "Not a valid URL." of
    another scheme; the scheme is checked first here so the answer names the reason."""

    SCHEMES = ("http", "https")

    def __init__(self, **kwargs):
        super().__init__(schemes=set(self.SCHEMES), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        scheme, sep, _ = text.partition("://")
        if sep and scheme.lower() not in self.SCHEMES:
            raise ValidationError("must be an http or https address")
        return text


_EARLIEST = datetime(1800, 1, 1, tzinfo=timezone.utc)
_LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)


class ArticleSchema(Schema):
    id = Text(validate=validate.Length(min=1, max=200))
    story_id = Text(
        validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$", error="letters, digits and . _ : - only")
    )
    url = WebAddress(
        required=True,
        require_tld=False,
        validate=validate.Length(max=2000),
        metadata={
            "format": "uri",
            "pattern": r"^https?://[a-z0-9-]+(\.[a-z0-9-]+)*(/[A-Za-z0-9._~-]*)*$",
            "description": "http(s) address of the article",
        },
    )
    title = Text(required=True, validate=validate.Length(min=1, max=1000))
    body = Text(required=True, validate=validate.Length(min=1, max=500_000))
    # a plausible publication time: years outside this range are typos (and strftime/strptime
    # round trips downstream do not survive years below 1000)
    published_at = fields.AwareDateTime(
        required=True,
        default_timezone=None,
        validate=validate.Range(min=_EARLIEST, max=_LATEST, error="must lie between 1800 and 2199"),
        error_messages={"invalid": "not an ISO 8601 datetime with a timezone"},
    )
    outlet = Text(required=True, validate=validate.Length(min=1, max=200))


class AcceptedSchema(Schema):
    """What POST /v1/articles answers (202): the events published for the article."""

    article_id = fields.String(required=True)
    story_id = fields.String(required=True)
    events = fields.List(fields.Nested(EventSchema), required=True)
    request_id = fields.String(required=True)
    delivery = fields.String(
        required=True,
        validate=validate.OneOf(("published", "queued")),
        metadata={
            "description": "published: the log acknowledged every event; queued: they wait in the durable "
            "outbox (the log is slow or away) and are published, in order, when it answers"
        },
    )
