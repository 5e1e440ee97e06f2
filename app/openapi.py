"""The OpenAPI document of the JSON API (``GET /api/openapi.json``), generated from the routes' marshmallow schemas.

To document a route, add one ``Operation`` to ``OPERATIONS``: its Flask endpoint, the schema of
each success by status, the error statuses it can answer beyond its blueprint's defaults, and
the schemas of its query string and body. Paths, methods, path parameters (from the URL
converters) and descriptions (from the view's docstring) are read from the app, so an entry
never repeats the route. ``tests/app/test_openapi.py`` fails for any rule under ``/api/`` that
has no entry, and the contract test runs schemathesis against the document.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema
from werkzeug.routing import IntegerConverter, PathConverter, Rule, parse_converter_args

from app.api.bulk import GZIP, BulkListSchema
from app.api.changes import ChangeArgs, ChangeFeedSchema
from app.api.lists import XLSX_TYPE, CatalogueSchema, EntryPageSchema, ListArgs
from app.api.objections import ObjectionBody, ObjectionPageSchema, SubmittedObjectionSchema
from app.api.schemas import ProfileSchema
from app.api.search import PageSchema, SearchArgs
from app.api.sources import SourceListSchema
from app.errors import ErrorSchema
from app.health import HealthSchema
from app.regulator import (
    AnswerBody, EarlyRemovalBody, EntryOut, FlagBody, ObjectionOut, ObjectionOutPage, RemovalBody, WithdrawalBody,
)
from app.regulator_records import CorrectionBody, DossierOut, RepairBody, RepairedOut
from blacklist.bulk import FILE_NAMES as BULK_FILES
from blacklist.catalogue import default_catalogue
from blacklist.objections import STATUSES as OBJECTION_STATUSES

bp = Blueprint("openapi", __name__)
_KEY = "gongxin.openapi"
JSON = "application/json"
TEXT = {"type": "string"}


@dataclass(frozen=True)
class Answer:
    """A documented success: its JSON body schema, any other media types, and its headers."""

    schema: type[Schema] | None
    media: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    headers: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    description: str = "OK"


@dataclass(frozen=True)
class Operation:
    """One documented endpoint: successes by status, error statuses, query-string and body schemas."""

    endpoint: str
    answers: Mapping[int, type[Schema] | Answer]
    errors: tuple[int, ...] = ()
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    parameters: tuple[dict[str, Any], ...] = ()  # what no schema can hold: a repeated query argument, a header
    path: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # more of a path parameter than its converter says


@dataclass(frozen=True)
class Defaults:
    """What every operation of a blueprint shares."""

    tag: str
    errors: tuple[int, ...] = ()
    headers: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    secured: bool = False


def header(description: str, required: bool = True, **schema: Any) -> dict[str, Any]:
    """A documented response header."""
    return {"description": description, "required": required, "schema": schema or TEXT}


REQUEST_ID = {"X-Request-Id": header("the request's X-Request-Id when it is plain text, else a new id; the audit "
                                     "event records it")}
CREATED = {"Location": header("where the new resource is read")}
EXPORT = {
    "X-Total-Count": header("entries matching the query (exports only)", False, type="integer"),
    "X-Export-Limit": header("the most entries one export holds (exports only)", False, type="integer"),
    "X-Export-Truncated": header("true when the file holds only the first X-Export-Limit entries (exports only)",
                                 False, type="string", enum=["true", "false"]),
    "Content-Disposition": header("attachment with the file name (exports only)", False),
}
CACHED = {"ETag": header("a strong validator of this body"),
          "Last-Modified": header("an upper bound of when what the public sees last changed"),
          "Cache-Control": header("how long a cache may reuse the answer")}
CONDITIONAL = tuple({"in": "header", "name": name, "required": False, "schema": TEXT, "description": text}
                    for name, text in (("If-None-Match", "ETags the client holds: 304 when one still matches"),
                                       ("If-Modified-Since", "an HTTP date: 304 when nothing changed since")))
HEALTH = Answer(HealthSchema, description="the same body when healthy (200) and unhealthy (503)")
FLAG = {"in": "query", "name": "flag", "style": "form", "explode": True, "required": False,
        "description": "only entities on every one of these lists (repeat the parameter; at most 10 count)",
        "schema": {"type": "array", "items": {"type": "string"}}}
OBJECTION_STATUS = {"in": "query", "name": "status", "required": False, "description": "which objections",
                    "schema": {"type": "string", "enum": list(OBJECTION_STATUSES), "default": "open"}}
ERRORS: dict[int, str] = {
    400: "a malformed identifier or argument, or a body that is not a JSON object",
    401: "no token, or an unknown or revoked one",
    403: "outside the token's lists, region or agency",
    404: "no such entity, list or record",
    413: "a body over 64 KiB",
    422: "a body field is invalid, or a rule of the list refuses the action (``field`` names the field)",
    429: "over the rate limit: try again after Retry-After seconds",
    503: "the search index is missing or being rebuilt",
}
ERROR_HEADERS: dict[int, dict[str, dict[str, Any]]] = {
    401: {"WWW-Authenticate": header('Bearer realm="gongxin", with error="invalid_token" when one was presented')},
    429: {"Retry-After": header("seconds until a request may pass", type="integer", minimum=1)},
}
DEFAULTS = {
    "health": Defaults("operations"),
    "openapi": Defaults("operations", errors=(429,)),
    "api": Defaults("public", errors=(429,)),
    "regulator": Defaults("regulator", errors=(401,), headers=REQUEST_ID, secured=True),
}

WRITE = (400, 403, 404, 413, 422)  # a regulator's write: bad body, out of scope, unknown record, too large, refused

# One entry per documented endpoint; the routes' own schemas, nothing written twice.
OPERATIONS: tuple[Operation, ...] = (
    Operation("health.healthz", {200: HEALTH, 503: HEALTH}),
    Operation("openapi.document", {200: Answer(None, {JSON: {"schema": {"type": "object"}}}, description="this document")}),
    Operation("api.entity", {200: Answer(ProfileSchema, headers=CACHED), 304: Answer(None, headers=CACHED,
                                                                                    description="not modified")},
              errors=(400, 404), parameters=CONDITIONAL),
    Operation("api.changes", {200: ChangeFeedSchema}, errors=(400,), query=ChangeArgs),
    Operation("api.sources", {200: SourceListSchema}),
    Operation("api.bulk_dumps", {200: BulkListSchema}),
    Operation("api.bulk_file", {
        200: Answer(None, {GZIP: {"schema": {"type": "string", "format": "binary"}}}, {
            "ETag": header("the file's SHA-256, as its manifest gives it"),
            "Content-Length": header("bytes of the gzipped file", type="integer", minimum=0),
            "Last-Modified": header("when the file was written"),
            "Cache-Control": header("how long a cache may reuse the file"),
            "Content-Disposition": header("attachment with the file name")}, "the gzipped file"),
        304: Answer(None, headers={"ETag": header("the file's SHA-256"),
                                   "Cache-Control": header("how long a cache may reuse the file")},
                    description="not modified")},
        errors=(404,), parameters=CONDITIONAL,
        path={"date": {"pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}, "file": {"enum": list(BULK_FILES)}}),
    Operation("api.search_entities", {200: PageSchema}, errors=(400, 503), query=SearchArgs, parameters=(FLAG,)),
    Operation("api.lists", {200: CatalogueSchema}),
    Operation("api.list_entries", {200: Answer(EntryPageSchema, {
        "text/csv": {"schema": TEXT}, XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
    }, EXPORT, "a JSON page, or the whole list as CSV (in the asked encoding) or XLSX")}, errors=(400, 404),
        query=ListArgs, path={"list_id": {"enum": list(default_catalogue().ids)}}),
    Operation("api.submit_objection", {201: Answer(SubmittedObjectionSchema, headers=CREATED)},
              errors=(400, 404, 413, 422), body=ObjectionBody),
    Operation("api.entity_objections", {200: ObjectionPageSchema}, errors=(400, 404)),
    Operation("regulator.flag", {201: Answer(EntryOut, headers=CREATED)}, errors=WRITE,
              body=FlagBody),
    Operation("regulator.listing", {200: EntryOut}, errors=(403, 404)),
    Operation("regulator.removal", {200: EntryOut}, errors=WRITE, body=RemovalBody),
    Operation("regulator.withdrawal", {200: EntryOut}, errors=WRITE, body=WithdrawalBody),
    Operation("regulator.early_removal", {201: Answer(EntryOut, headers=CREATED)}, errors=WRITE,
              body=EarlyRemovalBody),
    Operation("regulator.objections", {200: ObjectionOutPage}, errors=(400,), parameters=(OBJECTION_STATUS,)),
    Operation("regulator.answer", {200: ObjectionOut}, errors=WRITE, body=AnswerBody),
    Operation("regulator.repair", {201: RepairedOut}, errors=WRITE, body=RepairBody),
    Operation("regulator.correct", {200: EntryOut}, errors=WRITE, body=CorrectionBody),
    Operation("regulator.entity_view", {200: DossierOut}, errors=(400, 403, 404)),
)


@bp.get("/api/openapi.json")
@bp.get("/api/v1/openapi.json")
def document() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of the JSON API."""
    return jsonify(openapi_document(current_app))


def openapi_document(app: Flask) -> dict[str, Any]:
    """The app's document, built on first use and kept (the routes do not change once the app serves)."""
    if _KEY not in app.extensions:
        app.extensions[_KEY] = build_document(app)
    return app.extensions[_KEY]  # type: ignore[no-any-return]


def build_document(app: Flask) -> dict[str, Any]:
    """Every operation of ``OPERATIONS`` on each of its rules; KeyError for an entry with no route."""
    spec = APISpec("Gongxin API", version("gongxin"), "3.1.0", plugins=[_Plugin()], info={"description": (
        "公信开放接口：企业信用档案、搜索、信用名单（JSON、CSV、XLSX）、异议，以及监管部门凭令牌写入名单。"
        "错误一律为 JSON：{\"error\": {\"code\": …, \"message\": …}}。")})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "description": (
        "a regulator token (gx_…) issued with `gongxin tokens issue`, bound to an agency, lists and a region")})
    spec.components.schema("Error", schema=ErrorSchema)
    rules = _rules_by_endpoint(app)
    for op in OPERATIONS:
        for rule in rules[op.endpoint]:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                spec.path(path=openapi_path(rule), operations={method.lower(): _operation(app, op, rule)})
    document = spec.to_dict()
    _require_dumped_fields(document)
    _without_null_arguments(document)
    return document


def openapi_path(rule: Rule) -> str:
    """``/api/v1/entities/<path:identifier>`` → ``/api/v1/entities/{identifier}``."""
    return _VARIABLE.sub(lambda m: "{" + m.group("name") + "}", rule.rule)


_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")


def _rules_by_endpoint(app: Flask) -> dict[str, list[Rule]]:
    rules: dict[str, list[Rule]] = {}
    for rule in app.url_map.iter_rules():
        rules.setdefault(rule.endpoint, []).append(rule)
    return rules


def _operation(app: Flask, op: Operation, rule: Rule) -> dict[str, Any]:
    defaults = DEFAULTS[op.endpoint.partition(".")[0]]
    summary, _, description = inspect.getdoc(app.view_functions[op.endpoint]).partition("\n")  # type: ignore[arg-type]
    parameters = list(_path_parameters(app, op, rule)) + list(op.parameters)
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    operation: dict[str, Any] = {"operationId": op.endpoint.replace(".", "_"), "tags": [defaults.tag],
                                 "summary": summary, "parameters": parameters,
                                 "responses": _responses(op, defaults)}
    if description.strip():
        operation["description"] = description.strip()
    if op.body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": op.body}}}
    if defaults.secured:
        operation["security"] = [{"bearer": []}]
    return operation


def _path_parameters(app: Flask, op: Operation, rule: Rule) -> Iterator[dict[str, Any]]:
    """The rule's variables, typed by their converters: what the route matches, nothing more."""
    for match in _VARIABLE.finditer(rule.rule):
        kwargs = parse_converter_args(match.group("args"))[1] if match.group("args") else {}
        converter = app.url_map.converters[match.group("converter") or "default"]
        if issubclass(converter, IntegerConverter):
            schema: dict[str, Any] = {"type": "integer", "minimum": kwargs.get("min", 0)}
            maximum = kwargs.get("max", getattr(converter, "maximum", None))
            if maximum is not None:
                schema["maximum"] = maximum
        elif issubclass(converter, PathConverter):
            schema = {"type": "string", "minLength": 1}
        else:
            schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
        yield {"in": "path", "name": match.group("name"), "required": True,
               "schema": schema | dict(op.path.get(match.group("name"), {}))}


def _responses(op: Operation, defaults: Defaults) -> dict[str, Any]:
    """The successes with their schemas, then every error status with the error body."""
    responses: dict[str, Any] = {}
    for status, answer in op.answers.items():
        answer = answer if isinstance(answer, Answer) else Answer(answer)
        content = ({JSON: {"schema": answer.schema}} if answer.schema else {}) | dict(answer.media)
        responses[str(status)] = _response(answer.description, content, {**defaults.headers, **answer.headers})
    for status in sorted(set(defaults.errors + op.errors)):
        headers = dict(defaults.headers)
        if status == 404:
            # A path that matches no route (an id out of the converter's range) never reaches the blueprint.
            headers = {name: {**value, "required": False} for name, value in headers.items()}
        responses[str(status)] = _response(ERRORS[status], {JSON: {"schema": ErrorSchema}},
                                           headers | ERROR_HEADERS.get(status, {}))
    return responses


def _response(description: str, content: dict[str, Any], headers: dict[str, Any]) -> dict[str, Any]:
    return {"description": description} | ({"content": content} if content else {}) | (
        {"headers": headers} if headers else {})


def _require_dumped_fields(document: dict[str, Any]) -> None:
    """Mark every field of a response schema required, unless the schema names its required fields itself.

    Dump schemas are allowlists: every field they list is in the body (null where the schema
    allows it). A schema whose body leaves some fields out marks the others ``required=True``.
    """
    schemas = document["components"]["schemas"]
    for name in _reached(document["paths"], schemas):
        schema = schemas[name]
        if "properties" in schema and "required" not in schema:
            schema["required"] = list(schema["properties"])


def _without_null_arguments(document: dict[str, Any]) -> None:
    """A query string has no null: an argument left out takes its default, so ``load_default=None`` is no type."""
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                kinds = parameter["schema"].get("type")
                if parameter["in"] == "query" and isinstance(kinds, list) and "null" in kinds:
                    rest = [kind for kind in kinds if kind != "null"]
                    parameter["schema"]["type"] = rest[0] if len(rest) == 1 else rest
                    if parameter["schema"].get("default", "") is None:
                        del parameter["schema"]["default"]


def _reached(paths: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """The component schemas a response body refers to, directly or through other components."""
    seen: set[str] = set()
    pending: list[Any] = [op["responses"] for item in paths.values() for op in item.values()]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            name = node.get("$ref", "").removeprefix("#/components/schemas/")
            if name in schemas and name not in seen:
                seen.add(name)
                pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return seen


class _Converter(OpenAPIConverter):
    """apispec's converter, with each schema's docstring as its description."""

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)
        doc = inspect.getdoc(schema if isinstance(schema, type) else type(schema))
        if doc and doc != inspect.getdoc(Schema):
            jsonschema.setdefault("description", doc)
        return jsonschema


class _Plugin(MarshmallowPlugin):
    """The marshmallow plugin with our converter, names and patterns."""

    Converter = _Converter

    def __init__(self) -> None:
        super().__init__(schema_name_resolver=schema_name)

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        assert self.converter is not None
        self.converter.add_attribute_function(_json_pattern)


def schema_name(schema: Any) -> str:
    """``ProfileSchema`` → ``Profile``; a nested schema that leaves fields out says which."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    excluded = () if isinstance(schema, type) else sorted(schema.exclude)
    return name + ("Without" + "".join(n.title().replace("_", "") for n in excluded) if excluded else "")


def _json_pattern(self: OpenAPIConverter, field: Any, ret: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """A marshmallow Regexp (``re.match``, maybe ending in Python's ``\\Z``) as an anchored JSON Schema pattern."""
    pattern = ret.get("pattern")
    if not isinstance(pattern, str):
        return {}
    body = pattern.removeprefix("^")
    body = body.removesuffix("\\Z") + "$" if body.endswith("\\Z") else body
    return {"pattern": "^" + body}

