"""Error pages in Chinese for the public pages; the API keeps its JSON errors (``app.errors``)."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from app.errors import error_response
from app.pages import bp
from app.pages.formatting import identifier_problem
from blacklist.errors import UnknownListError
from credit.errors import EntityNotFoundError, MalformedIdentifierError
from search_index.errors import IndexBusy, IndexMismatch, IndexMissing

API_PREFIX = "/api/"


def error_page(status: int, title: str, message: str, search: str = "") -> ResponseReturnValue:
    """The error page: what went wrong, and a search box to go on from there."""
    return render_template("error.html", status=status, title=title, message=message, search=search), status


@bp.errorhandler(MalformedIdentifierError)
def _malformed(exc: MalformedIdentifierError) -> ResponseReturnValue:
    return error_page(400, "标识符格式错误", identifier_problem(exc.validation), search=exc.validation.value[:60])


@bp.errorhandler(EntityNotFoundError)
def _not_found(exc: EntityNotFoundError) -> ResponseReturnValue:
    return error_page(404, "未找到该主体",
                      f"没有统一社会信用代码、注册号或组织机构代码为“{exc.identifier[:60]}”的主体。"
                      "可以按企业名称搜索。")


@bp.errorhandler(UnknownListError)
def _unknown_list(exc: UnknownListError) -> ResponseReturnValue:
    return error_page(404, "未知名单", f"没有编号为“{exc.list_id[:60]}”的名单，请从名单目录中选择。")


@bp.errorhandler(IndexMissing)
@bp.errorhandler(IndexMismatch)
@bp.errorhandler(IndexBusy)
def _search_unavailable(_exc: Exception) -> ResponseReturnValue:
    return error_page(503, "搜索暂不可用", "搜索索引正在建立或维护中，请稍后再试；也可以直接输入统一社会信用代码查看企业信息。")


def init_app(app: Flask) -> None:
    """Pages that do not exist get a Chinese page; paths under /api/ keep the JSON error."""

    @app.errorhandler(NotFound)
    def _no_such_page(exc: NotFound) -> ResponseReturnValue:
        if request.path.startswith(API_PREFIX):
            return error_response(404, "not_found", exc.description or "")
        return error_page(404, "页面不存在", "您访问的页面不存在，可以从首页搜索企业或浏览名单。")
