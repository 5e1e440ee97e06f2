"""``/search``: results with the matched fragments highlighted, filters and pagination.

A query that cannot be searched (empty, one character, too long, a bad filter) is answered on
the same page with a message saying why, never with an error page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from app import search as search_index
from app import store
from app.api.search import parse_search_args
from app.pages import bp
from app.pages.formatting import highlighted, region
from app.pages.paging import Pager, make_pager
from app.pages.profile import flag_badges
from app.pages.queries import reg_nos
from app.pages.view import Badge
from blacklist.catalogue import default_catalogue
from search_index.errors import QueryError
from search_index.index import SearchPage
from search_index.query import MAX_DEPTH

KEPT = ("q", "region", "status", "flag", "per_page")  # what every page link carries over
STATUS_CHOICES = (("", "全部状态"), ("active", "在营（存续、在业等）"), ("inactive", "非在营（注销、吊销等）"))
ECHO_LIMIT = 200  # characters of the query written back into the search box


@dataclass(frozen=True)
class HitView:
    """One result line."""

    name: Markup
    identifier: str
    uscc: str
    status: str
    region: str
    badges: tuple[Badge, ...]


@bp.get("/search")
def search() -> ResponseReturnValue:
    """One page of results for ``q`` with the filters, or a message saying why there are none."""
    form = {name: request.args.get(name, "")[:ECHO_LIMIT] for name in KEPT}
    context: dict[str, Any] = {"form": form, "statuses": STATUS_CHOICES, "lists": default_catalogue().lists}
    if not form["q"].strip():
        return render_template("search.html", message="请输入企业名称、统一社会信用代码或注册号", **context)
    try:
        page = search_index.index().search(parse_search_args(request.args))
    except QueryError as exc:
        return render_template("search.html", message=str(exc), invalid=True, **context), 400
    return render_template("search.html", page=page, hits=_hits(page), pager=_pager(page), **context)


def _hits(page: SearchPage) -> list[HitView]:
    """The hits as lines to draw; entities without a USCC link by their registration number."""
    others = reg_nos(store.session(), [h.entity_id for h in page.hits if not h.uscc])
    catalogue = default_catalogue()
    return [HitView(highlighted(h.name, h.highlights), h.uscc or others.get(h.entity_id, ""), h.uscc or "",
                    h.status or "", region(h.region), flag_badges(h.flags, catalogue)) for h in page.hits]


def _pager(page: SearchPage) -> Pager:
    """Page links that keep the query and every filter."""
    kept: dict[str, Any] = {name: request.args.get(name) for name in KEPT if request.args.get(name)}
    flags = [f for f in request.args.getlist("flag") if f]
    if flags:
        kept["flag"] = flags
    # A lower-bound total means at least one more match: the pager offers the page after it.
    return make_pager(page.total + (not page.total_exact), page.page, page.per_page,
                      lambda n: url_for("pages.search", **kept, page=n), max_pages=MAX_DEPTH // page.per_page)

