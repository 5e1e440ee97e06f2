"""One place that maps domain errors and HTTP errors to JSON error bodies."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from blacklist.errors import ListQueryError, UnknownListError
from credit.errors import EntityNotFoundError, MalformedIdentifierError
from search_index.errors import IndexBusy, IndexMismatch, IndexMissing, QueryError


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    """The JSON error body every endpoint uses."""
    return jsonify({"error": {"code": code, "message": message}}), status


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

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or "")
