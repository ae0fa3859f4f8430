"""OpenAPI 3 documents for the HTTP services, generated from their marshmallow schemas.

A view states what it takes and returns with `@doc(...)`, next to its route;
`install_openapi` walks the app's routes once and serves the result at /openapi.json
(apispec and its marshmallow plugin do the schema-to-JSON-Schema work).
"""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, jsonify
from marshmallow import Schema, fields

OPENAPI_VERSION = "3.0.3"
_PATH_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_REASONS = {
    304: "Not modified: the If-None-Match ETag still matches",
    400: "A query parameter is invalid",
    401: "Missing or invalid API key",
    404: "No such resource",
    406: "No acceptable representation",
    413: "Body too large",
    415: "Wrong content type",
    422: "The body failed validation",
    503: "A dependency is unavailable",
}


class ErrorDetailSchema(Schema):
    status = fields.Integer(required=True, metadata={"description": "the HTTP status, repeated"})
    reason = fields.String(required=True, metadata={"description": "what went wrong, for a person"})
    field_reasons = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        data_key="fields",
        metadata={"description": "per field (parameter or body key): its reasons"},
    )


class ErrorSchema(Schema):
    """The one error format every endpoint of every service uses."""

    error = fields.Nested(ErrorDetailSchema, required=True)


def doc(
    summary: str,
    *,
    tags=(),
    query: type[Schema] | None = None,
    body: type[Schema] | None = None,
    response: type[Schema] | None = None,
    status: int = 200,
    content: dict | None = None,
    errors: tuple[int, ...] = (),
    headers: dict | None = None,
    conditional: bool = False,
    description: str | None = None,
    extra_parameters: list[dict] | None = None,
):
    """Describe a view for the OpenAPI document. `content` maps media types to schemas when the
    answer is not (only) JSON; `headers` name response headers; `conditional` adds If-None-Match/304;
    `extra_parameters` are OpenAPI parameter objects added as they are (request headers)."""

    def mark(view):
        view.openapi = dict(
            summary=summary,
            tags=list(tags),
            query=query,
            body=body,
            response=response,
            status=status,
            content=content,
            errors=errors,
            headers=headers or {},
            conditional=conditional,
            description=description,
            extra_parameters=list(extra_parameters or ()),
        )
        return view

    return mark


def _operation(endpoint: str, path_params: list[str], op: dict) -> dict:
    params = [{"in": "path", "name": p, "required": True, "schema": {"type": "string"}} for p in path_params]
    if op["query"] is not None:
        params.append({"in": "query", "schema": op["query"]})
    params += op.get("extra_parameters") or []
    if op["conditional"]:
        params.append(
            {
                "in": "header",
                "name": "If-None-Match",
                "required": False,
                "schema": {"type": "string"},
                "description": "an ETag from an earlier answer: 304 while it still holds",
            }
        )
    content = op["content"] or {"application/json": {"schema": op["response"] or {"type": "object"}}}
    if op["content"]:
        content = {mt: {"schema": s} for mt, s in op["content"].items()}
    ok = {"description": "OK", "content": content}
    if op["headers"]:
        ok["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in op["headers"].items()
        }
    responses: dict = {str(op["status"]): ok}
    statuses = (
        set(op["errors"]) | ({400} if op["query"] is not None else set()) | ({304} if op["conditional"] else set())
    )
    for code in sorted(statuses):
        if code == 304:
            responses["304"] = {"description": _REASONS[304]}
        else:
            responses[str(code)] = {
                "description": _REASONS.get(code, "Error"),
                "content": {"application/json": {"schema": "Error"}},
            }
    responses["500"] = {"description": "Unexpected error", "content": {"application/json": {"schema": "Error"}}}
    operation = {
        "operationId": endpoint.replace(".", "_"),
        "summary": op["summary"],
        "tags": op["tags"],
        "parameters": params,
        "responses": responses,
    }
    if op["description"]:
        operation["description"] = op["description"]
    if op["body"] is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": op["body"]}}}
    return operation


def build_spec(app: Flask, title: str, version: str, description: str) -> dict:
    spec = APISpec(
        title=title,
        version=version,
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        info={"description": description},
    )
    spec.components.schema("Error", schema=ErrorSchema)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        op = getattr(view, "openapi", None)
        if op is None:
            continue
        path = _PATH_PARAM.sub(r"{\1}", rule.rule)
        methods = sorted(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
        spec.path(
            path=path, operations={m: _operation(rule.endpoint, _PATH_PARAM.findall(rule.rule), op) for m in methods}
        )
    return spec.to_dict()


def install_openapi(app: Flask, title: str, version: str, description: str) -> None:
    """Serve the document at /openapi.json, built once from the routes registered by then."""
    built: dict = {}

    @app.get("/openapi.json")
    def openapi_document():
        if not built:
            built.update(build_spec(app, title, version, description))
        return jsonify(built)
