"""One place that maps domain errors and HTTP errors to JSON error bodies."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from app.ratelimit import RateLimited
from app.bodies import InvalidBody
from blacklist.actions import InvalidAction, NotFound, OutOfScope
from blacklist.errors import InvalidObjection, ListQueryError, UnknownListError
from blacklist.tokens import AuthenticationError, MissingToken
from credit.errors import EntityNotFoundError, MalformedIdentifierError
from search_index.errors import IndexBusy, IndexMismatch, IndexMissing, QueryError


class ErrorDetailSchema(Schema):
    """What went wrong: a stable code for programs, a message in Chinese for people, the field at fault (422)."""

    code = fields.String(required=True)
    message = fields.String(required=True)
    field = fields.String(metadata={"description": "the body field or argument at fault, when there is one"})


class ErrorSchema(Schema):
    """The JSON error body of every API error: ``{"error": {"code": …, "message": …}}``."""

    error = fields.Nested(ErrorDetailSchema, required=True)


_error = ErrorSchema()


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    """The JSON error body every endpoint uses."""
    return jsonify(_error.dump({"error": {"code": code, "message": message}})), status


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(MalformedIdentifierError)
    def _malformed(exc: MalformedIdentifierError) -> tuple[Response, int]:
        return error_response(400, "malformed_identifier", f"标识符格式错误：{exc}")

    @app.errorhandler(EntityNotFoundError)
    def _not_found(exc: EntityNotFoundError) -> tuple[Response, int]:
        return error_response(404, "not_found", f"未找到该主体：{exc.identifier}")

    @app.errorhandler(QueryError)
    def _bad_query(exc: QueryError) -> tuple[Response, int]:
        return error_response(400, "invalid_query", str(exc))

    @app.errorhandler(UnknownListError)
    def _unknown_list(exc: UnknownListError) -> tuple[Response, int]:
        return error_response(404, "unknown_list", f"未知名单：{exc.list_id}；已有名单：{'、'.join(exc.known)}")

    @app.errorhandler(ListQueryError)
    def _bad_list_query(exc: ListQueryError) -> tuple[Response, int]:
        return error_response(400, "invalid_argument", f"参数 {exc.argument} 无效：{exc.problem}")

    @app.errorhandler(IndexMissing)
    @app.errorhandler(IndexMismatch)
    @app.errorhandler(IndexBusy)
    def _index_unavailable(exc: Exception) -> tuple[Response, int]:
        return error_response(503, "search_unavailable", f"搜索暂不可用：{exc}")

    _init_regulator(app)
    _init_objections(app)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "error").lower().replace(" ", "_")
        response, status = error_response(exc.code or 500, code, exc.description or "")
        # Keep what the exception says beyond its HTML body: Allow on a 405 (RFC 9110), Retry-After, …
        response.headers.extend((name, value) for name, value in exc.get_headers() if name.lower() != "content-type")
        return response, status


def _init_regulator(app: Flask) -> None:
    """The regulator API's errors: 401 with a Bearer challenge, 403 out of scope, 404, 422 with the field."""

    @app.errorhandler(AuthenticationError)
    def _unauthorised(exc: AuthenticationError) -> tuple[Response, int]:
        response, status = error_response(401, "unauthorized", str(exc))
        # RFC 6750: a presented but unusable token is "invalid_token"; none at all gets the bare challenge.
        error = "" if isinstance(exc, MissingToken) else ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = f'Bearer realm="gongxin"{error}'
        return response, status

    @app.errorhandler(OutOfScope)
    def _out_of_scope(exc: OutOfScope) -> tuple[Response, int]:
        return error_response(403, "out_of_scope", str(exc))

    @app.errorhandler(NotFound)
    def _action_not_found(exc: NotFound) -> tuple[Response, int]:
        return error_response(404, "not_found", str(exc))

    @app.errorhandler(InvalidAction)
    def _refused(exc: InvalidAction) -> tuple[Response, int]:
        return _field_error("invalid_value" if exc.field else "refused", str(exc), exc.field)

    @app.errorhandler(InvalidBody)
    def _invalid_body(exc: InvalidBody) -> tuple[Response, int]:
        return _field_error("invalid_body", f"字段 {exc.field} 无效：{exc.problem}", exc.field)


def _init_objections(app: Flask) -> None:
    """Objections: 422 naming the field (or the rule refused); 429 over a rate limit, with Retry-After."""

    @app.errorhandler(InvalidObjection)
    def _invalid_objection(exc: InvalidObjection) -> tuple[Response, int]:
        return _field_error("invalid_value" if exc.field else "refused", str(exc), exc.field)

    @app.errorhandler(RateLimited)
    def _rate_limited(exc: RateLimited) -> tuple[Response, int]:
        response, status = error_response(429, "rate_limited", f"请求过于频繁，请 {exc.retry_after} 秒后再试")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response, status


def _field_error(code: str, message: str, field: str | None) -> tuple[Response, int]:
    """A 422 body that also names the field at fault, when there is one."""
    error: dict[str, str] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return jsonify(_error.dump({"error": error})), 422
